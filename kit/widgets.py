"""The interactive panel every notebook reuses: steal a 2-D model and watch it happen.

Pick a data set, a secret target and an attack; move the query budget, the API's
confidence rounding and its output kind; see the target's regions (solid dark boundary),
the stolen boundary (yellow dashes drawn over it), where they disagree, the queries sent,
and a readout of queries, dollars at a 2016 price, 1-R_test and 1-R_unif (paper section 3).
A second view plots error against budget, averaged over several runs, as the paper's figures do.

Run ``%matplotlib widget`` first for a live (ipympl) figure: a change redraws only the
artists that move (:class:`kit.plots.LiveFigure`).  With other backends the figure is
shown as a picture that is re-rendered after each change.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .api import BudgetExceeded, PredictionAPI
from .attacks import lowd_meek, lowd_meek_poly, path_finding, retraining
from .attacks.equations import equation_solving
from .data import load_dataset
from .defenses import (
    GaussianNoise,
    LabelsOnly,
    QueryMonitor,
    QueryRefused,
    RefuseIncomplete,
    ReverseSigmoid,
    Rounding,
    honest_loss,
)
from .metrics import agreement
from .plots import OKABE_ITO, LiveFigure, plot_boundaries
from .targets import train_target

PANEL_DATASETS = ("circles", "moons", "blobs")
"""The 2-D data sets the panel can draw."""

SERVICES = {
    "Amazon ($0.10 per 1,000)": 0.0001,
    "Google ($0.50 per 1,000)": 0.0005,
    "BigML, cheapest plan ($0.10 per 1,000)": 0.0001,
    "BigML, dearest plan ($5 per 1,000)": 0.005,
}
"""Dollars per query at the services' 2016 prices (paper section 2.1)."""

DECIMALS = ("none", *range(11))
"""Options of the rounding control: full precision, or 0 to 10 decimals."""

OUTPUTS = (("probabilities", "proba"), ("labels", "label"))

SWEEP_PROMPT = "error vs budget: press the button"


@dataclass(frozen=True)
class AttackChoice:
    """An attack as the panel offers it.

    Attributes
    ----------
    run : callable
        ``run(api, target_kind, budget, random_state) -> Extraction``.
    budgets : tuple of int
        ``(lowest, highest, default)`` positions of the budget slider.
    output : str or None
        The API output the attack needs whatever the toggle says ("leaf" for path
        finding), or None to follow the output-kind toggle.
    runs : int
        How many times (seeds) the error-vs-budget sweep runs it at each budget: fewer for slow attacks.
    """

    run: Callable
    budgets: tuple
    output: str | None = None
    runs: int = 5


def _equation_solving(api, kind, budget, random_state):
    # One start of the network's fit: rounded answers are never fitted exactly, so more starts would all run.
    return equation_solving(api, model=kind, budget=budget, random_state=random_state, restarts=1)


def _path_finding(method):
    def run(api, kind, budget, random_state):
        return path_finding(api, method=method, budget=budget, random_state=random_state)
    return run


def _lowd_meek(api, kind, budget, random_state):
    return lowd_meek(api, budget=budget, random_state=random_state)


def _lowd_meek_poly(api, kind, budget, random_state):
    return lowd_meek_poly(api, budget=budget, random_state=random_state)


RETRAINED_AS = {"ovr": "softmax", "tree": "rbf-svm", "poly-svm": "rbf-svm", "kernel-logreg": "rbf-svm"}
"""The model class retraining fits for a target kind it has no class of its own for."""


def _retraining(strategy):
    def run(api, kind, budget, random_state):
        model = RETRAINED_AS.get(kind, kind)
        return retraining(api, strategy=strategy, model=model, budget=budget, random_state=random_state)
    return run


ATTACKS = {
    "equation solving": AttackChoice(_equation_solving, (1, 400, 20)),
    "path finding (top-down)": AttackChoice(_path_finding("top-down"), (10, 10_000, 300), output="leaf"),
    "path finding (bottom-up)": AttackChoice(_path_finding("bottom-up"), (10, 10_000, 300), output="leaf"),
    "Lowd-Meek": AttackChoice(_lowd_meek, (10, 200, 100)),
    "Lowd-Meek (polynomial kernel)": AttackChoice(_lowd_meek_poly, (10, 300, 150)),
    "retraining (uniform)": AttackChoice(_retraining("uniform"), (10, 1000, 100)),
    "retraining (line search)": AttackChoice(_retraining("line-search"), (10, 1000, 100)),
    "retraining (adaptive)": AttackChoice(_retraining("adaptive"), (10, 1000, 100), runs=3),
}
"""The attacks the panel offers, by the name shown in its picker."""


@dataclass(frozen=True)
class SweepPoint:
    """The error at one budget of :meth:`ExtractionPanel.sweep`, over several runs of the attack.

    Attributes
    ----------
    budget : int
        The budget each run was given.
    queries : float
        Queries the runs used, on average.
    test, uniform : float
        Mean R_test and R_unif (1 - agreement) over the runs.
    test_range, uniform_range : tuple of float
        Their lowest and highest values over the runs (the band drawn around the mean).
    runs : int
        Runs whose attack succeeded (each with its own seed).
    """

    budget: int
    queries: float
    test: float
    uniform: float
    test_range: tuple = field(repr=False)
    uniform_range: tuple = field(repr=False)
    runs: int


