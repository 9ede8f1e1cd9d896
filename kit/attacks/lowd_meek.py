"""Lowd-Meek: steal a linear classifier, or a polynomial-kernel SVM, from its labels (paper section 6).

With labels only, a line search between two differently labelled rows finds a point on
the decision boundary; boundary points of a linear model give its weights, up to a
positive factor (Lowd and Meek, 2005).  A polynomial-kernel SVM is linear in the kernel's
monomials, so the same idea works there (:func:`lowd_meek_poly`).

Both check their budget before the first query (3 queries per line search at least), stop
and return what they have if it runs out (``info["complete"] = False``), and say when
they cannot vouch for the model (``info["certified"]``, ``info["problems"]``).
"""

from __future__ import annotations

import math
from itertools import combinations_with_replacement

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.utils import check_random_state

from ..api import BudgetExceeded
from ..extraction import Extraction
from ..features import (
    CATEGORICAL,
    FeatureEncoder,
    continuous_mask,
    encode,
    encoded_columns,
    encoded_width,
    sample_uniform,
    validate_rows,
)
from .budget import certify, check_budget
from .linesearch import LineSearcher, _corners, _diagonal, _search_rows, bisect_paths, box_segment


class LinearBoundary(ClassifierMixin, BaseEstimator):
    """The linear classifier ``sign(w . x + b)`` on encoded rows, with known weights.

    Labels reveal ``(w, b)`` only up to a positive factor, so this model has no
    ``predict_proba``: its confidences would be made up.

    Parameters
    ----------
    coef : ndarray of shape (d,)
        The weights ``w``.
    intercept : float
        The bias ``b``.
    classes : sequence of two labels
        ``classes[1]`` where ``w . x + b > 0``, ``classes[0]`` elsewhere.
    """

    def __init__(self, coef=None, intercept=0.0, classes=(0, 1)):
        self.coef = coef
        self.intercept = intercept
        self.classes = classes

    def fit(self, X=None, y=None):
        """Nothing to learn: record the given weights as ``coef_``, ``intercept_``, ``classes_``.

        Rows ``X``, if given, must have one column per weight; ``y`` is not used.
        """
        self.coef_ = np.asarray(self.coef, dtype=float)
        self.intercept_ = float(self.intercept)
        self.classes_ = np.asarray(self.classes)
        self.n_features_in_ = len(self.coef_)
        if X is not None:
            validate_rows(self, X)
        return self

    def decision_function(self, X):
        return validate_rows(self, X) @ self.coef_ + self.intercept_

    def predict(self, X):
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]


def _check_target(api, epsilon):
    """Refuse what Lowd-Meek cannot steal (before any query): more than two classes, no continuous feature."""
    if len(api.classes) != 2:
        raise ValueError(f"Lowd-Meek steals binary classifiers; this API has {len(api.classes)} classes")
    if not continuous_mask(api.features).any():
        raise ValueError("Lowd-Meek needs at least one continuous feature to line-search along")
    if not 0 < epsilon < 1:
        raise ValueError(f"epsilon must be between 0 and 1, got {epsilon!r}")


def _constant(api, start, positive):
    """What an attack that met only one class (positive or not) returns: that class everywhere, not certified."""
    problem = (f"found no {'negative' if positive else 'positive'} row in {api.queries_used - start} queries: "
               "the model answers one class everywhere")
    boundary = LinearBoundary(np.zeros(encoded_width(api.features)), 1.0 if positive else -1.0, api.classes)
    stolen = make_pipeline(FeatureEncoder(api.features), boundary).fit(np.zeros((1, len(api.features))))
    return Extraction.from_api(stolen, api, since=start, unresolved=[], complete=False,
                               **certify("Lowd-Meek", [problem], stacklevel=4))


