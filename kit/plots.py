"""Pictures of an extraction: target and stolen decision regions on a 2-D data set.

The target's regions are tinted by class and its boundary is a thick solid dark line; the stolen
boundary is drawn on top of it, dashed in yellow with a dark edge, so that a perfect copy shows as
yellow dashes running along the dark line instead of vanishing into it.  Figures are built once and
updated in place (:meth:`BoundaryPlot.update`); :class:`LiveFigure` then redraws only what changed,
so that widgets can move a slider and see the new picture at once.
"""

from __future__ import annotations

import itertools

import contourpy
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .features import CATEGORICAL

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
"""A palette that colour-blind readers can tell apart (Okabe and Ito, 2008)."""

REGION_ALPHA = 0.4
DISAGREEMENT_COLOUR = "#333333"
DISAGREEMENT_ALPHA = 0.55
TARGET_STYLE = {"colors": "#000000", "linewidths": 3.5, "capstyle": "round"}
"""The target's boundary: solid, thick, dark."""
STOLEN_COLOUR = OKABE_ITO[3]
STOLEN_STYLE = {
    "colors": STOLEN_COLOUR, "linewidths": 1.8, "linestyles": (0, (3.5, 2.5)),
    "path_effects": [patheffects.withStroke(linewidth=3.6, foreground="#000000")],
}
"""The stolen boundary: yellow dashes with a dark edge, visible on the target's line and off it."""
DATA_SHOWN = 200
"""How many test rows ``data=True`` draws."""


def _class_index(labels, classes):
    """Position of each label in ``classes``."""
    return (np.asarray(labels)[:, None] == np.asarray(classes)[None, :]).argmax(axis=1)


def _boundary_lines(xs, ys, regions, n_classes):
    """The borders between each pair of class regions on a grid, as lists of points.

    Each border is traced once, from a field that is 1 in one class, 0 in the other and masked
    elsewhere, so that a dashed line is not drawn twice out of step (which would look solid).
    """
    lines = []
    for first, second in itertools.combinations(range(n_classes), 2):
        pair = np.ma.masked_array(regions == first, mask=(regions != first) & (regions != second), dtype=float)
        lines += contourpy.contour_generator(xs, ys, pair, line_type="Separate").lines(0.5)
    return lines


def _shading(where):
    """An RGBA image in the disagreement colour where ``where`` is true, transparent elsewhere.

    Ready-made colours, so that a redraw does not normalise and colour-map the grid again.
    """
    image = np.zeros((*where.shape, 4), dtype=np.uint8)
    image[where] = [*(int(DISAGREEMENT_COLOUR[i:i + 2], 16) for i in (1, 3, 5)), round(255 * DISAGREEMENT_ALPHA)]
    return image