def _figure_view(figure):
    """The figure's ipympl canvas under ``%matplotlib widget``, else a picture of it."""
    canvas = figure.canvas
    if isinstance(canvas, widgets.DOMWidget):
        canvas.header_visible = False
        canvas.toolbar_visible = False
        return canvas
    return widgets.Image(format="png")


class ExtractionPanel(widgets.VBox):
    """Steal a model on a 2-D data set through a prediction API, interactively.

    Parameters
    ----------
    dataset : {"circles", "moons", "blobs"}
        The data set shown first.
    target : str
        The secret model's kind (see :data:`kit.targets.TARGET_KINDS`).
    attack : str or None
        A key of ``attacks`` (None: the first).
    targets : sequence of str
        The target kinds offered in the picker.
    attacks : dict of str to AttackChoice or None
        The attacks offered (None: all of :data:`ATTACKS`).
    budget : int or None
        The starting query budget (None: the attack's default).
    decimals : "none" or int
        The API's starting confidence rounding.
    output : {"proba", "label"}
        What the API returns at first: confidences with the label, or the label only.
    service : str
        A key of :data:`SERVICES`: whose 2016 price the readout charges.
    random_state : int
        Seeds the data split, the target's training and the attack.
    resolution : int
        Grid points per axis of the boundary plot.
    data : bool
        Show a sample of the test rows, coloured by true class, at first.

    Attributes
    ----------
    extraction : Extraction or None
        The latest attack's result: ``extraction.queries``, ``extraction.cost``, ``extraction.model``
        (None if the attack failed; ``message`` says why).
    result : Agreement or None
        Its agreement with the target: ``result.test`` is 1-R_test, ``result.uniform`` is 1-R_unif.
    message : str or None
        Why there is no stolen model, when there is none.
    dataset, target : Dataset, fitted estimator
        What is attacked (``target`` is None if the kind cannot be trained on the data set).
    budget, decimals, output_kind, service, show_queries, show_data : ipywidgets controls
        Their ``value`` is the current setting: ``budget.value`` queries, ``decimals.value`` ("none" or
        0-10), ``output_kind.value`` ("proba" or "label").
    dataset_picker, target_picker, attack_picker : ipywidgets.Dropdown
        ``attack_picker.value`` names the attack.
    plot : BoundaryPlot
        The boundary view: ``plot.disagreement`` is the share of the picture where the two models
        differ (0: the stolen boundary lies on the target's), ``plot.stolen_regions`` the stolen labels.
    sweep_points : list of SweepPoint
        The last error-vs-budget sweep (empty until the button is pressed, and after any change).
    """

    def __init__(self, *, dataset="moons", target="logreg", attack=None,
                 targets=("logreg", "softmax", "ovr", "mlp", "tree", "rbf-svm", "poly-svm", "kernel-logreg"),
                 attacks=None, budget=None, decimals="none", output="proba", service="Amazon ($0.10 per 1,000)",
                 random_state=0, resolution=200, data=False):
        self.attacks = dict(ATTACKS if attacks is None else attacks)
        attack = next(iter(self.attacks), None) if attack is None else attack
        _check_choice("dataset", dataset, PANEL_DATASETS)
        _check_choice("target", target, targets)
        _check_choice("attack", attack, self.attacks)
        _check_choice("decimals", decimals, DECIMALS)
        _check_choice("output", output, dict(OUTPUTS).values())
        _check_choice("service", service, SERVICES)
        self.random_state = random_state
        self.resolution = resolution
        self._datasets, self._targets = {}, {}
        self._quiet = False
        self.extraction = self.result = self.message = None
        self.sweep_points = []
        self._sweep_bands = []
        self._full_draw = True
        self.dataset_picker = _styled(widgets.Dropdown(options=PANEL_DATASETS, value=dataset, description="data"),
                                      "kit-dataset")
        self.target_picker = _styled(widgets.Dropdown(options=targets, value=target, description="target"),
                                     "kit-target")
        self.attack_picker = _styled(widgets.Dropdown(options=list(self.attacks), value=attack, description="attack"),
                                     "kit-attack")
        low, high, default = self.attacks[attack].budgets
        self.budget = _styled(widgets.IntSlider(value=default if budget is None else budget, min=low, max=high,
                                                description="queries", continuous_update=False), "kit-budget")
        self.decimals = _styled(widgets.SelectionSlider(options=DECIMALS, value=decimals, description="rounding",
                                                        continuous_update=False), "kit-decimals")
        self.output_kind = _styled(widgets.ToggleButtons(options=OUTPUTS, value=output, description="API gives"),
                                   "kit-output")
        self.service = _styled(widgets.Dropdown(options=list(SERVICES), value=service, description="price"),
                               "kit-service")
        self.show_queries = _styled(widgets.Checkbox(value=True, description="show queries", indent=False),
                                    "kit-show-queries")
        self.show_data = _styled(widgets.Checkbox(value=data, description="show data", indent=False),
                                 "kit-show-data")
        self.sweep_button = _styled(widgets.Button(description="error vs budget", icon="line-chart"), "kit-sweep")
        self.readout = _styled(widgets.HTML(), "kit-readout")
        with plt.ioff():
            self.figure, (self._boundary_ax, self.sweep_ax) = plt.subplots(
                1, 2, figsize=(9, 4), width_ratios=(1.5, 1), layout="constrained")
        self.figure_view = _figure_view(self.figure)
        self.live = LiveFigure(self.figure)
        self._setup_sweep_axes()
        self.dataset_picker.observe(self._on_target, "value")
        self.target_picker.observe(self._on_target, "value")
        self.attack_picker.observe(self._on_attack, "value")
        for control in (self.budget, self.decimals, self.output_kind):
            control.observe(self._on_setting, "value")
        self.service.observe(lambda _: self._show_readout(), "value")
        self.show_queries.observe(self._on_show_queries, "value")
        self.show_data.observe(self._on_show_data, "value")
        self.sweep_button.on_click(lambda _: self.sweep())
        pickers = widgets.HBox([self.dataset_picker, self.target_picker, self.attack_picker])
        api_controls = widgets.HBox([self.budget, self.decimals, self.output_kind])
        view_controls = widgets.HBox([self.service, self.show_queries, self.show_data, self.sweep_button])
        super().__init__([pickers, api_controls, view_controls, self.readout, self.figure_view])
        self.add_class("kit-panel")
        self._on_target(None)

    # --- what the controls do -----------------------------------------------------------

    def _on_target(self, _change):
        """A new data set or target kind: train (once), redraw its regions, steal it again."""
        name, kind = self.dataset_picker.value, self.target_picker.value
        if name not in self._datasets:
            self._datasets[name] = load_dataset(name, random_state=self.random_state)
        self.dataset = self._datasets[name]
        try:
            if (name, kind) not in self._targets:
                self._targets[name, kind] = train_target(self.dataset, kind, random_state=self.random_state)
            self.target = self._targets[name, kind]
        except ValueError as error:
            self.target = None
            self._fail(str(error))
            return
        self._boundary_ax.clear()
        self.plot = plot_boundaries(self.target, None, self.dataset, ax=self._boundary_ax, resolution=self.resolution,
                                    data=self.show_data.value)
        self._boundary_ax.set_title(f"{kind} on {name}", fontsize="medium")
        self.live.follow([*self.plot.moving_artists, self._current])
        self._full_draw = True
        self._extract()

    def _on_attack(self, _change):
        """A new attack: its budget range and default, whether the output toggle applies."""
        choice = self.attacks[self.attack_picker.value]
        low, high, default = choice.budgets
        self._quiet = True
        with self.budget.hold_trait_notifications():
            self.budget.min, self.budget.max, self.budget.value = low, high, default
        self._quiet = False
        self.sweep_ax.set_xlim(*_budget_limits(low, high))
        self._full_draw = True
        self._on_setting(None)

    def _on_setting(self, _change):
        if self._quiet:
            return
        self._clear_sweep()
        self._extract()

    # --- the attack through the API -----------------------------------------------------

    def _api(self, budget):
        """The prediction service as the attacker meets it, at the current settings."""
        decimals = None if self.decimals.value == "none" else self.decimals.value
        price = SERVICES[self.service.value]
        return PredictionAPI(self.target, self.dataset.features, output=self._output(), decimals=decimals,
                             budget=budget, price_per_query=price)

    def _steal(self, budget, random_state):
        """Run the chosen attack with ``budget`` queries; (extraction, None) or (None, why it failed)."""
        choice = self.attacks[self.attack_picker.value]
        try:
            api = self._api(budget)
            return choice.run(api, self.target_picker.value, budget, random_state), None
        except (ValueError, BudgetExceeded) as error:
            return None, str(error)

    def _fixed_output(self):
        """The answer kind the toggle cannot change: the attack's own, or labels from a target without confidences."""
        output = self.attacks[self.attack_picker.value].output
        if output is None and self.target is not None and not hasattr(self.target, "predict_proba"):
            return "label"
        return output

    def _output(self):
        return self._fixed_output() or self.output_kind.value

    def _extract(self):
        """Steal the target at the current settings; update the plot and the readout."""
        self.output_kind.disabled = self._fixed_output() is not None
        if self.target is None:
            return
        self.extraction, self.message = self._steal(self.budget.value, self.random_state)
        stolen = None if self.extraction is None else self.extraction.model
        self.result = None if stolen is None else agreement(self.target, stolen, self.dataset,
                                                            random_state=self.random_state)
        self._mark_current()
        self.plot.update(stolen, self._queries_shown())
        self._render()
        self._show_readout()

    def _fail(self, message):
        self.extraction = self.result = None
        self.message = message
        self._show_readout()

    # --- the views ----------------------------------------------------------------------

    def _on_show_queries(self, _change):
        if self.target is not None:
            self.plot.set_queries(self._queries_shown())
            self._render()

    def _on_show_data(self, change):
        if self.target is not None:
            self.plot.show_data(change["new"])
            self._full_draw = True
            self._render()

    def _queries_shown(self):
        return self.extraction.log.X if self.extraction is not None and self.show_queries.value else None

    def _render(self):
        """Push the figure to the page: only the moving artists, unless something else changed since.

        ipympl sends the changed pixels itself; otherwise the picture widget gets a new image.
        """
        self.live.show(full=self._full_draw)
        self._full_draw = False
        if not isinstance(self.figure_view, widgets.Image):
            return
        buffer = io.BytesIO()
        plt.imsave(buffer, np.asarray(self.figure.canvas.buffer_rgba()), format="png")
        self.figure_view.value = buffer.getvalue()

    def _api_reveals(self):
        """What the API answers at the current settings, in words."""
        output = self._output()
        if output == "label":
            return "labels only"
        rounding = "full precision" if self.decimals.value == "none" else f"{self.decimals.value} decimals"
        return f"labels, confidences ({rounding})" + (", node ids" if output == "leaf" else "")

    def _show_readout(self):
        price = SERVICES[self.service.value]
        service = self.service.value.split(" (")[0]
        reveals = f"<div><b>the API answers</b> {self._api_reveals()}</div>"
        if self.extraction is None:
            self.readout.value = (f"<div class='kit-message'><b>No stolen model:</b> {_escape(self.message)}</div>"
                                  + reveals)
            return
        queries = self.extraction.queries
        self.readout.value = (
            f"<b>queries used</b> {queries:,} &nbsp;|&nbsp; <b>cost</b> ${queries * price:,.4f} at {service} "
            f"&nbsp;|&nbsp; <b>1-R<sub>test</sub></b> {self.result.test:.2%} "
            f"&nbsp;|&nbsp; <b>1-R<sub>unif</sub></b> {self.result.uniform:.2%}" + self._picture_says() + reveals
        )

    def _picture_says(self):
        """Where the stolen boundary lies, in words: on the target's, or how much of the picture differs."""
        share = self.plot.disagreement
        if share == 0:
            return ("<div class='kit-coincide'><b>The stolen boundary lies on the target's:</b> they agree on every "
                    "point of the picture (the yellow dashes run along the dark line).</div>")
        points = self.plot.target_regions.size
        return (f"<div><b>they disagree</b> on {round(share * points):,} of the picture's {points:,} points "
                f"({share:.2%}, dark shading)</div>")

    def _setup_sweep_axes(self):
        ax = self.sweep_ax
        (self._sweep_test,) = ax.plot([], [], color=OKABE_ITO[4], marker="o", label="R_test (mean)")
        (self._sweep_uniform,) = ax.plot([], [], color=OKABE_ITO[5], marker="s", ls="--", label="R_unif (mean)")
        (self._current,) = ax.plot([], [], ls="", marker="*", ms=14, color=OKABE_ITO[7], label="this extraction")
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1e-4)
        ax.set_xlim(*_budget_limits(self.budget.min, self.budget.max))
        ax.set_ylim(0, 1)
        ax.set_xlabel("queries")
        ax.set_ylabel("error (1 - agreement)")
        spread = Patch(color="#888888", alpha=0.3, label="lowest to highest run")
        self._sweep_key = ax.legend(  # above the curves, where it hides none of them
            handles=[self._sweep_test, self._sweep_uniform, spread, self._current], ncols=2, loc="lower center",
            bbox_to_anchor=(0.5, 1.0), fontsize="small", frameon=False, title=SWEEP_PROMPT, title_fontsize="medium")

    def _mark_current(self):
        if self.result is None:
            self._current.set_data([], [])
        else:
            self._current.set_data([self.extraction.queries], [1 - self.result.test])

    def _clear_sweep(self):
        if self.sweep_points:
            self.sweep_points = []
            self._draw_sweep(SWEEP_PROMPT)

    def sweep(self, n_budgets=6, runs=None):
        """Steal again at ``n_budgets`` budgets across the slider's range, ``runs`` times each (seeds
        ``random_state``, ``random_state + 1``, ...; None: the attack's ``runs``); plot the mean R_test
        and R_unif with a band from the lowest to the highest run, since one run can be lucky or unlucky.

        Returns
        -------
        list of SweepPoint
            One for each budget at which at least one run succeeded (also kept as ``sweep_points``).
        """
        runs = self.attacks[self.attack_picker.value].runs if runs is None else runs
        for name, value in (("n_budgets", n_budgets), ("runs", runs)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        budgets = np.unique(np.geomspace(self.budget.min, self.budget.max, n_budgets).astype(int))
        points = (self._sweep_point(budget, runs) for budget in budgets.tolist())
        self.sweep_points = [point for point in points if point is not None]
        self._draw_sweep(f"error vs budget ({runs} runs each)")
        self._render()
        return self.sweep_points

    def _sweep_point(self, budget, runs):
        """The attack at ``budget`` with ``runs`` seeds, measured (None if every run failed)."""
        measured = []
        for seed in range(self.random_state, self.random_state + runs):
            extraction, _ = self._steal(budget, seed)
            if extraction is not None:
                result = agreement(self.target, extraction.model, self.dataset, random_state=self.random_state)
                measured.append((extraction.queries, 1 - result.test, 1 - result.uniform))
        if not measured:
            return None
        queries, test, uniform = np.array(measured, dtype=float).T
        return SweepPoint(budget, float(queries.mean()), float(test.mean()), float(uniform.mean()),
                          (float(test.min()), float(test.max())), (float(uniform.min()), float(uniform.max())),
                          len(measured))

    def _draw_sweep(self, title):
        """Show ``sweep_points``: a line through the means and a band over the runs' spread."""
        for band in self._sweep_bands:
            band.remove()
        self._sweep_bands = []
        queries = [point.queries for point in self.sweep_points]
        for line, error in ((self._sweep_test, "test"), (self._sweep_uniform, "uniform")):
            line.set_data(queries, [getattr(point, error) for point in self.sweep_points])
            if self.sweep_points:
                low, high = np.array([getattr(point, f"{error}_range") for point in self.sweep_points]).T
                self._sweep_bands.append(self.sweep_ax.fill_between(queries, low, high, color=line.get_color(),
                                                                    alpha=0.25, linewidth=0))
        self._sweep_key.set_title(title)
        self._full_draw = True


def _budget_limits(low, high):
    return max(low, 1) / 1.5, high * 1.5


def _styled(widget, css_class):
    widget.add_class(css_class)
    return widget


def _check_choice(name, value, options):
    options = list(options)
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(str, options))}; got {value!r}")


