"""Retraining: steal a model from its labels by fitting a copy on chosen queries (paper section 6).

The paper compares three ways of choosing the queries: ``"uniform"`` (random rows, the
naive baseline), ``"line-search"`` (rows near the boundary found by bisection) and
``"adaptive"`` (active learning: ask where the current copy is least sure).  Budgets
follow the paper: ``alpha`` times the number of the target's parameters
(:func:`kit.attacks.budget.budget_for`).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.utils import check_random_state

from ..extraction import Extraction
from ..features import (
    FeatureEncoder,
    encode,
    sample_uniform,
)
from .budget import check_between, check_budget, check_choice, check_whole
from .linesearch import _search_rows, bisect_paths, on_path

STRATEGIES = ("uniform", "line-search", "adaptive")
MODELS = ("logreg", "softmax", "rbf-svm", "mlp")
KNOBS = {
    "uniform": {},
    "line-search": {"initial": 0.5, "steps": 8},
    "adaptive": {"rounds": 20, "explore": 0.1, "pool": 100},
}
"""Each strategy's knobs and their defaults (the adaptive ones tuned at alpha 10, seed 0 and more: see retraining)."""

LEAST_BUDGET = {"uniform": 1, "line-search": 3, "adaptive": 2}
"""The fewest queries a strategy can work with: one random row; two random rows and one bisection
query; a first round of random rows and one round where the stolen model is least sure."""


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


def _explore_rows(features, n, y, rng):
    """``n`` random rows to explore with: half uniform, half :func:`_search_rows`; all the latter while one class."""
    uniform = n // 2 if len(np.unique(y)) > 1 else 0
    return np.vstack([sample_uniform(features, uniform, rng), _search_rows(features, n - uniform, rng)])


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


def _line_search(api, budget, rng, model, params, initial, steps):
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

    Each pair is joined by a path of valid rows (:func:`on_path`); each query halves the
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
        point, label = _ask(api, on_path(api.features, start[:k], end[:k], middle, switch[:k]))
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
    return bisect_paths(lambda path_rows: stolen.predict(path_rows) == start_label, features, start, end,
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


def _adaptive(api, budget, rng, model, params, rounds, explore, pool):
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


def _check_knobs(strategy, knobs):
    """The strategy's knobs (:data:`KNOBS`, given or default), each checked; takes them out of ``knobs``."""
    for other, names in KNOBS.items():
        misplaced = set(names).intersection(knobs) - set(KNOBS[strategy])
        if misplaced:
            raise ValueError(f"knob {misplaced.pop()!r} belongs to strategy {other!r}, not {strategy!r}")
    own = {name: knobs.pop(name, default) for name, default in KNOBS[strategy].items()}
    for name in ("steps", "rounds", "pool"):
        if name in own:
            check_whole(name, own[name])
    if "initial" in own:
        check_between("initial (share of random rows)", own["initial"], 0, 1, including=("high",))
    if "explore" in own:
        check_between("explore (share of random rows per round)", own["explore"], 0, 1, including=("low", "high"))
    return own


def _check_model_settings(model, params):
    """Refuse, before any query, a keyword the scikit-learn model does not take or a value it would refuse."""
    estimator = _estimator(model, 0, {})
    unknown = sorted(set(params) - set(estimator.get_params()))
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r}: neither a knob of the strategy nor a parameter of "
                         f"{type(estimator).__name__}")
    estimator.set_params(**params)._validate_params()  # scikit-learn's own one-line InvalidParameterError
    if model == "mlp":  # scikit-learn checks the layer sizes only when it fits
        for size in np.ravel(estimator.hidden_layer_sizes):
            check_whole("each of hidden_layer_sizes", size)


def retraining(api, *, strategy, model, budget, random_state=0, **knobs) -> Extraction:
    """Steal a model from its labels by fitting a copy on chosen queries (paper section 6).

    Every setting and the budget are checked before the first query (a one-line
    ValueError naming the setting); the attack then spends exactly ``budget`` queries, so
    it never stops part way (``info["complete"]`` is always True).

    Parameters
    ----------
    api : PredictionAPI
        The target; only the answers' labels are used.
    strategy : {"uniform", "line-search", "adaptive"}
        How the queries are chosen: random rows (the naive baseline); random rows, then
        bisections towards the target's boundary (knobs ``initial=0.5``, the share of
        random rows, in (0, 1], and ``steps=8`` queries per bisection); or active learning
        (knobs ``rounds=20``, ``explore=0.1``, the share of random rows per round, in
        [0, 1], and ``pool=100`` candidates of each kind per row on the stolen boundary).
        Line-search and adaptive search the corners of the box for a class they have not
        seen yet.  The adaptive defaults were tuned at alpha = 10 with seed 0 (data split,
        target and attack), as every default of the kit, and with more seeds on the
        Figure 4 sets (breast-cancer's R_test over 8 seeds, 20 rounds against 10 over 4:
        benchmarks/README.md); the benchmarks report seeds 1-3.
    model : {"logreg", "softmax", "rbf-svm", "mlp"}
        The model class fitted on the answers: binary or multinomial logistic regression,
        an RBF-kernel SVM (kernel width chosen by extract-and-test on held-out answers,
        unless ``gamma`` is given), or a one-hidden-layer MLP (20 tanh units).
    budget : int
        Queries to spend, all of them (see :func:`kit.attacks.budget.budget_for` for the
        paper's ``alpha``); required, at most ``api.remaining``, and at least what the
        strategy needs (:data:`LEAST_BUDGET`: 1 for uniform, 3 for line-search, 2 for adaptive).
    random_state : int
        Seeds the queries and the fits: the same seed, the same stolen model.
    **knobs
        The strategy's knobs above; any other keyword goes to the scikit-learn model
        (for instance ``C=10`` or ``hidden_layer_sizes=(50,)``), and one it does not take
        is refused.

    Returns
    -------
    Extraction
        ``model`` takes raw rows (``FeatureEncoder`` then the fitted model); ``info`` has
        ``"strategy"``, ``"model_kind"``, ``"complete"``, and for ``"adaptive"`` a
        ``"history"`` of ``(queries so far, stolen model)`` after each round.
    """
    check_choice("strategy", strategy, STRATEGIES)
    check_choice("model", model, MODELS)
    check_budget(api, budget, required=True, least=LEAST_BUDGET[strategy], what=f"{strategy} retraining")
    if model == "logreg" and len(api.classes) != 2:
        raise ValueError(f"'logreg' is binary logistic regression; this API has {len(api.classes)} classes "
                         "(use 'softmax')")
    own = _check_knobs(strategy, knobs)
    _check_model_settings(model, knobs)
    start, rng = api.queries_used, check_random_state(random_state)
    stolen, info = _STRATEGIES[strategy](api, budget, rng, model, knobs, **own)
    return Extraction.from_api(stolen, api, since=start, strategy=strategy, model_kind=model, complete=True, **info)
