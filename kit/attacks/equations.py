"""Equation solving: steal a model from its confidence values (paper sections 4.1.1 and 4.1.2).

An API that returns confidences gives away one real-valued equation per class and
per query.  For logistic models these equations are linear in the unknown weights:
log(p_i / p_0) = (w_i - w_0).x + (b_i - b_0), so d + 1 random queries and one linear
solve recover binary LR (section 4.1.1) and softmax (4.1.2) exactly.  Where they are not
linear (one-vs-rest LR, a neural network) the attacker fits a model of the known class to
the confidences it received (:mod:`kit.attacks.network`, :mod:`kit.attacks.softlabels`),
by minimising the cross-entropy between the API's confidence vectors and its own, or, for
a network, the squared error of the same log-ratio equations.

The attacks see the target only through ``api`` (its public schema, its classes and its
answers) and query random points of the feature space (:func:`covering_sample`).
"""


from __future__ import annotations

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.utils import check_random_state

from ..extraction import Extraction
from ..features import CATEGORICAL, FeatureEncoder, encode, encoded_width, sample_uniform
from .budget import certify, check_budget, check_whole, information_limit, n_unknowns
from .network import SoftLabelNetwork

METHODS = {
    "logreg": ("log-ratio", "cross-entropy"),
    "softmax": ("log-ratio", "cross-entropy"),
    "ovr": ("cross-entropy",),
    "mlp": ("log-ratio", "cross-entropy"),
}
"""The methods each model class can be attacked with; the first is the default."""

ROUNDED_DECAY = 1e-6
"""Weight decay of the linear cross-entropy fit on rounded confidences (section 7: rounding).

A confidence rounded to 0 asks for an infinite score gap, as separable data does in
logistic regression; without a little decay the fit can follow it off to huge weights
(Adult Race softmax, 530 queries at 2 decimals: 1-R_test 41% without, 99.96% with)."""

ROUNDED_QUERIES = {0: 50, 1: 20, 2: 10}
"""The default budget for answers seen rounded, in multiples of the natural count, by decimals (5 for 3 or more).

Rounding makes every equation approximate (paper section 7); more of them average the
errors out, and the cross-entropy fit (with :data:`ROUNDED_DECAY`) uses them better than
the log-ratio solve, whose clipped logs of confidences rounded to 0 stay biased at 0-1
decimals however many there are.  Tuned on seed 0 (moons LR, iris and digits softmax, whose
natural counts are 3, 5 and 65 queries) for about 99% agreement on test rows at 0 to 3
decimals.  Measured on seeds 1-3 (``python -m kit reproduce --only rounding``):
1-R_test 99.1-100% at 1 to 3 decimals, 98.3-100% at 0 decimals but for digits (97.2%), where
d + 1 queries and the log-ratio solve gave 13-100%.
"""


def _query_counts(model, method, features, c, hidden):
    """(fewest, default) numbers of queries: the information limit, and the method's natural count.

    The limit is :func:`kit.attacks.budget.information_limit` (d + 1 - g for LR: one weight
    per categorical feature is free, its one-hot columns adding up to 1 like the bias).  The
    default is d + 1 for the linear log-ratio solve: at the limit the system is square and
    exact in exact arithmetic, but a confidence near 0 or 1 carries few digits of its log-ratio,
    and g spare equations absorb that (Adult Income, seeds 0-2: TV 1e-7, 1e-4, 5e-7 at the
    limit of 101 queries, 1e-9 at 109).  k for cross-entropy on LR (the paper's count), 2k for
    an MLP.
    """
    d = encoded_width(features)
    k = n_unknowns(model, d, c, hidden)
    fewest = information_limit(model, features, c, hidden)
    if model in ("logreg", "softmax"):
        return fewest, d + 1 if method == "log-ratio" else k
    return fewest, k if model == "ovr" else 2 * k


# --- the linear solve (section 4.1.1) ----------------------------------------------------


def solve_log_ratios(Z, P):
    """Weights of a logistic model from the equations log(p_i / p_0) = (w_i - w_0).z + (b_i - b_0).

    For binary LR this is logit(p) = w.z + b.  Class 0 is the reference (its weights are
    set to zero, which softmax's shift invariance allows).  With d + 1 exact answers the
    solve is exact; with more it is least squares, each equation weighted by how precisely
    it is known: a confidence known to +-delta (rounding, or float precision in 1 - p) gives
    log p to +-delta / p, so small confidences weigh little.  Confidences reported as 0
    would have an infinite log: they are raised to half the smallest positive confidence
    seen, the attacker's guess of where the API's rounding begins.

    Returns the coefficient matrix and intercepts of :class:`SoftLabelNetwork`
    (one row for binary models).
    """
    P = np.maximum(P, 0.5 * P[P > 0].min())
    # With one-hot features the design matrix is rank deficient: each categorical group
    # sums to 1, like the bias column.  lstsq returns the minimum-norm solution, one of
    # many weight vectors giving the same scores on every valid input, so predictions are
    # still exact.
    design = np.hstack([Z, np.ones((len(Z), 1))])
    columns = []
    for p_i in P[:, 1:].T:
        weight = 1 / (1 / p_i + 1 / P[:, 0])
        ratio = np.log(p_i) - np.log(P[:, 0])
        columns.append(np.linalg.lstsq(design * weight[:, None], ratio * weight, rcond=None)[0])
    theta = np.column_stack(columns)
    coef, intercept = theta[:-1].T, theta[-1]
    if P.shape[1] > 2:
        coef = np.vstack([np.zeros(Z.shape[1]), coef])
        intercept = np.concatenate([[0.0], intercept])
    return coef, intercept