def _witnesses(search, features, rng, max_tries=200):
    """A negative and a positive row with the same categories (Lowd-Meek's sign witnesses).

    Draws a row ``a`` and a second row ``b`` with ``a``'s categories until their labels
    differ.  The tries take turns between uniform rows, corners of the box and rows on its
    diagonal (as retraining does), which find a class that holds only a far corner or one
    end of the box, where uniform rows hardly go.

    Returns
    -------
    negative, positive : ndarray or None
        None for a class not met in ``max_tries`` tries or before the budget ran out.
    """
    continuous = continuous_mask(features)
    draws = (sample_uniform, _corners, _diagonal)
    met = {}
    try:
        for attempt in range(max_tries):
            a, b = draws[attempt % len(draws)](features, 2, rng)
            b[~continuous] = a[~continuous]
            labels = search.is_positive(np.vstack([a, b]))
            met.update({bool(labels[0]): a, bool(labels[1]): b})
            if labels[0] != labels[1]:
                break
    except BudgetExceeded:
        pass
    return met.get(False), met.get(True)


def lowd_meek(api, *, budget=None, epsilon=1e-9, random_state=0) -> Extraction:
    """Steal a linear binary classifier from its labels (Lowd and Meek 2005; paper section 6).

    The target is ``f(x) = sign(w . x + b)`` on the one-hot encoded row.  Labels fix
    ``(w, b)`` only up to a positive factor; the attack measures every weight in units
    of ``w . u`` for a direction ``u`` that crosses the boundary:

    1. sign witnesses: a negative row ``a`` and a positive row ``b`` with the same
       categories (:func:`_witnesses`); ``u = b - a``, and a line search on ``[a, b]``
       gives a boundary point ``x0`` (``w . x0 + b = 0``);
    2. continuous feature ``j``: step off the boundary, ``x0 + delta e_j``, and line-search
       back along ``u``: the boundary is at ``t`` with ``delta w_j + t (w . u) = 0``, so
       ``w_j / (w . u) = -t / delta``;
    3. categorical feature ``j``, value ``v``: switch ``x0``'s value to ``v`` and
       line-search back to the boundary across the whole continuous box, along the
       direction of the continuous weights now known.  The shift of the boundary gives
       ``w_(j,v) - w_(j,x0_j)``; only these differences matter, since one row has one value
       per feature.  If even the whole box cannot make up for the switch, the value
       decides the label on its own from ``x0``: the attack keeps the bound it found and
       lists the value in ``info["unresolved"]``;
    4. ``b = -w . x0``.

    Categorical features are handled as above (queries stay valid one-hot rows); the
    schema needs at least one continuous feature.

    Parameters
    ----------
    api : PredictionAPI
        A binary target; only the answers' labels are used.
    budget : int or None
        The most queries to spend (None: what the API has left); the line searches then
        get fewer steps if needed.  The least budget, 3 queries per line search (its two
        ends and one step) and 2 for the sign witnesses, is checked before the first query.
    epsilon : float
        Precision of each line search, as a fraction of the segment searched
        (``log2(1 / epsilon)`` queries each).
    random_state : int
        Seeds the sign witnesses.

    Returns
    -------
    Extraction
        ``model`` is ``FeatureEncoder`` then :class:`LinearBoundary`.  ``info`` has
        ``"boundary_point"``; ``"unresolved"``: continuous features whose weight could not
        be measured (weight 0), categorical values only bounded; ``"complete"`` (False: the
        budget ran out, the weights not measured are 0); ``"certified"`` and ``"problems"``
        (:func:`~kit.attacks.budget.certify`).
    """
    _check_target(api, epsilon)
    features = api.features
    continuous = continuous_mask(features)
    searches = 1 + int(continuous.sum()) + sum(f.width - 1 for f in features if f.kind == CATEGORICAL)
    budget = check_budget(api, budget, least=2 + 3 * searches,
                          what=f"Lowd-Meek ({searches} line searches x 3 queries + 2 sign witnesses)")
    start = api.queries_used
    search = LineSearcher(api, budget, math.ceil(math.log2(1 / epsilon)))
    a, b = _witnesses(search, features, check_random_state(random_state))
    if a is None or b is None:
        return _constant(api, start, positive=a is None)
    u = b - a  # w . u > 0: a is negative, b positive
    try:
        t0, _ = search.crossing(a, b, searches)
    except BudgetExceeded:  # the witnesses took more than their share: stop at the middle of [a, b]
        t0 = 0.5
    x0 = a + t0 * u
    weight, shift, unresolved, missing = _measure_weights(search, features, x0, u, searches - 1)
    problems = [f"no step off the boundary along {name} came back to it: weight 0"
                for name in unresolved if isinstance(name, str)]
    if missing:
        problems.append(f"the budget ran out before measuring {', '.join(missing)}: weight 0")
    coef = np.concatenate([
        [weight[j]] if f.kind != CATEGORICAL else [shift.get((j, v), 0.0) for v in range(f.width)]
        for j, f in enumerate(features)
    ])
    intercept = -coef @ encode(features, x0[None])[0]
    stolen = make_pipeline(FeatureEncoder(features), LinearBoundary(coef, intercept, api.classes)).fit(x0[None])
    return Extraction.from_api(stolen, api, since=start, boundary_point=x0, unresolved=unresolved,
                               complete=not missing,
                               **certify("Lowd-Meek", problems))


