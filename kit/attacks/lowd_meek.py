"""Lowd-Meek: steal a linear classifier, or a polynomial-kernel SVM, from its labels (paper section 6).

With labels only, a line search between two differently labelled rows finds a point on
the decision boundary; boundary points of a linear model give its weights, up to a
positive factor (Lowd and Meek, 2005).  A polynomial-kernel SVM is linear in the kernel's
monomials, so the same idea works there (:func:`lowd_meek_poly`).
"""

from __future__ import annotations

import math
from itertools import combinations_with_replacement

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.utils import check_random_state

from ..extraction import Extraction
from ..features import (
    CATEGORICAL,
    FeatureEncoder,
    continuous_mask,
    encode,
    encoded_columns,
    sample_uniform,
    validate_rows,
)
from .budget import check_budget
from .linesearch import LineSearcher, bisect_paths, box_segment


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



def _witnesses(search, features, rng, max_tries=200):
    """A negative and a positive row with the same categorical values (Lowd-Meek's sign witnesses).

    Draws a random row ``a`` and random continuous values for a second row ``b`` with
    ``a``'s categories, until their labels differ.
    """
    continuous = continuous_mask(features)
    for _ in range(max_tries):
        a, b = sample_uniform(features, 2, rng)
        b[~continuous] = a[~continuous]
        labels = search.is_positive(np.vstack([a, b]))
        if labels[0] != labels[1]:
            return (a, b) if labels[1] else (b, a)
    raise ValueError(f"no two rows with the same categories and different labels in {max_tries} tries; "
                     "the target looks constant")


def lowd_meek(api, *, budget=None, epsilon=1e-9, random_state=0) -> Extraction:
    """Steal a linear binary classifier from its labels (Lowd and Meek 2005; paper section 6).

    The target is ``f(x) = sign(w . x + b)`` on the one-hot encoded row.  Labels fix
    ``(w, b)`` only up to a positive factor; the attack measures every weight in units
    of ``w . u`` for a direction ``u`` that crosses the boundary:

    1. sign witnesses: a negative row ``a`` and a positive row ``b`` with the same
       categories; ``u = b - a``, and a line search on ``[a, b]`` gives a boundary point
       ``x0`` (``w . x0 + b = 0``);
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
        The most queries to spend; the line searches then get fewer steps if needed.
    epsilon : float
        Precision of each line search, as a fraction of the segment searched
        (``log2(1 / epsilon)`` queries each).
    random_state : int
        Seeds the sign witnesses.

    Returns
    -------
    Extraction
        ``model`` is ``FeatureEncoder`` then :class:`LinearBoundary`; ``info`` has
        ``"boundary_point"`` and ``"unresolved"`` (categorical values only bounded).
    """
    if len(api.classes) != 2:
        raise ValueError(f"Lowd-Meek steals binary classifiers; this API has {len(api.classes)} classes")
    continuous = continuous_mask(api.features)
    if not continuous.any():
        raise ValueError("Lowd-Meek needs at least one continuous feature to line-search along")
    if not 0 < epsilon < 1:
        raise ValueError(f"epsilon must be between 0 and 1, got {epsilon!r}")
    check_budget(api, budget)
    start, features = api.queries_used, api.features
    categorical_values = [(j, v) for j, f in enumerate(features) if f.kind == CATEGORICAL for v in range(f.width)]
    searches = 1 + continuous.sum() + len(categorical_values) - (len(features) - continuous.sum())
    search = LineSearcher(api, budget, math.ceil(math.log2(1 / epsilon)))

    a, b = _witnesses(search, features, check_random_state(random_state))
    u = b - a  # w . u > 0: a is negative, b positive
    t0, _ = search.crossing(a, b, searches)
    x0 = a + t0 * u
    searches -= 1

    weight = np.zeros(len(features))  # continuous weights, in units of w . u
    for j in np.flatnonzero(continuous):
        weight[j] = _continuous_weight(search, features, x0, u, j, searches)
        searches -= 1

    corner_low = np.where(weight > 0, [f.low for f in features], [f.high for f in features])
    corner_high = np.where(weight > 0, [f.high for f in features], [f.low for f in features])
    shift, unresolved = {}, []
    for j, v in categorical_values:
        if v == x0[j]:
            continue
        x1 = x0.copy()
        x1[j] = v
        low_row, high_row = np.where(continuous, corner_low, x1), np.where(continuous, corner_high, x1)
        t, found = search.crossing(low_row, high_row, searches)
        shift[j, v] = weight @ (x0 - (low_row + t * (high_row - low_row)))
        searches -= 1
        if not found:
            unresolved.append((features[j].name, features[j].categories[v]))

    coef = np.concatenate([
        [weight[j]] if f.kind != CATEGORICAL else [shift.get((j, v), 0.0) for v in range(f.width)]
        for j, f in enumerate(features)
    ])
    intercept = -coef @ encode(features, x0[None])[0]
    stolen = make_pipeline(FeatureEncoder(features), LinearBoundary(coef, intercept, api.classes)).fit(x0[None])
    return Extraction.from_api(stolen, api, since=start, boundary_point=x0, unresolved=unresolved)


