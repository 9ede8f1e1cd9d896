"""Online attacks: steal a model behind a secret feature extraction, as against Amazon ML (paper section 5).

Amazon's 2016 service ran its logistic regression on a representation of the inputs the
attacker never saw (:mod:`kit.recipes`): categories one-hot encoded, numeric features cut into
quantile bins.  The attacker knows only the raw inputs (``api.features``), so it first
reverse-engineers the extraction from queries alone, then solves the equations of section 4.1
on the representation it found:

1. **The empty query.**  Every feature omitted: omitted features count as 0, so the answer
   is the model's bias alone.  (An API that refuses incomplete queries gets one base row
   instead, and every later query changes one feature of it.)
2. **Categorical features.**  Each category alone: one equation with one unknown, its weight.
3. **Numeric features.**  ``scan`` evenly spaced values of one feature alone.  Log-ratios on a
   line: the value reaches the model as it is.  Steps: quantile bins.  Bins are intervals, so
   two values with the same answer enclose no edge (unless two bins have exactly the same
   weights, a coincidence); between neighbours whose answers differ, a line search (bisection)
   narrows every edge down to ``epsilon`` (paper: 1e-3).
4. **Equation solving.**  Every asked row, encoded in the recovered representation, gives the
   log-ratio equations of :func:`kit.attacks.equations.solve_log_ratios`, solved at once.  Every
   bin and every numeric feature has several equations, and all of them must hold exactly: that
   check certifies the recovered extraction.  Whatever cannot be certified is said in ``info`` and with an
   :class:`UncertifiedWarning`, never silently.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.pipeline import make_pipeline

from ..extraction import Extraction
from ..features import CATEGORICAL
from ..recipes import Recipe, Step
from .budget import certify, check_budget
from .equations import solve_log_ratios
from .network import SoftLabelNetwork

ANSWER_PRECISION = 1e-12
"""How far an exact confidence may be off (float rounding); a log-ratio log(p_i / p_0) is then off
by up to ``ANSWER_PRECISION * (1 / p_i + 1 / p_0)``, the tolerance of the line test."""

CONSISTENT = 1e-6
"""Largest gap between the stolen model's confidences and the API's on the asked rows for a certified extraction."""


class _Oracle:
    """The API behind a cache and a budget: each distinct row is asked once (the paper's code cached too)."""

    def __init__(self, api, budget):
        self.api, self.budget = api, budget
        self.answers = {}

    def new(self, rows):
        """The distinct rows among ``rows`` not asked yet."""
        fresh = {row.tobytes(): row for row in rows if row.tobytes() not in self.answers}
        return list(fresh.values())

    def affords(self, rows) -> bool:
        """Whether the budget pays for the rows not asked yet."""
        return self.budget is None or len(self.new(rows)) <= self.budget

    def ask(self, rows) -> np.ndarray:
        """The API's confidence vectors for ``rows``, asking only the new ones (in one batch)."""
        new = self.new(rows)
        if new:
            for row, proba in zip(new, self.api.query(np.array(new)).proba, strict=True):
                self.answers[row.tobytes()] = proba
            self.budget = None if self.budget is None else self.budget - len(new)
        return np.array([self.answers[row.tobytes()] for row in rows])

    def asked(self):
        """Every row asked so far and its answer."""
        rows = np.array([np.frombuffer(key) for key in self.answers])
        return rows, np.array(list(self.answers.values()))


def _check_settings(api, epsilon, scan, max_bins):
    if api.output == "label":
        raise ValueError("the online attack needs confidence values; this API answers labels only")
    if getattr(api, "decimals", None) is not None:  # a remote API may not say whether it rounds
        raise ValueError(f"the online attack compares exact confidences; this API rounds them to {api.decimals} "
                         "decimals, so different bins could give the same answer")
    if isinstance(epsilon, bool) or not isinstance(epsilon, Real) or not 0 < epsilon < math.inf:
        raise ValueError(f"epsilon must be a positive precision for the bin edges (paper: 1e-3), got {epsilon!r}")
    for name, value, least in (("scan", scan, 3), ("max_bins", max_bins, 2)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < least:
            raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")


def _base_row(features, incomplete):
    """The row every query changes one feature of: all omitted, or (complete queries only) the centre of the space."""
    if incomplete:
        return np.full(len(features), np.nan)
    return np.array([0.0 if f.kind == CATEGORICAL else (f.low + f.high) / 2 for f in features])


def _with(base, j, values):
    """Rows equal to ``base`` but for feature ``j``, which takes each of ``values``."""
    rows = np.repeat(base[None, :], len(values), axis=0)
    rows[:, j] = values
    return rows


def _log_ratios(P):
    """log(p_i / p_0) for i >= 1, and how far each may be off by float rounding alone."""
    P = np.maximum(P, np.finfo(float).tiny)  # a confidence of exactly 0 is flagged apart
    return np.log(P[:, 1:]) - np.log(P[:, :1]), ANSWER_PRECISION * (1 / P[:, 1:] + 1 / P[:, :1])


def _on_a_line(x, P):
    """Whether the log-ratios of answers ``P`` at values ``x`` are affine in x (a numeric feature, not binned)."""
    ratios, tolerance = _log_ratios(P)
    design = np.column_stack([x, np.ones_like(x)])
    residual = ratios - design @ np.linalg.lstsq(design, ratios, rcond=None)[0]
    return bool(np.all(np.abs(residual) <= tolerance))


def _differ(P, Q):
    """Which rows of answers ``P`` and ``Q`` differ by more than float rounding.

    The same encoded input need not give bit-identical answers: a product's rounding can depend
    on where the row sits in a batch.
    """
    (ratios_P, tolerance_P), (ratios_Q, tolerance_Q) = _log_ratios(P), _log_ratios(Q)
    return (np.abs(ratios_P - ratios_Q) > tolerance_P + tolerance_Q).any(axis=1)


def _classify(x, P):
    """The kind of a numeric feature from its scan: "constant", "numeric" or "bins"."""
    if not _differ(P[:1], P).any():
        return "constant"
    return "numeric" if _on_a_line(x, P) else "bins"


class _Interval(NamedTuple):
    """A stretch of one feature's range whose two ends fall in different bins: an edge lies in (low, high]."""

    feature: int
    low: float
    high: float
    at_low: np.ndarray  # the API's answer at each end
    at_high: np.ndarray

    @property
    def middle(self):
        return (self.low + self.high) / 2


def _scan(oracle, base, grids):
    """Each continuous feature's kind, and the intervals of its scan where the answer changes (bins only)."""
    kinds, intervals = {}, []
    for j, x in grids.items():
        P = oracle.ask(_with(base, j, x))
        kinds[j] = _classify(x, P)
        if kinds[j] == "bins":
            intervals += [_Interval(j, x[k], x[k + 1], P[k], P[k + 1]) for k in np.flatnonzero(_differ(P[:-1], P[1:]))]
    return kinds, intervals


def _line_search(oracle, base, intervals, epsilon, max_bins, names, problems):
    """Bisect every interval until narrower than ``epsilon``; return the edges found per feature.

    All intervals of all features advance together, one batch of queries per step.  An
    interval keeps the half (or both halves) whose ends answer differently.  Each edge is the
    middle of its last interval, within ``epsilon / 2`` of the true edge, unless ``problems``
    says otherwise.
    """
    edges = {}
    while intervals:
        for interval in intervals:
            if interval.high - interval.low <= epsilon:
                edges.setdefault(interval.feature, []).append(interval.middle)
        intervals = [interval for interval in intervals if interval.high - interval.low > epsilon]
        for j in sorted({interval.feature for interval in intervals}):
            if len(edges.get(j, [])) + sum(interval.feature == j for interval in intervals) >= max_bins:
                problems.append(f"{names[j]}: more than {max_bins} bins (neither binned nor numeric?); search stopped")
                intervals = [interval for interval in intervals if interval.feature != j]
        rows = np.array([_with(base, interval.feature, [interval.middle])[0] for interval in intervals])
        if intervals and not oracle.affords(rows):
            _give_up(intervals, edges, names, problems)
            break
        following = []
        for interval, at_middle in zip(intervals, oracle.ask(rows) if intervals else [], strict=True):
            j, low, high, at_low, at_high = interval
            if _differ(at_low[None], at_middle[None])[0]:
                following.append(_Interval(j, low, interval.middle, at_low, at_middle))
            if _differ(at_middle[None], at_high[None])[0]:
                following.append(_Interval(j, interval.middle, high, at_middle, at_high))
        intervals = following
    return {j: sorted(found) for j, found in edges.items()}


def _give_up(intervals, edges, names, problems):
    """The budget is spent: take each unfinished interval's middle as its edge, and say how unsure it is."""
    for j in sorted({interval.feature for interval in intervals}):
        unsure = [interval for interval in intervals if interval.feature == j]
        edges.setdefault(j, []).extend(interval.middle for interval in unsure)
        widest = max(interval.high - interval.low for interval in unsure)
        problems.append(f"{names[j]}: the budget ran out, {len(unsure)} edges known only to within {widest / 2:.3g}")


def _solve(features, classes, steps, oracle, problems):
    """Encode every asked row in the recovered representation and solve the log-ratio equations (section 4.1).

    Returns the stolen pipeline and the largest gap between its confidences and the API's on those rows.
    """
    recipe = Recipe.from_steps(features, steps)
    rows, P = oracle.asked()
    if not (0 < P).all() or not (P < 1).all():
        problems.append("some confidences are exactly 0 or 1: answers of different bins may coincide")
    Z = recipe.transform(rows)
    coef, intercept = solve_log_ratios(Z, P)
    stolen = SoftLabelNetwork(classes).set_weights([coef], [intercept])
    max_error = float(np.abs(stolen.predict_proba(Z) - P).max())
    if max_error > CONSISTENT:
        problems.append(f"the recovered extraction does not explain the answers (confidences off by {max_error:.2g})")
    return make_pipeline(recipe, stolen), max_error


def online_extraction(api, *, budget=None, epsilon=1e-3, scan=5, max_bins=100) -> Extraction:
    """Reverse-engineer a service's feature extraction, then steal its logistic regression (paper section 5).

    The target is a logistic regression (binary, or multinomial for more classes), as Amazon
    ML served, behind a secret extraction: each categorical feature one-hot encoded, each
    continuous one either binned (one-hot over quantile bins) or passed on as it is.  The
    attack finds which, where the bin edges are, and the weights (see the module's text).
    It is deterministic: no random_state.

    Parameters
    ----------
    api : PredictionAPI or RemoteAPI
        Must return exact confidences.  With incomplete queries (``api.accepts_incomplete``)
        every query sets one feature and omits the others; without, it changes one feature of
        a base row (the centre of the feature space).
    budget : int or None
        Most queries to spend (None: as many as the search needs, within what the API has
        left).  Checked before the first query against the fewest the attack needs: the base
        row, every category, ``scan`` values of every continuous feature.  A budget that runs
        out during the line searches leaves edges known less precisely: flagged, not hidden.
    epsilon : float
        Precision of the line search for bin edges (paper: 1e-3): each recovered edge lies
        within ``epsilon / 2`` of the true one.
    scan : int
        Evenly spaced values (at least 3) asked per continuous feature before the line
        searches; more values guard better against two bins with exactly equal weights.
    max_bins : int
        Most bins believed for one feature: a feature whose answers keep changing is neither
        binned nor numeric (or the model is not logistic); its search stops there, flagged.

    Returns
    -------
    Extraction
        ``model`` takes raw rows (incomplete ones too: omitted features count as 0): the
        recovered recipe (:class:`kit.recipes.Recipe`) then the solved logistic model.
        ``info``: ``"steps"`` (the recovered :class:`kit.recipes.Step` per feature),
        ``"kinds"`` by feature name ("one-hot", "bins", "numeric", or "constant": the answers
        never changed, the feature is kept as a number), ``"edges"`` of each binned feature,
        ``"certified"`` and ``"problems"`` (what could not be certified), ``"incomplete"``
        (whether the attack used incomplete queries), ``"encoded_width"`` (the recovered d) and
        ``"max_error"`` (largest confidence gap between the stolen model and the API on the asked rows).
    """
    _check_settings(api, epsilon, scan, max_bins)
    budget = check_budget(api, budget)
    budget = api.remaining if budget is None else budget
    features, incomplete = api.features, api.accepts_incomplete
    base = _base_row(features, incomplete)
    continuous = [j for j, f in enumerate(features) if f.kind != CATEGORICAL]
    grids = {j: np.linspace(features[j].low, features[j].high, scan) for j in continuous}
    first = np.vstack([base[None]]
                      + [_with(base, j, range(f.width)) for j, f in enumerate(features) if f.kind == CATEGORICAL]
                      + [_with(base, j, grids[j]) for j in continuous])
    oracle = _Oracle(api, budget)
    if not oracle.affords(first):
        raise ValueError(f"the online attack needs at least {len(oracle.new(first))} queries (base row, every "
                         f"category, {scan} values per continuous feature); budget is {budget}")

    start = api.queries_used
    oracle.ask(first)
    kinds, intervals = _scan(oracle, base, grids)
    names, problems = [f.name for f in features], []
    edges = _line_search(oracle, base, intervals, epsilon, max_bins, names, problems)
    steps = [Step("one-hot", tuple(range(f.width))) if f.kind == CATEGORICAL
             else Step("bins", tuple(edges.get(j, ()))) if kinds[j] == "bins" else Step("numeric")
             for j, f in enumerate(features)]
    model, max_error = _solve(features, api.classes, steps, oracle, problems)
    return Extraction.from_api(
        model, api, since=start, steps=tuple(steps),
        kinds={names[j]: "one-hot" if f.kind == CATEGORICAL else kinds[j] for j, f in enumerate(features)},
        edges={names[j]: np.array(edges.get(j, [])) for j in continuous if kinds[j] == "bins"},
        **certify("online extraction", problems), incomplete=incomplete, encoded_width=sum(s.width for s in steps),
        max_error=max_error,
    )