def _measure_weights(search, features, x0, u, searches):
    """Steps 2 and 3 of :func:`lowd_meek`: every continuous weight, then every category's shift, from ``x0``.

    Returns
    -------
    weight, shift, unresolved, missing
        Continuous weights (an array, in units of ``w . u``); categorical shifts (a dict
        ``(j, v) -> w_(j,v) - w_(j,x0_j)``); the continuous features (names) and categorical
        values (``(name, value)``) measured only as bounds; what the budget left unmeasured.
    """
    to_measure = [(j, None) for j in np.flatnonzero(continuous_mask(features))]
    to_measure += [(j, v) for j, f in enumerate(features) if f.kind == CATEGORICAL
                   for v in range(f.width) if v != x0[j]]
    weight, shift, unresolved = np.zeros(len(features)), {}, []
    for done, (j, v) in enumerate(to_measure):
        try:
            if v is None:
                weight[j], found = _continuous_weight(search, features, x0, u, j, searches - done)
            else:
                shift[j, v], found = _category_shift(search, features, x0, weight, j, v, searches - done)
        except BudgetExceeded:
            return weight, shift, unresolved, [_value_name(features[j], v) for j, v in to_measure[done:]]
        if not found:
            unresolved.append(features[j].name if v is None else (features[j].name, features[j].categories[v]))
    return weight, shift, unresolved, []


def _value_name(feature, value):
    return feature.name if value is None else f"{feature.name}={feature.categories[value]}"


def _continuous_weight(search, features, x0, u, j, searches_left, max_halvings=20):
    """``w_j / (w . u)``: step ``delta`` off the boundary along feature ``j``, line-search back along ``u``.

    Returns ``(weight, found)``; ``(0.0, False)`` when no step, down to ``2**-max_halvings``
    of the room, came back to the boundary inside the box.
    """
    room_up, room_down = features[j].high - x0[j], x0[j] - features[j].low
    delta = room_up / 2 if room_up >= room_down else -room_down / 2
    for _ in range(max_halvings):
        x1 = x0.copy()
        x1[j] += delta
        start, end, t_min, t_max = box_segment(features, x1, u)
        t, found = search.crossing(start, end, searches_left)
        if found:
            return -(t_min + t * (t_max - t_min)) / delta, True
        delta /= 2  # the step was too big to come back to the boundary along u
    return 0.0, False