def _continuous_weight(search, features, x0, u, j, searches_left, max_halvings=20):
    """``w_j / (w . u)``: step ``delta`` off the boundary along feature ``j``, line-search back along ``u``."""
    room_up, room_down = features[j].high - x0[j], x0[j] - features[j].low
    delta = room_up / 2 if room_up >= room_down else -room_down / 2
    for _ in range(max_halvings):
        x1 = x0.copy()
        x1[j] += delta
        start, end, t_min, t_max = box_segment(features, x1, u)
        t, found = search.crossing(start, end, searches_left)
        if found:
            return -(t_min + t * (t_max - t_min)) / delta
        delta /= 2  # the step was too big to come back to the boundary along u
    return 0.0


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
        The most queries to spend; the line searches then get fewer steps if needed.
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
        (labels only: no ``predict_proba``);
        ``info`` has ``"boundary_points"``, ``"unresolved"`` and ``"free_directions"``.
    """
    if len(api.classes) != 2:
        raise ValueError(f"Lowd-Meek steals binary classifiers; this API has {len(api.classes)} classes")
    if not continuous_mask(api.features).any():
        raise ValueError("Lowd-Meek needs at least one continuous feature to line-search along")
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
        raise ValueError(f"degree must be a whole number of at least 1, got {degree!r}")
    if not 0 < epsilon < 1:
        raise ValueError(f"epsilon must be between 0 and 1, got {epsilon!r}")
    check_budget(api, budget)
    feature_map = Monomials(api.features, degree).fit()
    unknowns = len(feature_map.columns_) + 1
    if points is None:  # rows on the boundary with random categories meet some combinations rarely: take more
        points = unknowns if continuous_mask(api.features).all() else 2 * unknowns
    if isinstance(points, bool) or not isinstance(points, int) or points < unknowns:
        raise ValueError(f"points must be a whole number of at least {unknowns} (monomials + 1), got {points!r}")
    start = api.queries_used
    search = LineSearcher(api, budget, math.ceil(math.log2(1 / epsilon)))
    rng = check_random_state(random_state)
    negatives, positives = _opposite_pairs(search, api.features, points, rng)
    boundary = _bisect_all(search, negatives, positives)

    def phi(X):  # the feature map, with a last column of ones for the intercept
        return np.hstack([feature_map.transform(encode(api.features, X)), np.ones((len(X), 1))])

    on_boundary = phi(boundary)
    anywhere = np.where(continuous_mask(api.features), sample_uniform(api.features, len(boundary), rng), boundary)
    toward_positive = phi(positives).mean(axis=0) - phi(negatives).mean(axis=0)
    weights, free = _null_direction(on_boundary, phi(anywhere), toward_positive)
    boundary_model = LinearBoundary(weights[:-1], weights[-1], api.classes)
    stolen = make_pipeline(FeatureEncoder(api.features), feature_map, boundary_model).fit(boundary[:1])
    unresolved = list(feature_map.get_feature_names_out()[~on_boundary[:, :-1].any(axis=0)])
    return Extraction.from_api(stolen, api, since=start, boundary_points=boundary, unresolved=unresolved,
                               free_directions=free)


def _opposite_pairs(search, features, n_pairs, rng, max_rows=2**16, max_rounds=1000):
    """``n_pairs`` different (negative row, positive row) pairs, the two rows of a pair with the same categories.

    The continuous values come from a pool of random rows, asked first (``n_pairs`` of them,
    doubled whenever it runs short of untried pairs of a negative and a positive row).  With
    categorical features, each pair then gets fresh random categories (each value as often
    as the others), so that the boundary points meet many combinations of categories; its
    two rows are asked again, and the pair is kept if their labels still differ.
    """
    categorical = ~continuous_mask(features)
    pool, positive = np.empty((0, len(features))), np.empty(0, dtype=bool)
    tried, negatives, positives = set(), [], []
    for _ in range(max_rounds):
        wanted = n_pairs - len(negatives)
        if not wanted:
            return np.array(negatives), np.array(positives)
        if positive.sum() * (~positive).sum() - len(tried) < 2 * wanted:
            if len(pool) >= max_rows:
                break
            rows = sample_uniform(features, max(n_pairs, len(pool)), rng)
            pool, positive = np.vstack([pool, rows]), np.concatenate([positive, search.is_positive(rows)])
            continue
        drawn = zip(rng.choice(np.flatnonzero(~positive), wanted), rng.choice(np.flatnonzero(positive), wanted),
                    strict=True)
        new = sorted(set(drawn) - tried)
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
    raise ValueError(f"found only {len(negatives)} of {n_pairs} pairs of differently labelled rows with the same "
                     "categories; the target looks (nearly) constant")


def _balanced_categories(features, n, rng):
    """``n`` random rows whose categorical features take each of their values equally often (give or take one)."""
    rows = sample_uniform(features, n, rng)
    for j, feature in enumerate(features):
        if feature.kind == CATEGORICAL:
            rows[:, j] = rng.permutation(np.resize(np.arange(feature.width), n))
    return rows


def _bisect_all(search, negatives, positives):
    """Line-search every segment ``negative -> positive`` at once, one batch of queries per bisection step.

    Returns points within ``2**-steps`` of the boundary (a share of each segment), with
    fewer steps than ``search.steps`` if the budget asks for it.
    """
    steps = search.steps
    if search.stop is not None:
        steps = min(steps, (search.stop - search.api.queries_used) // len(negatives))
    if steps < 1:
        raise ValueError(f"budget of {search.budget} queries is too small for Lowd-Meek: each of its "
                         f"{len(negatives)} line searches needs at least one query")
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
    v, free : ndarray, int
        The solution, and how many directions no equation could measure.
    """
    scale = np.linalg.norm(generic, axis=0)
    scale[scale == 0] = 1.0
    _, singular, directions = np.linalg.svd(generic / scale, full_matrices=False)
    measurable = directions[singular > tolerance * singular[0]]
    _, _, within = np.linalg.svd(equations / scale @ measurable.T, full_matrices=False)
    v = measurable.T @ within[-1] / scale
    return v * np.sign(toward @ v), len(directions) - len(measurable)