def _escape(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_LEAKAGE_DPI = 100
"""Pixels per inch of the leakage panel's picture, shown at that size."""


class LeakagePanel(widgets.VBox):
    """Steal a kernel logistic regression on images and watch its training images leak (paper section 4.1.3).

    A query-budget slider reruns :func:`kit.attacks.kernel_leakage` through a fresh API; the
    picture shows each recovered representer (top) above the training image it matches (bottom,
    the teacher's view read from the target), and the readout says how many secret training rows
    the nearest-row lookup names, with 1-R_test and 1-R_unif.  Results are kept per budget, so a
    budget seen before redraws at once.

    Parameters
    ----------
    dataset : Dataset
        Image data whose rows are the images (Digits).
    target : Pipeline
        The secret ``kernel-logreg`` target (:func:`kit.train_target`).
    gamma : float
        The kernel width the attacker knows (the paper assumes it known or searched for).
    budget : int or None
        The starting budget (None: a third of the way up the slider).
    shape : tuple of int
        The shape of one image.
    random_state : int
        Seeds the attack's queries and starting point.

    Attributes
    ----------
    extraction : Extraction or None
        The latest attack's result.
    result : Agreement or None
        Its agreement with the target.
    leaked : set of int
        The secret training rows named by the nearest training row of a recovered representer.
    """

    def __init__(self, dataset, target, *, gamma=0.05, budget=None, shape=(8, 8), random_state=0):
        self.dataset, self.target, self.gamma = dataset, target, gamma
        self.random_state = random_state
        self._secret = target[-1]  # teacher's view: the pictures compare with it, the attack never reads it
        m, d, c = len(self._secret.representers_), dataset.X_train.shape[1], len(dataset.classes)
        outputs = 1 if c == 2 else c
        k = m * (d + outputs) + outputs  # the unknowns (kernel_leakage's default budget)
        low = -(-k // (c - 1))  # the fewest queries it accepts: c - 1 equations per answer
        default = low + (k - low) // 3 if budget is None else budget
        self.budget = _styled(widgets.IntSlider(value=default, min=low, max=k, description="queries",
                                                continuous_update=False), "kit-budget")
        self.readout = _styled(widgets.HTML(), "kit-readout")
        self._runs = {}
        # not a pyplot figure: a later cell's plot would show every pyplot figure, this one too
        self.figure = Figure(figsize=(0.9 * m, 2.4), layout="constrained")
        axes = self.figure.subplots(2, m, squeeze=False)
        width = round(self.figure.get_figwidth() * _LEAKAGE_DPI)
        self.figure_view = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px"))  # not stretched
        self._images = []
        for j, ax in enumerate(axes.T):
            ax[0].set_title(" ", fontsize=8)
            self._images.append(ax[0].imshow(np.zeros(shape), cmap="gray_r", vmin=-1, vmax=1))
            ax[1].imshow(np.reshape(self._secret.representers_[j], shape), cmap="gray_r", vmin=-1, vmax=1)
            ax[1].set_xlabel(f"row {self._secret.representer_index_[j]}", fontsize=7)
            for side in ax:
                side.set_xticks([])
                side.set_yticks([])
        axes[0, 0].set_ylabel("stolen", fontsize=8)
        axes[1, 0].set_ylabel("training", fontsize=8)
        self.shape = shape
        self.budget.observe(lambda _: self._extract(), "value")
        super().__init__([self.budget, self.readout, self.figure_view])
        self.add_class("kit-panel")
        self._extract()

    def _extract(self):
        """Steal at the slider's budget (or reuse that budget's result), then redraw and say what leaked."""
        from sklearn.metrics import pairwise_distances_argmin

        from .attacks.kernel import kernel_leakage, match_representers

        budget = self.budget.value
        if budget not in self._runs:
            api = PredictionAPI(self.target, self.dataset.features, price_per_query=0.0001)  # Amazon, 2016
            extraction = kernel_leakage(api, n_representers=len(self._secret.representers_), gamma=self.gamma,
                                        budget=budget, random_state=self.random_state)
            self._runs[budget] = extraction, agreement(self.target, extraction.model, self.dataset,
                                                       random_state=self.random_state)
        self.extraction, self.result = self._runs[budget]
        recovered = self.extraction.info["representers"]
        named = pairwise_distances_argmin(recovered, self.dataset.X_train)
        self.leaked = set(named.tolist()) & set(self._secret.representer_index_.tolist())
        order, rms = match_representers(recovered, self._secret.representers_)
        for image, index, error in zip(self._images, order, rms, strict=True):
            image.set_data(np.reshape(recovered[index], self.shape))
            image.axes.set_title(f"{error:.2f}", fontsize=8, color=OKABE_ITO[4] if error < 0.1 else "black")
        self._render()
        m = len(self._secret.representers_)
        self.readout.value = (
            f"<b>queries used</b> {self.extraction.queries:,} &nbsp;|&nbsp; <b>cost</b> "
            f"${self.extraction.cost:,.4f} at Amazon &nbsp;|&nbsp; <b>1-R<sub>test</sub></b> {self.result.test:.2%} "
            f"&nbsp;|&nbsp; <b>1-R<sub>unif</sub></b> {self.result.uniform:.2%}<div><b>training rows leaked</b> "
            f"{len(self.leaked)} of {m} &nbsp;|&nbsp; <b>representers within 0.1 RMS</b> {int(np.sum(rms < 0.1))} "
            f"of {m} (the number above each stolen image)</div>"
        )

    def _render(self):
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=_LEAKAGE_DPI)
        self.figure_view.value = buffer.getvalue()


@dataclass(frozen=True)
class DefenseChoice:
    """A defence as :class:`DefensePanel` offers it.

    Attributes
    ----------
    make : callable
        ``make(strength) -> list of kit.defenses.Defense``, fresh objects each call (a monitor or a
        noise generator keeps state).
    strengths : tuple or None
        ``(lowest, highest, default, step)`` of the strength slider, or None for a defence without one.
    strength_name : str
        What the strength is, shown beside the slider.
    """

    make: Callable
    strengths: tuple | None = None
    strength_name: str = ""


DEFENSES = {
    "none": DefenseChoice(lambda strength: []),
    "rounding": DefenseChoice(lambda strength: [Rounding(int(strength))], (0, 5, 2, 1), "decimals"),
    "labels only": DefenseChoice(lambda strength: [LabelsOnly()]),
    "Gaussian noise": DefenseChoice(lambda strength: [GaussianNoise(strength)], (0.0, 0.3, 0.05, 0.01),
                                    "noise scale"),
    "reverse sigmoid": DefenseChoice(lambda strength: [ReverseSigmoid(beta=strength)], (0.05, 1.0, 0.5, 0.05),
                                     "beta"),
    "refuse incomplete": DefenseChoice(lambda strength: [RefuseIncomplete()]),
    "query monitor": DefenseChoice(lambda strength: [QueryMonitor(threshold=strength)], (0.5, 0.95, 0.8, 0.05),
                                   "threshold W"),
}
"""The defences :class:`DefensePanel` offers (kit.defenses), by the name shown in its picker."""

DEFENSE_PANEL_ATTACKS = ("equation solving", "path finding (top-down)", "Lowd-Meek", "retraining (uniform)",
                         "retraining (adaptive)")
"""The attacks :class:`DefensePanel` offers by default (keys of :data:`ATTACKS`)."""

DEFENSE_PANEL_BUDGETS = {"path finding (top-down)": 700}
"""Starting budgets of :class:`DefensePanel` where the attack's own default is too small to succeed undefended."""

_DEFENSE_PANEL_TREE = {"max_depth": 5}
"""The tree path finding attacks on the defence panel: as in ``kit.reproduce.defenses``, for a fast attack."""

_PANEL_DPI = 100


def _png(figure):
    """The figure as PNG bytes, at the panels' resolution."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_PANEL_DPI)
    return buffer.getvalue()


class DefensePanel(widgets.VBox):
    """Pick an attack and a defence, set the defence's strength, and watch what each side loses.

    The attacker's side is the agreement of the stolen copy (1-R_test, 1-R_unif, paper section 3); the
    honest user's side is :func:`kit.defenses.honest_loss` on the test rows: the share whose label the
    defence kept, and how far the answered confidences moved (mean and largest).  Path finding attacks a
    tree of depth 5 (it needs node ids); every other attack attacks ``target``.

    Parameters
    ----------
    dataset : {"circles", "moons", "blobs"}
    target : str
        The secret model's kind for every attack but path finding.
    attack, defense : str
        Keys of ``attacks`` and of :data:`DEFENSES` shown first.
    strength : float or None
        The defence's starting strength (None: its default).
    attacks : sequence of str
        Keys of :data:`ATTACKS` offered.
    budget : int or None
        The starting query budget (None: the attack's default).
    random_state : int
    resolution : int
        Grid points per axis of the boundary picture.

    Attributes
    ----------
    extraction : Extraction or None
        The latest attack's result (None when the defence stopped it; ``message`` says why).
    result : Agreement or None
        ``result.test`` is 1-R_test, ``result.uniform`` is 1-R_unif.
    honest : HonestLoss
        What the defence costs an honest user on the test rows.
    message : str or None
    attack_picker, defense_picker : ipywidgets.Dropdown
    strength, budget : ipywidgets sliders (``strength.disabled`` for a defence without a strength)
    """

    def __init__(self, *, dataset="moons", target="logreg", attack="equation solving", defense="rounding",
                 strength=None, attacks=DEFENSE_PANEL_ATTACKS, budget=None, random_state=0, resolution=100):
        _check_choice("dataset", dataset, PANEL_DATASETS)
        _check_choice("attack", attack, attacks)
        _check_choice("defense", defense, DEFENSES)
        for name in attacks:
            _check_choice("attacks", name, ATTACKS)
        self.random_state, self.resolution, self.target_kind = random_state, resolution, target
        self.dataset = load_dataset(dataset, random_state=random_state)
        self._targets, self._runs, self._quiet = {}, {}, False
        self.extraction = self.result = self.message = self.honest = None
        self.attack_picker = _styled(widgets.Dropdown(options=list(attacks), value=attack, description="attack"),
                                     "kit-attack")
        self.defense_picker = _styled(widgets.Dropdown(options=list(DEFENSES), value=defense, description="defence"),
                                      "kit-defense")
        self.strength = _styled(widgets.FloatSlider(description="strength", continuous_update=False,
                                                    style={"description_width": "initial"}), "kit-strength")
        self.budget = _styled(widgets.IntSlider(description="queries", min=1, max=10, continuous_update=False),
                              "kit-budget")
        self.readout = _styled(widgets.HTML(), "kit-readout")
        with plt.ioff():
            self.figure, self._ax = plt.subplots(figsize=(6.6, 4.2), layout="constrained")
        self.figure_view = widgets.Image(format="png", layout=widgets.Layout(width=f"{6.6 * _PANEL_DPI:.0f}px"))
        self._drawn_kind = None
        self._set_attack(budget)
        self._set_defense(strength)
        self.attack_picker.observe(lambda _: self._set_attack(None) or self._extract(), "value")
        self.defense_picker.observe(lambda _: self._set_defense(None) or self._extract(), "value")
        for control in (self.strength, self.budget):
            control.observe(lambda _: self._quiet or self._extract(), "value")
        super().__init__([widgets.HBox([self.attack_picker, self.budget]),
                          widgets.HBox([self.defense_picker, self.strength]), self.readout, self.figure_view])
        self.add_class("kit-panel")
        self._extract()

    def _set_attack(self, budget):
        low, high, default = ATTACKS[self.attack_picker.value].budgets
        default = DEFENSE_PANEL_BUDGETS.get(self.attack_picker.value, default)
        self._quiet = True
        with self.budget.hold_trait_notifications():
            self.budget.max, self.budget.min = max(high, self.budget.min), low
            self.budget.max, self.budget.value = high, default if budget is None else budget
        self._quiet = False

    def _set_defense(self, strength):
        choice = DEFENSES[self.defense_picker.value]
        self._quiet = True
        self.strength.disabled = choice.strengths is None
        low, high, default, step = choice.strengths or (0, 1, 0, 1)
        with self.strength.hold_trait_notifications():
            self.strength.max, self.strength.min = max(high, self.strength.min), low
            self.strength.max, self.strength.step = high, step
            self.strength.readout_format = ".0f" if step >= 1 else ".2f"
            self.strength.value = default if strength is None else strength
        self.strength.description = choice.strength_name or "(no strength)"
        self._quiet = False

    def _kind(self):
        return "tree" if ATTACKS[self.attack_picker.value].output == "leaf" else self.target_kind

    def _target(self):
        kind = self._kind()
        if kind not in self._targets:
            params = _DEFENSE_PANEL_TREE if kind == "tree" else {}
            self._targets[kind] = train_target(self.dataset, kind, random_state=self.random_state, **params)
        return self._targets[kind]

    def defenses(self):
        """Fresh defence objects at the panel's current defence and strength."""
        return DEFENSES[self.defense_picker.value].make(self.strength.value)

    def _run(self):
        """(extraction, agreement, message, honest loss) at the current settings; each setting is run once."""
        strength = None if self.strength.disabled else self.strength.value
        key = (self.attack_picker.value, self.defense_picker.value, strength, self.budget.value)
        if key not in self._runs:
            choice, target = ATTACKS[self.attack_picker.value], self._target()
            honest = honest_loss(target, self.dataset.features, self.dataset.X_test, self.defenses())
            try:
                api = PredictionAPI(target, self.dataset.features, output=choice.output or "proba",
                                    budget=self.budget.value, defenses=self.defenses())
                extraction = choice.run(api, self._kind(), self.budget.value, self.random_state)
                result = agreement(target, extraction.model, self.dataset, random_state=self.random_state)
                self._runs[key] = extraction, result, None, honest
            except (ValueError, BudgetExceeded, QueryRefused) as error:
                self._runs[key] = None, None, str(error), honest
        return self._runs[key]

    def _extract(self):
        self.extraction, self.result, self.message, self.honest = self._run()
        if self._drawn_kind != self._kind():
            self._ax.clear()
            self.plot = plot_boundaries(self._target(), None, self.dataset, ax=self._ax, resolution=self.resolution)
            self._drawn_kind = self._kind()
        self.plot.update(None if self.extraction is None else self.extraction.model,
                         None if self.extraction is None else self.extraction.log.X)
        self._ax.set_title(f"{self._kind()} on {self.dataset.name}: {self.attack_picker.value} against "
                           f"{self.defense_picker.value}", fontsize="medium")
        self.figure_view.value = _png(self.figure)
        self._show_readout()

    def _show_readout(self):
        honest = (f"<div><b>honest user</b> label kept {self.honest.top1_kept:.1%} &nbsp;|&nbsp; <b>confidence "
                  f"error</b> mean {self.honest.mean_error:.3f}, max {self.honest.max_error:.3f}</div>")
        if self.extraction is None:
            self.readout.value = f"<div class='kit-message'><b>No stolen model:</b> {_escape(self.message)}</div>" \
                                 + honest
            return
        self.readout.value = (
            f"<b>attacker</b> queries used {self.extraction.queries:,} &nbsp;|&nbsp; <b>1-R<sub>test</sub></b> "
            f"{self.result.test:.2%} &nbsp;|&nbsp; <b>1-R<sub>unif</sub></b> {self.result.uniform:.2%}" + honest
        )


class EconomicsPanel(widgets.VBox):
    """Pick a 2016 price and some attacks; see when stealing beats paying per prediction.

    Draws :func:`kit.economics.plot_costs` for the queries the attacks needed in measured runs
    (:data:`kit.economics.MEASURED`), and a table of each attack's cost and break-even point.

    Attributes
    ----------
    service : ipywidgets.Dropdown
        A key of :data:`SERVICES`.
    attack_picker : ipywidgets.SelectMultiple
        Keys of :data:`kit.economics.MEASURED`.
    """

    def __init__(self, *, service="Google ($0.50 per 1,000)", attacks=None):
        from .economics import MEASURED

        _check_choice("service", service, SERVICES)
        attacks = list(MEASURED) if attacks is None else list(attacks)
        for name in attacks:
            _check_choice("attacks", name, MEASURED)
        self._measured = MEASURED
        self.service = _styled(widgets.Dropdown(options=list(SERVICES), value=service, description="price",
                                                layout=widgets.Layout(width="420px")), "kit-service")
        self.attack_picker = _styled(widgets.SelectMultiple(options=list(MEASURED), value=attacks, rows=5,
                                                            description="attacks",
                                                            layout=widgets.Layout(width="420px")), "kit-attack")
        self.table = _styled(widgets.HTML(), "kit-readout")
        with plt.ioff():
            self.figure, self._ax = plt.subplots(figsize=(7.5, 5.5), layout="constrained")
        self.figure_view = widgets.Image(format="png", layout=widgets.Layout(width=f"{7.5 * _PANEL_DPI:.0f}px"))
        for control in (self.service, self.attack_picker):
            control.observe(lambda _: self._draw(), "value")
        super().__init__([widgets.HBox([self.service, self.attack_picker]), self.table, self.figure_view])
        self.add_class("kit-economics")
        self._draw()

    def _draw(self):
        from .economics import break_even, plot_costs

        price = SERVICES[self.service.value]
        chosen = {name: self._measured[name].queries for name in self.attack_picker.value}
        self._ax.clear()
        if chosen:
            plot_costs(chosen, price, service=self.service.value, ax=self._ax)
        self.figure_view.value = _png(self.figure)
        rows = "".join(f"<tr><td>{_escape(name)}</td><td>{queries:,}</td><td>${queries * price:,.2f}</td>"
                       f"<td>{break_even(queries):,}</td></tr>" for name, queries in chosen.items())
        self.table.value = ("<table><tr><th>attack</th><th>queries</th><th>cost to steal</th><th>pays off after "
                            f"(predictions)</th></tr>{rows}</table>" if chosen else "pick at least one attack")