def _category_shift(search, features, x0, weight, j, v, searches_left):
    """``w_(j,v) - w_(j,x0_j)`` in units of ``w . u``: switch ``x0``'s value of ``j`` to ``v``, and line-search back to
    the boundary across the continuous box along the continuous weights.  Returns ``(shift, found)``; not found: the
    value decides the label on its own, and ``shift`` is the bound the whole box gives."""
    continuous = continuous_mask(features)
    low = np.where(weight > 0, [f.low for f in features], [f.high for f in features])
    high = np.where(weight > 0, [f.high for f in features], [f.low for f in features])
    x1 = x0.copy()
    x1[j] = v
    low_row, high_row = np.where(continuous, low, x1), np.where(continuous, high, x1)
    t, found = search.crossing(low_row, high_row, searches_left)
    return weight @ (x0 - (low_row + t * (high_row - low_row))), found


# --- Lowd-Meek in a polynomial kernel's feature space ------------------------------------------


class Monomials(TransformerMixin, BaseEstimator):
    """The feature map of a degree-``p`` polynomial kernel on one-hot encoded rows: its monomials.

    ``K(x, y) = (gamma x . y + c)^p`` is the inner product of the vectors of all monomials
    of ``x`` of degree 1 to ``p`` (and a constant), each times a fixed factor; the factors
    fold into the weights of a linear model on them, so plain monomials do.  On one-hot
    columns many monomials repeat others on every valid row (``z^2 = z``, two values of one
    feature are never both 1, a feature's columns add up to 1), so the first value of each
    categorical feature is left out and a monomial takes at most one value per feature.
    The constant is left out too (a linear model's intercept).

    Parameters
    ----------
    features : sequence of Feature
        The input schema.
    degree : int
        The kernel's degree ``p``.
    """

    def __init__(self, features=(), degree=2):
        self.features = features
        self.degree = degree

    def fit(self, X=None, y=None):
        """List the monomials: row ``i`` of ``columns_`` holds the encoded columns multiplied in monomial ``i``.

        Nothing is learnt from data: encoded rows ``X``, if given, must have the schema's width.
        """
        feature_of = encoded_columns(self.features)
        categorical = np.array([self.features[j].kind == CATEGORICAL for j in feature_of], dtype=bool)
        first_value = categorical & (np.diff(feature_of, prepend=-1) != 0)
        monomials = [
            combination
            for size in range(1, self.degree + 1)
            for combination in combinations_with_replacement(np.flatnonzero(~first_value), size)
            if _one_value_per_feature(combination, feature_of, categorical)
        ]
        self.columns_ = np.full((len(monomials), self.degree), -1)  # -1: no factor (a lower degree)
        for row, combination in zip(self.columns_, monomials, strict=True):
            row[: len(combination)] = combination
        self.n_features_in_ = len(feature_of)
        if X is not None:
            validate_rows(self, X)
        return self

    def transform(self, X):
        X = validate_rows(self, X)
        with_one = np.hstack([X, np.ones((len(X), 1))])  # column -1 is 1
        products = np.ones((len(X), len(self.columns_)))
        for factor in self.columns_.T:
            products *= with_one[:, factor]
        return products

    def get_feature_names_out(self, input_features=None):
        """Each monomial as text, for instance ``"x1^2"`` or ``"age * sex=Male"``."""
        names = [name for f in self.features
                 for name in ([f"{f.name}={c}" for c in f.categories] if f.kind == CATEGORICAL else [f.name])]

        def monomial(row):
            factors = [c for c in row if c >= 0]
            return " * ".join(names[c] + (f"^{factors.count(c)}" if factors.count(c) > 1 else "")
                              for c in dict.fromkeys(factors))

        return np.array([monomial(row) for row in self.columns_], dtype=object)


def _one_value_per_feature(columns, feature_of, categorical):
    """Whether a product of encoded columns has at most one (one-hot) column of each categorical feature."""
    owners = [feature_of[c] for c in columns if categorical[c]]
    return len(owners) == len(set(owners))