# --- the attacks ---------------------------------------------------------------------


def check_confidence_budget(api, budget, fewest, default, what):
    """The attack's budget (``default`` for None), checked before any query; refuses label-only APIs.

    With no budget given, an API with fewer than ``default`` queries left is refused, naming
    both numbers: the attack never runs into the API's limit after paying.
    """
    if api.output == "label":
        raise ValueError("equation solving needs confidence values; this API answers labels only")
    checked = check_budget(api, budget, least=fewest, what=what)
    if checked is not None:
        return checked
    if api.remaining is not None and default > api.remaining:
        raise ValueError(f"{what}: the default budget of {default} queries is more than the API has left "
                         f"({api.remaining}); give a budget from {fewest} to {api.remaining}")
    return default


def covering_sample(features, n, random_state=None) -> np.ndarray:
    """``n`` uniformly random points in which every category of every feature appears (when n allows).

    Each row is uniform over the feature space, as in :func:`kit.features.sample_uniform`,
    but each categorical column is a shuffled cycle of its codes.  A category no query
    uses would leave its one-hot weight out of every equation (Adult's 41 countries
    against 109 queries): covering them keeps d + 1 queries enough.
    """
    rng = check_random_state(random_state)
    X = sample_uniform(features, n, rng)
    for j, feature in enumerate(features):
        if feature.kind == CATEGORICAL:
            X[:, j] = rng.permutation(np.arange(n) % feature.width)
    return X


def decimals_seen(P, most_decimals=8):
    """The fewest decimals that all confidences ``P`` carry (None: more than ``most_decimals``, not rounded).

    This is what the attacker sees of the API's rounding: exact confidences have about 16
    significant digits, rounded ones only ``decimals``.
    """
    return next((decimals for decimals in range(most_decimals + 1) if np.array_equal(P, np.round(P, decimals))), None)


def rounded_budget(default, decimals):
    """The default budget for answers rounded to ``decimals``: :data:`ROUNDED_QUERIES` times the natural count."""
    return default * ROUNDED_QUERIES.get(decimals, 5)


def ask_confidences(api, budget, random_state):
    """Query ``budget`` random points; return them encoded, with the API's confidences."""
    X = covering_sample(api.features, budget, random_state)
    return encode(api.features, X), api.query(X).proba