class BoundaryPlot:
    """Target regions (tinted) and boundary (solid dark), stolen boundary (yellow dashes on top),
    their disagreement (dark shading), the attack's queries (crosses) and, if asked, test rows
    coloured by their true class, with a key naming each of them.

    Build it with :func:`plot_boundaries`; change it with :meth:`update`.

    Attributes
    ----------
    target_regions, stolen_regions : ndarray of shape (resolution, resolution)
        Class index each model predicts on the picture's grid (``stolen_regions`` is None without a stolen model).
    disagreement : float
        The fraction of the grid where they differ (NaN without a stolen model); 0 means the stolen
        boundary lies on the target's everywhere in the picture.
    target_boundary, stolen_boundary : LineCollection
    disagreement_shading : AxesImage
    query_marks, data_points : PathCollection
    legend : Legend
    """

    def __init__(self, target, dataset, ax, resolution, data=False):
        if len(dataset.features) != 2 or any(f.kind == CATEGORICAL for f in dataset.features):
            raise ValueError(
                f"plot_boundaries needs a data set with 2 continuous features (circles, moons, blobs); "
                f"{dataset.name!r} has {len(dataset.features)}"
            )
        self.ax = ax
        self.figure = ax.figure
        self.classes = list(dataset.classes)
        (x_low, y_low), (x_high, y_high) = [[getattr(f, end) for f in dataset.features] for end in ("low", "high")]
        margin = 0.05 * max(x_high - x_low, y_high - y_low)
        self.extent = (x_low - margin, x_high + margin, y_low - margin, y_high + margin)
        self._xs = np.linspace(self.extent[0], self.extent[1], resolution)
        self._ys = np.linspace(self.extent[2], self.extent[3], resolution)
        xx, yy = np.meshgrid(self._xs, self._ys)
        self._grid = np.column_stack([xx.ravel(), yy.ravel()])
        self.target_regions = self._regions(target)
        self.stolen_regions = None
        self.disagreement = float("nan")
        colours = OKABE_ITO[:len(self.classes)]
        image = {"extent": self.extent, "origin": "lower", "aspect": "auto", "interpolation": "nearest"}
        ax.imshow(self.target_regions, cmap=ListedColormap(colours), vmin=0, vmax=len(colours) - 1,
                  alpha=REGION_ALPHA, **image)
        self.disagreement_shading = ax.imshow(_shading(np.zeros(xx.shape, dtype=bool)), **image)
        rows = np.random.default_rng(0).permutation(len(dataset.X_test))[:DATA_SHOWN]
        true_class = _class_index(dataset.y_test[rows], self.classes)
        self.data_points = ax.scatter(*dataset.X_test[rows].T, s=12, c=np.array(colours)[true_class],
                                      edgecolors="#000000", linewidths=0.4, zorder=2.5, visible=data)
        self.target_boundary = ax.add_collection(LineCollection(
            self._borders(self.target_regions), zorder=3, **TARGET_STYLE))
        self.stolen_boundary = ax.add_collection(LineCollection([], zorder=4, **STOLEN_STYLE))
        self.query_marks = ax.scatter(np.empty(0), np.empty(0), s=16, marker="x", color="#000000", linewidths=0.9,
                                      zorder=5)
        ax.set_xlim(self.extent[:2])
        ax.set_ylim(self.extent[2:])
        ax.set_aspect("equal")
        ax.set_xlabel(dataset.features[0].name)
        ax.set_ylabel(dataset.features[1].name)
        self.legend = self._add_legend(colours)

    def _regions(self, model):
        """The class index ``model`` predicts at each point of the grid (floats, for contouring)."""
        labels = model.predict(self._grid)
        return _class_index(labels, self.classes).reshape(len(self._ys), len(self._xs)).astype(float)

    def _borders(self, regions):
        return _boundary_lines(self._xs, self._ys, regions, len(self.classes))

    def _add_legend(self, colours):
        """The key, beside the axes: the class colours, then the lines and marks."""
        classes = [Patch(facecolor=colour, alpha=REGION_ALPHA + 0.2, label=f"class {label}")
                   for colour, label in zip(colours, self.classes, strict=True)]
        marks = [
            Line2D([], [], color=TARGET_STYLE["colors"], lw=TARGET_STYLE["linewidths"], label="target boundary"),
            Line2D([], [], color=STOLEN_COLOUR, lw=STOLEN_STYLE["linewidths"], ls=STOLEN_STYLE["linestyles"],
                   path_effects=STOLEN_STYLE["path_effects"], label="stolen boundary"),
            Patch(color=DISAGREEMENT_COLOUR, alpha=DISAGREEMENT_ALPHA, label="they disagree"),
            Line2D([], [], color="#000000", marker="x", ls="", label="queries"),
        ]
        if self.data_points.get_visible():
            marks.append(Line2D([], [], color="#999999", marker="o", ms=4, markeredgecolor="#000000", mew=0.4,
                                ls="", label="test rows (true class)"))
        return self.ax.legend(handles=classes + marks, loc="upper left", bbox_to_anchor=(1.02, 1),
                              borderaxespad=0, fontsize="small", framealpha=0.9)

    def show_data(self, visible=True):
        """Show or hide the sample of test rows (and their entry in the key)."""
        self.data_points.set_visible(visible)
        self.legend.remove()
        self.legend = self._add_legend(OKABE_ITO[:len(self.classes)])

    def update(self, stolen=None, queries=None):
        """Show another stolen model and query set (None clears them); the caller draws the figure.

        Returns
        -------
        float
            The fraction of the grid where target and stolen model disagree (NaN without one).
        """
        self.set_stolen(stolen)
        self.set_queries(queries)
        return self.disagreement

    def set_stolen(self, stolen):
        """Show the boundary of another stolen model (None: none) and where it disagrees with the target."""
        if stolen is None:
            self.stolen_regions = None
            differ = np.zeros(self.target_regions.shape, dtype=bool)
            self.stolen_boundary.set_segments([])
        else:
            self.stolen_regions = self._regions(stolen)
            differ = self.stolen_regions != self.target_regions
            self.stolen_boundary.set_segments(self._borders(self.stolen_regions))
        self.disagreement = float(differ.mean()) if stolen is not None else float("nan")
        self.disagreement_shading.set_data(_shading(differ))
        self.disagreement_shading.set_visible(bool(differ.any()))  # nothing to draw when they agree

    def set_queries(self, queries):
        """Mark other query points (an array of shape (n, 2), a QueryLog, or None for none)."""
        points = np.empty((0, 2)) if queries is None else np.asarray(getattr(queries, "X", queries), dtype=float)
        self.query_marks.set_offsets(points.reshape(-1, 2))

    @property
    def moving_artists(self):
        """The artists :meth:`update` changes (what a :class:`LiveFigure` redraws)."""
        return [self.disagreement_shading, self.stolen_boundary, self.query_marks]