def lowd_meek_poly(api, *, degree=2, budget=None, epsilon=1e-9, points=None, random_state=0) -> Extraction:
    """Steal a polynomial-kernel SVM from its labels: Lowd-Meek in the kernel's feature space (paper section 6).

    With the kernel ``K(x, y) = (gamma x . y + c)^p`` the SVM decides
    ``sign(w . phi(x) + b)``, linear in the monomials ``phi(x)`` of degree <= ``p``
    (:class:`Monomials`; only ``p`` is assumed known, as the paper assumes the model class).
    A line search between a negative and a positive row ends at a point ``x*`` on the
    boundary: one linear equation ``w . phi(x*) + b = 0`` in the unknown ``(w, b)``.  With
    at least as many boundary points as unknowns, ``(w, b)`` spans the null space of these
    equations (found by an SVD), up to a factor whose sign the labelled rows fix.  This is
    Lowd-Meek's "boundary points, then weights" carried to the feature space, as the paper
    suggests for polynomial kernels.

    The null space is one-dimensional only if the boundary is of degree ``p``: a boundary
    of lower degree ``q`` times any polynomial of degree ``p - q`` vanishes on the same
    points.  So the attack tries degrees 1, 2, ..., ``p`` and keeps the first whose
    solution passes within a few bisection steps of the boundary points, is crossed from
    negative to positive by every line search, and labels every row asked right
    (:func:`_lowest_degree_fit`): the lowest-degree consistent solution.  A degree below
    ``p`` must also label right a few corners of the box and rows on its diagonal, far
    from the points.  If another direction fits the points as well, or no degree fits,
    the result is not certified (``info["problems"]`` and an
    :class:`~kit.attacks.budget.UncertifiedWarning`), never a silent wrong model.

    Each line search keeps its rows' categories, so queries stay valid rows.  Directions
    that no boundary point can measure, wherever it lies on its line (monomials that no
    boundary point switches on, categories seen too rarely), get weight 0 (minimum norm):
    ``info["unresolved"]`` names the monomials never switched on, ``info["free_directions"]``
    counts all such directions.

    Parameters
    ----------
    api : PredictionAPI
        A binary target; only the answers' labels are used.
    degree : int
        The kernel's degree ``p`` (the attacker's knowledge of the model class).
    budget : int or None
        The most queries to spend (None: what the API has left); the line searches then
        get fewer steps if needed.  The least budget, checked before the first query, is
        ``points`` random rows plus one bisection step per point (and, with categorical
        features, the two rows of each pair asked again with new categories), plus the
        rows kept to check a lower degree (16, or a tenth of the unknowns if more).
    epsilon : float
        Precision of each line search, as a fraction of its segment (``log2(1 / epsilon)``
        queries each).
    points : int or None
        Boundary points to find, at least the number of unknowns ``k`` (monomials + 1).
        Default ``k``, or ``2 k`` with categorical features (each category combination
        needs its share).  Within a budget, precise points beat more points: each bisection
        step halves a point's error.
    random_state : int
        Seeds the random rows the line searches start from.

    Returns
    -------
    Extraction
        ``model`` is ``FeatureEncoder``, :class:`Monomials`, then :class:`LinearBoundary`
        (labels only: no ``predict_proba``).  ``info`` has ``"degree"`` (of the solution
        kept), ``"boundary_points"``, ``"unresolved"``, ``"free_directions"``,
        ``"complete"`` (False: the budget ran out before every pair was found),
        ``"certified"`` and ``"problems"``.
    """
    _check_target(api, epsilon)
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
        raise ValueError(f"degree must be a whole number of at least 1, got {degree!r}")
    unknowns = len(Monomials(api.features, degree).fit().columns_) + 1
    categorical = not continuous_mask(api.features).all()
    if points is None:  # rows on the boundary with random categories meet some combinations rarely: take more
        points = 2 * unknowns if categorical else unknowns
    if isinstance(points, bool) or not isinstance(points, int) or points < unknowns:
        raise ValueError(f"points must be a whole number of at least {unknowns} (monomials + 1), got {points!r}")
    per_point, far_rows = (4 if categorical else 2), max(16, unknowns // 10)
    budget = check_budget(api, budget, least=per_point * points + far_rows,
                          what=f"Lowd-Meek ({points} boundary points x {per_point} queries + {far_rows} rows to check)")
    start = api.queries_used
    search = LineSearcher(api, budget, math.ceil(math.log2(1 / epsilon)))
    rng = check_random_state(random_state)
    negatives, positives, pool, pool_positive = _opposite_pairs(search, api.features, points, rng,
                                                                reserve=points + far_rows)  # a step each
    if not len(negatives):
        return _constant(api, start, positive=pool_positive.mean() > 0.5)
    labelled = (np.vstack([pool, negatives, positives]),
                np.concatenate([pool_positive, np.zeros(len(negatives), bool), np.ones(len(positives), bool)]))
    steps = search.steps if search.stop is None else min(search.steps, (search.left - far_rows) // len(negatives))
    boundary = _bisect_all(search, negatives, positives, steps)
    segments = (negatives, positives, boundary, steps)
    anywhere = np.where(continuous_mask(api.features), sample_uniform(api.features, len(boundary), rng), boundary)
    fit = _lowest_degree_fit(api.features, degree, segments, labelled, anywhere)
    if fit["degree"] < degree:  # a lower degree fits: check it far from the points too (corners, the diagonal)
        far = _search_rows(api.features, far_rows, rng)
        labelled = (np.vstack([labelled[0], far]), np.concatenate([labelled[1], search.is_positive(far)]))
        fit = _lowest_degree_fit(api.features, degree, segments, labelled, anywhere)
    if len(negatives) < points:
        fit["problems"].insert(0, f"found only {len(negatives)} of {points} pairs of differently labelled rows "
                                  f"in {api.queries_used - start} queries")
    boundary_model = LinearBoundary(fit["weights"][:-1], fit["weights"][-1], api.classes)
    stolen = make_pipeline(FeatureEncoder(api.features), fit["feature_map"], boundary_model).fit(boundary[:1])
    return Extraction.from_api(stolen, api, since=start, boundary_points=boundary, degree=fit["degree"],
                               unresolved=fit["unresolved"], free_directions=fit["free_directions"],
                               complete=len(negatives) == points, **certify("Lowd-Meek", fit["problems"]))


def _lowest_degree_fit(features, degree, segments, labelled, anywhere):
    """The boundary of the lowest degree ``q <= degree`` through the boundary points, right on every labelled row.

    ``segments`` holds the line searches: ``(negatives, positives, boundary points,
    steps)``.  "Through" is judged by their precision: the true boundary crosses each
    segment within half a bisection bracket of its point, so a right solution crosses
    near it (:func:`_misfit`), from negative to positive.  A solution is kept if its
    median misfit is within 64 half-brackets (5 bisection steps; at least 4, at most 1/64
    of a segment), every segment crosses it the right way, and every row whose label the
    attack knows (``labelled``: rows, and whether each is positive) comes out right.  It
    is certified only if the next-best direction of the null space does not fit the
    points as well (the null space is then one-dimensional).  ``anywhere`` is the
    boundary points with random continuous values, to find the directions no point
    measures (:func:`_null_direction`).

    Returns
    -------
    dict
        ``feature_map`` (:class:`Monomials` of degree ``q``), ``weights`` (``(w, b)`` on
        its monomials), ``degree``, ``unresolved``, ``free_directions`` and ``problems``.
    """
    negatives, positives, boundary, steps = segments
    tolerance = float(np.clip(2.0 ** (steps - 5), 4, 64))  # half-brackets: 5 steps; 4 to 1/64 of a segment
    for q in range(1, degree + 1):
        feature_map = Monomials(features, q).fit()
        on_boundary = _phi(feature_map, features, boundary)
        toward_positive = (_phi(feature_map, features, positives) - _phi(feature_map, features, negatives)).mean(axis=0)
        weights, second, free = _null_direction(on_boundary, _phi(feature_map, features, anywhere), toward_positive)
        offsets, rising = _misfit(feature_map, features, weights, segments)
        wrong = np.sum((_phi(feature_map, features, labelled[0]) @ weights > 0) != labelled[1])
        flaws = _flaws(np.median(offsets), tolerance, np.sum(~rising), wrong, len(labelled[1]))
        if not flaws:
            break
    problems = [f"the degree-{q} solution " + ", ".join(flaws)] if flaws else []
    if second is not None and np.median(_misfit(feature_map, features, second, segments)[0]) <= tolerance:
        problems.append(f"more than one boundary of degree {q} passes through the boundary points (the null space is "
                        "not one-dimensional): more points, or more varied ones, are needed to tell them apart")
    unresolved = list(feature_map.get_feature_names_out()[~on_boundary[:, :-1].any(axis=0)])
    return {"feature_map": feature_map, "weights": weights, "degree": q, "unresolved": unresolved,
            "free_directions": free, "problems": problems}


def _flaws(misfit, tolerance, wrong_way, wrong_labels, labels):
    """What rules a solution out, one phrase each (none: it fits)."""
    flaws = []
    if misfit > tolerance:
        flaws.append(f"misses the boundary points by {misfit:.3g} half-brackets (median)")
    if wrong_way:
        flaws.append(f"is crossed the wrong way by {wrong_way} line searches")
    if wrong_labels:
        flaws.append(f"gets {wrong_labels} of the {labels} labels asked wrong")
    return flaws


def _phi(feature_map, features, X):
    """The feature map of raw rows ``X``, with a last column of ones for the intercept."""
    return np.hstack([feature_map.transform(encode(features, X)), np.ones((len(X), 1))])


def _misfit(feature_map, features, weights, segments):
    """How far the boundary of ``weights`` crosses each segment from the point its line search found.

    The line search on ``negative -> positive`` ended with a bracket of half-width
    ``2**-(steps + 1)`` of the segment around its point, with the boundary inside it.
    Returns, for each point, the distance to where ``weights`` (``w . phi + b``) crosses
    the segment, in these half-widths (a Newton step), and whether it crosses it from
    negative to positive.
    """
    negatives, positives, boundary, steps = segments
    half_bracket = 2.0 ** -(steps + 1) * (positives - negatives)
    at, before, after = (_phi(feature_map, features, rows) @ weights
                         for rows in (boundary, boundary - half_bracket, boundary + half_bracket))
    slope = (after - before) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(at / slope), slope > 0


def _opposite_pairs(search, features, n_pairs, rng, reserve, max_rows=2**16, max_rounds=1000):
    """Up to ``n_pairs`` different (negative row, positive row) pairs, the two rows of a pair with the same categories.

    The continuous values come from a pool of random rows, asked first (``n_pairs`` of them,
    doubled whenever it runs short of untried pairs of a negative and a positive row); it
    stops early rather than leave fewer than ``reserve`` queries of the budget for what
    follows.  With
    categorical features, each pair then gets fresh random categories (each value as often
    as the others), so that the boundary points meet many combinations of categories; its
    two rows are asked again, and the pair is kept if their labels still differ.

    Returns
    -------
    negatives, positives, pool, pool_positive
        The pairs found (fewer than ``n_pairs`` if the budget or the target allowed no
        more), the pool's rows and whether each is positive.
    """
    categorical = ~continuous_mask(features)
    pool, positive = np.empty((0, len(features))), np.empty(0, dtype=bool)
    tried, negatives, positives = set(), [], []
    for _ in range(max_rounds):
        wanted = n_pairs - len(negatives)
        spare = np.inf if search.left is None else search.left - reserve  # queries this search may still spend
        if not wanted or spare < 1:
            break
        if positive.sum() * (~positive).sum() - len(tried) < 2 * wanted:
            room = min(max_rows - len(pool), spare - 2 * wanted * categorical.any())  # keep the pairs' second asks
            if room < 1:
                break
            rows = sample_uniform(features, int(min(max(n_pairs, len(pool)), room)), rng)
            pool, positive = np.vstack([pool, rows]), np.concatenate([positive, search.is_positive(rows)])
            continue
        drawn = zip(rng.choice(np.flatnonzero(~positive), wanted), rng.choice(np.flatnonzero(positive), wanted),
                    strict=True)
        new = sorted(set(drawn) - tried)
        if categorical.any() and search.left is not None:
            new = new[: int(spare // 2)]  # each pair's two rows are asked again
        tried.update(new)
        first, second = pool[[i for i, _ in new]], pool[[j for _, j in new]]
        first_positive, second_positive = np.zeros(len(new), dtype=bool), np.ones(len(new), dtype=bool)
        if categorical.any():
            categories = _balanced_categories(features, len(new), rng)
            first, second = np.where(categorical, categories, first), np.where(categorical, categories, second)
            first_positive, second_positive = np.split(search.is_positive(np.vstack([first, second])), 2)
        differ, swap = first_positive != second_positive, first_positive[:, None]
        negatives.extend(np.where(swap, second, first)[differ])
        positives.extend(np.where(swap, first, second)[differ])
    shape = (-1, len(features))
    return np.reshape(negatives, shape), np.reshape(positives, shape), pool, positive


def _balanced_categories(features, n, rng):
    """``n`` random rows whose categorical features take each of their values equally often (give or take one)."""
    rows = sample_uniform(features, n, rng)
    for j, feature in enumerate(features):
        if feature.kind == CATEGORICAL:
            rows[:, j] = rng.permutation(np.resize(np.arange(feature.width), n))
    return rows


def _bisect_all(search, negatives, positives, steps):
    """Line-search every segment ``negative -> positive`` at once, ``steps`` bisection steps, one batch each.

    Returns points within ``2**-(steps + 1)`` of the boundary (a share of each segment).
    """
    # a pair's rows share their categories, so the path between them is the straight segment
    return bisect_paths(lambda rows: ~search.is_positive(rows), search.api.features, negatives, positives, 0.0, steps)


def _null_direction(equations, generic, toward, tolerance=1e-9):
    """The unit ``v`` with ``equations @ v = 0`` (least squares), signed so that ``toward . v > 0``.

    ``generic`` is ``equations`` with random continuous values in the same rows: the
    directions where it vanishes (singular values below ``tolerance``, relative) are those
    that no row with these categories measures, wherever it lies, such as the monomials no
    row switches on.  ``v`` has no part in them (minimum norm); in the others it is the
    equations' smallest singular direction.  Columns are scaled to unit norm for the SVDs.

    Returns
    -------
    v, second, free : ndarray, ndarray or None, int
        The solution, the next smallest singular direction (None if there is none), and
        how many directions no equation could measure.
    """
    scale = np.linalg.norm(generic, axis=0)
    scale[scale == 0] = 1.0
    _, singular, directions = np.linalg.svd(generic / scale, full_matrices=False)
    measurable = directions[singular > tolerance * singular[0]]
    _, _, within = np.linalg.svd(equations / scale @ measurable.T)  # all directions, even with few equations
    smallest = measurable.T @ within[::-1][:2].T / scale[:, None]  # columns: the smallest direction, the next
    v, second = smallest[:, 0], (smallest[:, 1] if len(within) > 1 else None)
    return v * np.sign(toward @ v), second, len(directions) - len(measurable)