def equation_solving(
    api, *, model, budget=None, method=None, random_state=0, hidden=20, restarts=3, max_iter=5000
) -> Extraction:
    """Steal a logistic regression or a small neural network from its confidence values (section 4.1).

    The attacker knows the model class (as the paper assumes) and the public one-hot
    encoding, queries ``budget`` random points (:func:`covering_sample`), and solves for the weights.
    Every setting and the budget are checked before the first query (a one-line ValueError
    naming the setting); the attack never stops part way (``info["complete"]`` is True).

    Parameters
    ----------
    api : PredictionAPI
        Must return confidences.
    model : {"logreg", "softmax", "ovr", "mlp"}
        The target's class: binary LR; multinomial (softmax) LR; one-vs-rest LR as
        scikit-learn computes it (each class's sigmoid, divided by their sum, so that the
        equations are not linear: solved by cross-entropy); an MLP with one hidden layer
        of ``hidden`` tanh units and a softmax (or, for two classes, sigmoid) output.
    budget : int or None
        Queries to use, never more.  A budget below the information limit
        (:func:`kit.attacks.budget.information_limit`), or above ``api.remaining``, raises
        ValueError before any query.  None (default): the method's natural count, d + 1
        for the log-ratio solve (the limit is d + 1 less one per categorical feature, 101 on
        Adult instead of 109; the spare equations absorb the float precision of confidences
        near 0 or 1), k = c(d + 1) for cross-entropy on LR (the paper's count),
        2k for an MLP; an API with fewer queries left is refused up front, naming both
        numbers.  If those answers turn out rounded (:func:`decimals_seen`), the defaults
        follow the rounding: the attack asks more, up to :func:`rounded_budget`
        (:data:`ROUNDED_QUERIES` times the natural count: 50 at 0 decimals, 20 at 1, 10 at
        2, 5 beyond), when the API has that many left, and fits all of them by
        cross-entropy unless ``method`` is given (97-100% test agreement on moons, iris
        and digits at 0-3 decimals; an MLP's natural 2k makes it large: moons at 2
        decimals, 1,620 queries); if the API has fewer left, it keeps what it has and
        warns (``info["certified"]`` False), naming the budget that would do.  An explicit
        budget is used as given, with the given method, rounded or not.
    method : {"log-ratio", "cross-entropy"} or None
        "log-ratio" (default) fits the equations log(p_i / p_0) = s_i(x) - s_0(x) between
        the API's confidences and the model's scores s: for "logreg" and "softmax" they
        are linear, (w_i - w_0).x + (b_i - b_0), and one (least squares) linear solve
        does it; for "mlp" they are not, and L-BFGS minimises their squared error
        (along a decreasing weight decay, which escapes the poor local minima of few queries).
        "cross-entropy" is the paper's method: L-BFGS minimises the cross-entropy between
        the API's confidence vectors and the stolen model's.  "ovr" uses cross-entropy only.
        None: log-ratio, or cross-entropy for rounded answers with no budget given (above).
    random_state : int
        Seeds the queries and the network's starting points.
    hidden : int
        Hidden units of the MLP (paper: 20), at least 1; ignored for the linear classes.
    restarts : int
        Random starting points of the MLP's fit, alternately along a weight-decay path and
        plain (see :meth:`SoftLabelNetwork.fit`); the lowest loss wins, an exact log-ratio
        fit stops the search.
    max_iter : int
        Most L-BFGS iterations per fit (cross-entropy and MLP).

    Returns
    -------
    Extraction
        ``model`` takes raw rows (the public encoding, then the stolen model); ``info`` has
        the model class, method, number of unknowns k, ``decimals`` (those the answers were
        seen rounded to, or None), ``complete``, ``certified`` and ``problems``.
    """
    if model not in METHODS:
        raise ValueError(f"unknown model class {model!r}; choose one of: {', '.join(METHODS)}")
    method_given, method = method, METHODS[model][0] if method is None else method
    if method not in METHODS[model]:
        raise ValueError(f"model {model!r} is attacked with method {' or '.join(METHODS[model])}, not {method!r}")
    d, c = encoded_width(api.features), len(api.classes)
    if model == "logreg" and c != 2:
        raise ValueError(f"'logreg' is binary logistic regression; this API has {c} classes (use 'softmax' or 'ovr')")
    link = "ovr" if model == "ovr" and c > 2 else "softmax"  # binary OvR in scikit-learn is one LR
    hidden = check_whole("hidden", hidden) if model == "mlp" else 0
    restarts, max_iter = check_whole("restarts", restarts), check_whole("max_iter", max_iter)
    rng = check_random_state(random_state)
    fewest, default = _query_counts(model, method, api.features, c, hidden)
    checked = check_confidence_budget(api, budget, fewest, default, f"{method} on {model} (d = {d}, c = {c})")

    start = api.queries_used
    Z, P = ask_confidences(api, checked, rng)
    decimals = decimals_seen(P)
    problems = []
    if budget is None and decimals is not None:  # the defaults follow the rounding
        method = method_given or "cross-entropy"
        Z, P, problems = _ask_more_for_rounding(api, Z, P, rounded_budget(default, decimals), decimals, rng)
    stolen = SoftLabelNetwork(api.classes, hidden, link, method, restarts, max_iter, random_state,
                              0.0 if decimals is None else ROUNDED_DECAY)
    if method == "log-ratio" and not hidden:
        coef, intercept = solve_log_ratios(Z, P)
        stolen.set_weights([coef], [intercept])
    else:
        stolen.fit(Z, P)
    pipeline = make_pipeline(FeatureEncoder(api.features).fit(None), stolen)
    return Extraction.from_api(
        pipeline, api, since=start, model_class=model, method=method, unknowns=n_unknowns(model, d, c, hidden),
        decimals=decimals, complete=True, **certify("equation solving", problems),
    )


def _ask_more_for_rounding(api, Z, P, wanted, decimals, rng):
    """Answers to ``wanted`` queries in all if the API has them left; else the answers so far and the problem."""
    more = wanted - len(Z)
    if more <= 0:
        return Z, P, []
    if api.remaining is not None and api.remaining < more:
        return Z, P, [f"answers rounded to {decimals} decimals call for a budget of {wanted} queries; this API "
                      f"had {api.remaining + len(Z)} left (give budget={wanted} to an API that has them)"]
    Z_more, P_more = ask_confidences(api, more, rng)
    return np.vstack([Z, Z_more]), np.vstack([P, P_more]), []