class LiveFigure:
    """Redraw only the artists that move, over a saved picture of the rest (matplotlib's blitting).

    The moving artists are marked animated, so a full draw paints everything else; right after it
    the picture is saved and the moving artists are painted on top.  :meth:`show` restores the saved
    picture and paints the moving artists again: with ipympl only the changed pixels travel to the
    browser, and no full draw (ticks, text, the key) is needed.

    Parameters
    ----------
    figure : matplotlib Figure
    moving : list of Artist
        The artists that change between calls of :meth:`show` (see :meth:`follow`).
    """

    def __init__(self, figure, moving=()):
        self.figure = figure
        self.follow(moving)
        self._background = None
        figure.canvas.mpl_connect("draw_event", self._on_draw)

    def follow(self, moving):
        """Redraw these artists from now on (they are marked animated); call :meth:`show` with ``full=True``."""
        self.moving = list(moving)
        for artist in self.moving:
            artist.set_animated(True)

    @property
    def needs_full_draw(self):
        """True until a full draw has saved the picture behind the moving artists."""
        return self._background is None

    def _on_draw(self, event):
        if event.canvas.is_saving():
            return  # savefig paints animated artists itself, at its own size
        self._background = event.canvas.copy_from_bbox(self.figure.bbox)
        self._paint()

    def _paint(self):
        for artist in self.moving:
            self.figure.draw_artist(artist)

    def show(self, full=False):
        """Show the figure's current state; ``full=True`` after changing anything but the moving artists."""
        canvas = self.figure.canvas
        if full or self.needs_full_draw:
            self._background = None
            canvas.draw_idle()
            return
        canvas.restore_region(self._background)
        self._paint()
        canvas.blit(self.figure.bbox)


def plot_boundaries(target, stolen, dataset, *, queries=None, ax=None, resolution=200, data=False) -> BoundaryPlot:
    """Compare the target's and the stolen model's decision regions on a 2-D data set.

    Parameters
    ----------
    target : fitted estimator
        The secret model (the plot is the teacher's view: it may look at the target).
    stolen : fitted estimator or None
        The extracted model, for instance ``extraction.model``.
    dataset : Dataset
        A data set with two continuous features (circles, moons, blobs).
    queries : array of shape (n, 2), QueryLog or None
        Points the attack sent, drawn as crosses.
    ax : matplotlib Axes or None
        Where to draw (a new figure with constrained layout if None).  The key sits to the right of
        the axes: give their figure ``layout="constrained"`` so that it is not cut off.
    resolution : int
        Grid points per axis.
    data : bool
        Also draw a sample of the test rows (200), coloured by their true class.

    Returns
    -------
    BoundaryPlot
        Keep it to update the picture in place: ``plot.update(stolen, queries)``, then draw the figure.
    """
    if ax is None:
        figure, ax = plt.subplots(figsize=(6.6, 4.6), layout="constrained")
        if hasattr(figure.canvas, "header_visible"):  # ipympl: no "Figure 1" above the picture
            figure.canvas.header_visible = False
    plot = BoundaryPlot(target, dataset, ax, resolution, data=data)
    plot.update(stolen, queries)
    return plot
