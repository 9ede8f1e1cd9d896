"""Pictures of an extraction: target and stolen decision regions on a 2-D data set.

Figures are built once and updated in place (:meth:`BoundaryPlot.update`), so that
widgets can redraw them cheaply while a slider moves.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .features import CATEGORICAL

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
"""A palette that colour-blind readers can tell apart (Okabe and Ito, 2008)."""

DISAGREEMENT_COLOUR = "#333333"


def _class_index(model, X, classes):
    labels = model.predict(X)
    lookup = {label: index for index, label in enumerate(classes)}
    return np.array([lookup[label] for label in labels.tolist()], dtype=float)


def _nothing_shown(shape):
    """An image with every pixel masked (``np.ma.masked_all`` would leave its data uninitialised, maybe NaN)."""
    return np.ma.masked_array(np.zeros(shape), mask=True)


class BoundaryPlot:
    """Target regions (coloured, solid boundary), stolen boundary (dashed), their
    disagreement (dark shading) and the attack's queries (crosses), on one axes.

    Build it with :func:`plot_boundaries`; change it with :meth:`update`.
    """

    def __init__(self, target, dataset, ax, resolution):
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
        xs = np.linspace(self.extent[0], self.extent[1], resolution)
        ys = np.linspace(self.extent[2], self.extent[3], resolution)
        self._xx, self._yy = np.meshgrid(xs, ys)
        self._grid = np.column_stack([self._xx.ravel(), self._yy.ravel()])
        self.target_regions = _class_index(target, self._grid, self.classes).reshape(self._xx.shape)
        n = len(self.classes)
        self._levels = np.arange(n - 1) + 0.5
        image = {"extent": self.extent, "origin": "lower", "aspect": "auto", "interpolation": "nearest"}
        ax.imshow(self.target_regions, cmap=ListedColormap(OKABE_ITO[:n]), vmin=0, vmax=n - 1, alpha=0.45, **image)
        ax.contour(self._xx, self._yy, self.target_regions, levels=self._levels, colors="black", linewidths=1.5)
        self._disagreement = ax.imshow(
            _nothing_shown(self._xx.shape), cmap=ListedColormap([DISAGREEMENT_COLOUR]), vmin=0, vmax=1,
            alpha=0.55, **image,
        )
        self._stolen_lines = None
        self._queries = ax.scatter(np.empty(0), np.empty(0), s=14, marker="x", color="black", linewidths=0.8, zorder=3)
        ax.set_xlim(self.extent[:2])
        ax.set_ylim(self.extent[2:])
        ax.set_xlabel(dataset.features[0].name)
        ax.set_ylabel(dataset.features[1].name)
        ax.legend(handles=[
            Line2D([], [], color="black", lw=1.5, label="target boundary"),
            Line2D([], [], color="black", lw=1.5, ls="--", label="stolen boundary"),
            Patch(color=DISAGREEMENT_COLOUR, alpha=0.55, label="they disagree"),
            Line2D([], [], color="black", marker="x", ls="", label="queries"),
        ], loc="upper right", fontsize="small", framealpha=0.85)
        self.stolen_regions = None

    def update(self, stolen=None, queries=None):
        """Show another stolen model and query set (None clears them); redraw lazily.

        Returns
        -------
        float
            The fraction of the grid where target and stolen model disagree (NaN without one).
        """
        if self._stolen_lines is not None:
            self._stolen_lines.remove()
            self._stolen_lines = None
        if stolen is None:
            self.stolen_regions = None
            self._disagreement.set_data(_nothing_shown(self._xx.shape))
            disagreement = float("nan")
        else:
            self.stolen_regions = _class_index(stolen, self._grid, self.classes).reshape(self._xx.shape)
            differ = self.stolen_regions != self.target_regions
            self._disagreement.set_data(np.ma.masked_where(~differ, np.ones(differ.shape)))
            self._stolen_lines = self.ax.contour(
                self._xx, self._yy, self.stolen_regions, levels=self._levels,
                colors="black", linewidths=1.5, linestyles="dashed",
            )
            disagreement = float(differ.mean())
        points = np.empty((0, 2)) if queries is None else np.asarray(getattr(queries, "X", queries), dtype=float)
        self._queries.set_offsets(points.reshape(-1, 2))
        self.figure.canvas.draw_idle()
        return disagreement


def plot_boundaries(target, stolen, dataset, *, queries=None, ax=None, resolution=200) -> BoundaryPlot:
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
        Where to draw (a new figure if None).
    resolution : int
        Grid points per axis.

    Returns
    -------
    BoundaryPlot
        Keep it to update the picture in place: ``plot.update(stolen, queries)``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    plot = BoundaryPlot(target, dataset, ax, resolution)
    plot.update(stolen, queries)
    return plot
