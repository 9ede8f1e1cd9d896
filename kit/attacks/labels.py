"""Labels only: the Lowd-Meek attack and retraining (paper section 6).

When the API answers with a class label and nothing else, equation solving has nothing
to solve.  Two families of attacks remain:

* :func:`lowd_meek` (Lowd and Meek, 2005) for linear binary classifiers: find the
  decision boundary by line searches and read the weights off it, one ratio at a time.
  Exact up to the line-search precision, at about 50 times the cost of equation solving.
* :func:`lowd_meek_poly`: the same idea for polynomial-kernel SVMs, run in the kernel's
  feature space, where their decision is linear again.
* :func:`retraining`: query points, fit a model of the target's class on the answers.
  The paper compares three ways of choosing the points: ``"uniform"`` (random points,
  the naive baseline), ``"line-search"`` (points near the boundary found by bisection)
  and ``"adaptive"`` (active learning: ask where the current copy is least sure).

Budgets follow the paper: ``alpha`` times the number of the target's parameters
(:func:`budget_for`).
"""

from __future__ import annotations

import copy
import math
import warnings
from itertools import combinations_with_replacement

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.utils import check_random_state

from ..extraction import Extraction
from ..features import CATEGORICAL, FeatureEncoder, encode, encoded_columns, encoded_width, sample_uniform
from .budget import check_budget

STRATEGIES = ("uniform", "line-search", "adaptive")
MODELS = ("logreg", "softmax", "rbf-svm", "mlp")


# --- budgets ---------------------------------------------------------------------------


def n_parameters(api, model, *, hidden=20) -> int:
    """Number of parameters of a target of this kind (the paper's k in ``alpha * k``).

    Parameters
    ----------
    api : PredictionAPI or Dataset
        Anything with ``features`` and ``classes``.
    model : {"logreg", "softmax", "rbf-svm", "mlp"}
        ``d + 1`` for a binary linear model (and, as in the paper's Figure 6, for an
        RBF SVM), ``c (d + 1)`` for softmax, ``h (d + 1) + (h + 1) c`` for an MLP
        with ``h`` hidden units.
    hidden : int
        Hidden units of the MLP.
    """
    _check_choice("model", model, MODELS)
    d, c = encoded_width(api.features), len(api.classes)
    if model == "softmax":
        return c * (d + 1)
    if model == "mlp":
        return hidden * (d + 1) + (hidden + 1) * c
    return d + 1


def budget_for(alpha, api, model, *, hidden=20) -> int:
    """Query budget ``alpha * k`` of the paper's figures 4-6 (see :func:`n_parameters`).

    >>> budget_for(20, api, "logreg")   # on Adult (Income), d = 108: 2,180 queries
    """
    if not alpha > 0:
        raise ValueError(f"alpha must be a positive number, got {alpha!r}")
    return max(1, round(alpha * n_parameters(api, model, hidden=hidden)))


# --- helpers shared by both attacks -----------------------------------------------------


def _check_choice(what, value, choices):
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")


def _continuous(features) -> np.ndarray:
    """Mask of the raw columns that hold continuous features."""
    return np.array([feature.kind != CATEGORICAL for feature in features])


# --- Lowd-Meek ----------------------------------------------------------------------------


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
        """Nothing to learn: record the given weights as ``coef_``, ``intercept_``, ``classes_``."""
        self.coef_ = np.asarray(self.coef, dtype=float)
        self.intercept_ = float(self.intercept)
        self.classes_ = np.asarray(self.classes)
        return self

    def decision_function(self, X):
        return np.asarray(X, dtype=float) @ self.coef_ + self.intercept_

    def predict(self, X):
        return self.classes_[(self.decision_function(X) > 0).astype(int)]


class _LineSearcher:
    """Bisection on segments of rows, asking the API only for labels; shares one query budget."""

    def __init__(self, api, budget, steps):
        self.api, self.steps, self.budget = api, steps, budget
        self.positive = api.classes[1]
        self.stop = None if budget is None else api.queries_used + budget

    def is_positive(self, X):
        X = np.atleast_2d(X)
        if not len(X):  # nothing left to ask (an API refuses empty batches)
            return np.zeros(0, dtype=bool)
        if self.stop is not None and self.api.queries_used + len(X) > self.stop:
            raise ValueError(f"budget of {self.budget} queries is too small for Lowd-Meek on this schema")
        return self.api.query(X).labels == self.positive

    def crossing(self, start, end, searches_left):
        """Where the label turns positive on ``start -> end`` (rows with the same categories).

        Returns ``(t, found)``: ``start + t (end - start)`` is within ``2**-steps`` of the
        boundary; when both ends have the same label there is no crossing, and ``t`` is
        the end it lies beyond (0 if both are positive, 1 if both negative).
        """
        steps = self.steps
        if self.stop is not None:  # share what is left of the budget among the searches to come
            steps = min(steps, (self.stop - self.api.queries_used) // searches_left - 2)
        if steps < 1:
            raise ValueError(f"budget of {self.budget} queries is too small for Lowd-Meek: each of the "
                             f"{searches_left} line searches left needs at least 3 queries")
        start_positive, end_positive = self.is_positive(np.vstack([start, end]))
        if start_positive == end_positive:
            return float(not start_positive), False
        low, high = 0.0, 1.0  # invariant: label(low) == label(start) != label(high)
        for _ in range(steps):
            middle = (low + high) / 2
            if self.is_positive(start + middle * (end - start))[0] == start_positive:
                low = middle
            else:
                high = middle
        return (low + high) / 2, True


def _witnesses(search, features, rng, max_tries=200):
    """A negative and a positive row with the same categorical values (Lowd-Meek's sign witnesses).

    Draws a random row ``a`` and random continuous values for a second row ``b`` with
    ``a``'s categories, until their labels differ.
    """
    continuous = _continuous(features)
    for _ in range(max_tries):
        a, b = sample_uniform(features, 2, rng)
        b[~continuous] = a[~continuous]
        labels = search.is_positive(np.vstack([a, b]))
        if labels[0] != labels[1]:
            return (a, b) if labels[1] else (b, a)
    raise ValueError(f"no two rows with the same categories and different labels in {max_tries} tries; "
                     "the target looks constant")


def _box_segment(features, x, u):
    """The longest segment ``x + t u`` inside the continuous ranges: its two end rows and the t of each."""
    moving = _continuous(features) & (u != 0)
    to_low = (np.array([f.low for f in features])[moving] - x[moving]) / u[moving]
    to_high = (np.array([f.high for f in features])[moving] - x[moving]) / u[moving]
    t_min, t_max = np.minimum(to_low, to_high).max(), np.maximum(to_low, to_high).min()
    return x + t_min * u, x + t_max * u, t_min, t_max


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
    continuous = _continuous(api.features)
    if not continuous.any():
        raise ValueError("Lowd-Meek needs at least one continuous feature to line-search along")
    if not 0 < epsilon < 1:
        raise ValueError(f"epsilon must be between 0 and 1, got {epsilon!r}")
    check_budget(api, budget)
    start, features = api.queries_used, api.features
    categorical_values = [(j, v) for j, f in enumerate(features) if f.kind == CATEGORICAL for v in range(f.width)]
    searches = 1 + continuous.sum() + len(categorical_values) - (len(features) - continuous.sum())
    search = _LineSearcher(api, budget, math.ceil(math.log2(1 / epsilon)))

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
        start, end, t_min, t_max = _box_segment(features, x1, u)
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
        """List the monomials: row ``i`` of ``columns_`` holds the encoded columns multiplied in monomial ``i``."""
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
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
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
    if not _continuous(api.features).any():
        raise ValueError("Lowd-Meek needs at least one continuous feature to line-search along")
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
        raise ValueError(f"degree must be a whole number of at least 1, got {degree!r}")
    if not 0 < epsilon < 1:
        raise ValueError(f"epsilon must be between 0 and 1, got {epsilon!r}")
    check_budget(api, budget)
    feature_map = Monomials(api.features, degree).fit()
    unknowns = len(feature_map.columns_) + 1
    if points is None:  # rows on the boundary with random categories meet some combinations rarely: take more
        points = unknowns if _continuous(api.features).all() else 2 * unknowns
    if isinstance(points, bool) or not isinstance(points, int) or points < unknowns:
        raise ValueError(f"points must be a whole number of at least {unknowns} (monomials + 1), got {points!r}")
    start = api.queries_used
    search = _LineSearcher(api, budget, math.ceil(math.log2(1 / epsilon)))
    rng = check_random_state(random_state)
    negatives, positives = _opposite_pairs(search, api.features, points, rng)
    boundary = _bisect_all(search, negatives, positives)

    def phi(X):  # the feature map, with a last column of ones for the intercept
        return np.hstack([feature_map.transform(encode(api.features, X)), np.ones((len(X), 1))])

    on_boundary = phi(boundary)
    anywhere = np.where(_continuous(api.features), sample_uniform(api.features, len(boundary), rng), boundary)
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
    categorical = ~_continuous(features)
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
    return _bisect_paths(lambda rows: ~search.is_positive(rows), search.api.features, negatives, positives, 0.0, steps)


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


# --- retraining -------------------------------------------------------------------------------


def _estimator(model, random_state, params):
    """The scikit-learn model the attacker fits, in the target's model class (paper section 6)."""
    if model in ("logreg", "softmax"):  # weakly regularised: the answers are (nearly) separable
        return LogisticRegression(**{"C": 1e5, "max_iter": 500, **params})
    if model == "mlp":
        defaults = {"hidden_layer_sizes": (20,), "activation": "tanh", "max_iter": 1000}
        return MLPClassifier(**{**defaults, **params, "random_state": random_state})
    return SVC(**{"kernel": "rbf", "C": 100.0, **params, "random_state": random_state})


def _candidates(api, model, params, rng, widths=(1.0, 0.3, 3.0, 0.1, 10.0)):
    """Settings of the stolen model to extract-and-test (paper section 6): one, or several RBF widths.

    Widths are multiples of scikit-learn's ``"scale"`` heuristic ``1 / (d Var(x))``, taken
    over uniform rows of the feature space (public), not over the answers, whose spread
    depends on where the attack asked; the heuristic comes first, to win ties.
    """
    if model != "rbf-svm" or "gamma" in params:
        return [params]
    box = encode(api.features, sample_uniform(api.features, 1000, rng))
    scale = 1.0 / (box.shape[1] * box.var())
    return [{**params, "gamma": width * scale} for width in widths]


def _fit(api, model, X, y, rng, params):
    """Fit the stolen model on the answers so far: the encoder, then the model (or a constant with one class)."""
    if len(np.unique(y)) < 2:
        estimator = DummyClassifier(strategy="most_frequent")
    else:
        estimator = _estimator(model, rng.randint(2**31), params)
    with warnings.catch_warnings():
        # Labels from the target are (nearly) separable by the model class: the solvers then push the
        # weights up until their iteration cap while the boundary itself has long stopped moving.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make_pipeline(FeatureEncoder(api.features), estimator).fit(X, y)


def _fit_best(api, model, X, y, rng, candidates, held_out=0.2):
    """Extract-and-test: fit each candidate setting on 80% of the answers; refit the best on all of them."""
    if len(candidates) > 1:
        test = rng.permutation(len(X))[: max(1, round(held_out * len(X)))]
        train = np.setdiff1d(np.arange(len(X)), test)
        scores = [_fit(api, model, X[train], y[train], rng, c).score(X[test], y[test]) for c in candidates]
        candidates = [candidates[int(np.argmax(scores))]]
    return _fit(api, model, X, y, rng, candidates[0])


def _ask(api, X):
    return X, api.query(X).labels


def _corners(features, n, rng):
    """``n`` random corners of the feature box: continuous features at their low or high end, categories at random.

    For a linear boundary ``w . x + b = 0`` on ``[-1, 1]^d``, ``w . s`` over the corners
    ``s`` has three times the variance of ``w . x`` over uniform rows, so corners reach
    a class that holds only a far corner of the box much more often than uniform rows.
    """
    X = sample_uniform(features, n, rng)
    for j in np.flatnonzero(_continuous(features)):
        X[:, j] = np.where(rng.uniform(size=n) < 0.5, features[j].low, features[j].high)
    return X


def _diagonal(features, n, rng):
    """``n`` random rows on the box's main diagonal: all continuous features at one random fraction of their range.

    Real features tend to rise together (sizes, counts, ages) and to crowd one end of
    their range, so the data, and the class its owner cares about, often lies along the
    line from the all-low row to the all-high row, in a part of the box too small for
    uniform rows (or corners) to find.
    """
    X = sample_uniform(features, n, rng)
    fraction = rng.uniform(size=n)
    for j in np.flatnonzero(_continuous(features)):
        X[:, j] = features[j].low + fraction * (features[j].high - features[j].low)
    return X


def _search_rows(features, n, rng):
    """``n`` rows that look for a rare class where uniform rows hardly go: half corners, half on the diagonal."""
    return np.vstack([_corners(features, n - n // 2, rng), _diagonal(features, n // 2, rng)])


def _explore_rows(features, n, y, rng):
    """``n`` random rows to explore with: half uniform, half :func:`_search_rows`; all the latter while one class."""
    uniform = n // 2 if len(np.unique(y)) > 1 else 0
    return np.vstack([sample_uniform(features, uniform, rng), _search_rows(features, n - uniform, rng)])


def _on_path(features, start, end, t, switch):
    """Rows on the paths ``start -> end`` at ``t`` in [0, 1] (one path per row of ``start``, ``end``, ``t``).

    Continuous features move linearly; each categorical feature switches from ``start``'s
    value to ``end``'s once ``t`` passes its ``switch``, so every row on a path is a valid row.
    """
    t = np.asarray(t, dtype=float)[:, None]
    return np.where(_continuous(features), start + t * (end - start), np.where(t < switch, start, end))


def _bisect_paths(on_start_side, features, start, end, switch, steps):
    """Bisect every path ``start -> end`` (:func:`_on_path`) at once, ``steps`` times; return the rows in the middle.

    ``on_start_side(rows)`` tells, for one row per path, whether it is on its start's
    side of the boundary; after the last step each returned row is within
    ``2**-(steps + 1)`` of its path's crossing.
    """
    low, high = np.zeros(len(start)), np.ones(len(start))  # invariant: start's side at low, the other at high
    for _ in range(steps):
        middle = (low + high) / 2
        same = on_start_side(_on_path(features, start, end, middle, switch))
        low, high = np.where(same, middle, low), np.where(same, high, middle)
    return _on_path(features, start, end, (low + high) / 2, switch)


def _differently_labelled_pairs(y, n, rng):
    """``n`` random index pairs ``(i, j)`` with ``y[i] != y[j]`` (``y`` holds at least two classes)."""
    first, second = rng.choice(len(y), n), np.empty(n, dtype=int)
    for label in np.unique(y[first]):
        mine = y[first] == label
        second[mine] = rng.choice(np.flatnonzero(y != label), np.count_nonzero(mine))
    return first, second


def _uniform(api, budget, rng, model, params):
    """The naive baseline: ``budget`` random rows, one fit."""
    X, y = _ask(api, sample_uniform(api.features, budget, rng))
    return _fit_best(api, model, X, y, rng, _candidates(api, model, params, rng)), {}


def _line_search(api, budget, rng, model, params, initial=0.5, steps=8):
    """Spend ``initial * budget`` on random rows, the rest on bisections between differently labelled pairs.

    While every answer is the same class there is nothing to bisect, and the attack asks
    corners of the box (:func:`_corners`), ``steps`` at a time, to find the other class.
    """
    X, y = _ask(api, sample_uniform(api.features, min(budget, max(2, round(initial * budget))), rng))
    while len(np.unique(y)) < 2 and len(y) < budget:
        X_search, y_search = _ask(api, _search_rows(api.features, min(steps, budget - len(y)), rng))
        X, y = np.vstack([X, X_search]), np.concatenate([y, y_search])
    if len(y) < budget:
        X_paths, y_paths = _bisect(api, X, y, budget - len(y), steps, rng)
        X, y = np.vstack([X, X_paths]), np.concatenate([y, y_paths])
    return _fit_best(api, model, X, y, rng, _candidates(api, model, params, rng)), {}


def _bisect(api, X, y, queries, steps, rng):
    """Spend ``queries`` on bisections of paths between random pairs of asked rows of different classes.

    Each pair is joined by a path of valid rows (:func:`_on_path`); each query halves the
    piece of path where the label changes, so after ``steps`` (or one fewer, to spend
    ``queries`` exactly) it lies next to the target's boundary.  All paths advance
    together, one batch of queries per step.
    """
    n_paths = -(-queries // steps)
    lengths = np.full(n_paths, queries // n_paths)
    lengths[: queries % n_paths] += 1
    first, second = _differently_labelled_pairs(y, n_paths, rng)
    start, end, start_label = X[first], X[second], y[first]
    switch = rng.uniform(size=start.shape)
    low, high = np.zeros(n_paths), np.ones(n_paths)  # invariant: the path has start_label at low, not at high
    points, labels = [], []
    for step in range(lengths[0]):
        k = np.count_nonzero(lengths > step)  # the first k paths have a step left
        middle = (low[:k] + high[:k]) / 2
        point, label = _ask(api, _on_path(api.features, start[:k], end[:k], middle, switch[:k]))
        same = label == start_label[:k]
        low[:k], high[:k] = np.where(same, middle, low[:k]), np.where(same, high[:k], middle)
        points.append(point)
        labels.append(label)
    return np.vstack(points), np.concatenate(labels)


def _stolen_boundary(stolen, features, X, y, n, rng, pool=10, steps=30):
    """``n`` rows on the stolen model's decision boundary, found without a single query.

    Draws ``pool`` uniform rows and ``pool`` corners (:func:`_corners`) per row wanted,
    and bisects, on the stolen model, the paths between random pairs of them that it
    labels differently (between asked rows of different classes if it gives them all the
    same label).  These are the rows the stolen model is least sure about, spread along
    its whole boundary rather than where random rows happen to fall.
    """
    rows = np.vstack([sample_uniform(features, pool * n, rng), _search_rows(features, pool * n, rng)])
    labels = stolen.predict(rows)
    if len(np.unique(labels)) < 2:
        rows, labels = X, y
    first, second = _differently_labelled_pairs(labels, n, rng)
    start, end, start_label = rows[first], rows[second], labels[first]
    return _bisect_paths(lambda path_rows: stolen.predict(path_rows) == start_label, features, start, end,
                         rng.uniform(size=start.shape), steps)


def _margin(stolen, X):
    """How sure the stolen model is of each row: gap between its two highest scores (small = unsure)."""
    scores = stolen.decision_function(X) if hasattr(stolen[-1], "decision_function") else stolen.predict_proba(X)
    if scores.ndim == 1:
        return np.abs(scores)
    if scores.shape[1] == 1:  # a single class seen so far: equally unsure everywhere
        return np.zeros(len(X))
    top_two = np.sort(scores, axis=1)[:, -2:]
    return top_two[:, 1] - top_two[:, 0]


def _least_sure(stolen, features, X, y, n, rng, pool):
    """The ``n`` rows of smallest margin among ``n`` rows on the stolen boundary and ``pool * n`` uniform ones.

    With continuous features the rows on the boundary win; with categorical ones a
    path can only switch whole values, its crossing may still be far from the boundary,
    and random rows of smaller margin take their place.
    """
    if n == 0:
        return np.empty((0, X.shape[1]))
    candidates = np.vstack([_stolen_boundary(stolen, features, X, y, n, rng, pool),
                            sample_uniform(features, pool * n, rng)])
    return candidates[np.argsort(_margin(stolen, candidates), kind="stable")[:n]]


def _adaptive(api, budget, rng, model, params, rounds=20, explore=0.1, pool=100):
    """Active learning in ``rounds`` rounds (paper section 6).

    The first round asks random rows.  Each later one (at most one per query) asks the
    ``1 - explore`` share of its rows where the current stolen model is least sure
    (:func:`_least_sure`, ``pool`` candidates of each kind per row), the rest at random
    (:func:`_explore_rows`), and refits.  While every answer is the same class there is no
    boundary yet, and the whole round searches for the other class (:func:`_search_rows`).
    With several candidate settings (RBF widths), each is scored on every round's answers
    before it is fitted on them, and the best so far is the stolen model: extract-and-test
    without setting answers aside.
    """
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive whole number, got {rounds!r}")
    rounds = min(rounds, budget)
    sizes = np.full(rounds, budget // rounds)
    sizes[0] += budget % rounds
    candidates = _candidates(api, model, params, rng)
    correct = np.zeros(len(candidates))  # answers each candidate predicted before it was fitted on them
    X, y = _ask(api, sample_uniform(api.features, sizes[0], rng))
    fits = [_fit(api, model, X, y, rng, c) for c in candidates]
    stolen = fits[0]
    history = [(len(X), copy.deepcopy(stolen))]
    for size in sizes[1:]:
        unsure = round((1 - explore) * size) if len(np.unique(y)) > 1 else 0
        new_X, new_y = _ask(api, np.vstack([_least_sure(stolen, api.features, X, y, unsure, rng, pool),
                                            _explore_rows(api.features, size - unsure, y, rng)]))
        correct += [np.count_nonzero(fit.predict(new_X) == new_y) for fit in fits]
        X, y = np.vstack([X, new_X]), np.concatenate([y, new_y])
        fits = [_fit(api, model, X, y, rng, c) for c in candidates]
        stolen = fits[int(np.argmax(correct))]
        history.append((len(X), copy.deepcopy(stolen)))
    return stolen, {"history": history}


_STRATEGIES = {"uniform": _uniform, "line-search": _line_search, "adaptive": _adaptive}
_KNOBS = {"uniform": (), "line-search": ("initial", "steps"), "adaptive": ("rounds", "explore", "pool")}


def retraining(api, *, strategy, model, budget, random_state=0, **knobs) -> Extraction:
    """Steal a model from its labels by fitting a copy on chosen queries (paper section 6).

    Parameters
    ----------
    api : PredictionAPI
        The target; only the answers' labels are used.
    strategy : {"uniform", "line-search", "adaptive"}
        How the queries are chosen: random rows (the naive baseline); random rows, then
        bisections towards the target's boundary (knobs ``initial=0.5`` share of random
        rows, ``steps=8`` per bisection); or active learning (knobs ``rounds=20``,
        ``explore=0.25`` share of random rows per round, ``pool=10`` candidates of each
        kind per row on the stolen boundary).  Line-search and adaptive search the corners
        of the box for a class they have not seen yet.
    model : {"logreg", "softmax", "rbf-svm", "mlp"}
        The model class fitted on the answers: binary or multinomial logistic regression,
        an RBF-kernel SVM (kernel width chosen by extract-and-test on held-out answers,
        unless ``gamma`` is given), or a one-hidden-layer MLP (20 tanh units).
    budget : int
        Queries to spend, all of them (see :func:`budget_for` for the paper's ``alpha``).
    random_state : int
        Seeds the queries and the fits: the same seed, the same stolen model.
    **knobs
        The strategy's knobs above; any other keyword goes to the scikit-learn model
        (for instance ``C=10`` or ``hidden_layer_sizes=(50,)``).

    Returns
    -------
    Extraction
        ``model`` takes raw rows (``FeatureEncoder`` then the fitted model); ``info`` has
        ``"strategy"``, ``"model_kind"``, and for ``"adaptive"`` a ``"history"`` of
        ``(queries so far, stolen model)`` after each round.
    """
    _check_choice("strategy", strategy, STRATEGIES)
    _check_choice("model", model, MODELS)
    check_budget(api, budget, required=True)
    if model == "logreg" and len(api.classes) != 2:
        raise ValueError(f"'logreg' is binary logistic regression; this API has {len(api.classes)} classes "
                         "(use 'softmax')")
    for other, names in _KNOBS.items():
        misplaced = set(names).intersection(knobs) - set(_KNOBS[strategy])
        if misplaced:
            raise ValueError(f"knob {misplaced.pop()!r} belongs to strategy {other!r}, not {strategy!r}")
    own = {name: knobs.pop(name) for name in _KNOBS[strategy] if name in knobs}
    start, rng = api.queries_used, check_random_state(random_state)
    stolen, info = _STRATEGIES[strategy](api, budget, rng, model, knobs, **own)
    return Extraction.from_api(stolen, api, since=start, strategy=strategy, model_kind=model, **info)
