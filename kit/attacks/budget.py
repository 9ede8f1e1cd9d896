"""Budgets and settings, checked the same way by every attack before its first query.

The paper counts queries against the number of unknowns ``k`` of the target's model class
(section 4.1) and sets the label-only attacks' budgets to ``alpha * k`` (section 6).  An
attack refuses a bad setting, or a budget too small for it, with a one-line ValueError
before it asks anything: a learner never pays for a refusal.  An attack that cannot
certify its result says so, in ``info`` and with an :class:`UncertifiedWarning`
(:func:`certify`), never with a silently wrong model.
"""

import math
import warnings
from numbers import Integral, Real

from ..features import CATEGORICAL, encoded_width

MODEL_CLASSES = ("logreg", "softmax", "ovr", "mlp", "rbf-svm")


def check_choice(what, value, choices):
    """Refuse ``value`` unless it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose one of: {', '.join(map(str, choices))}")


def check_whole(what, value, least=1):
    """``value`` as an int, refused unless it is a whole number of at least ``least``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < least:
        raise ValueError(f"{what} must be a whole number of at least {least}, got {value!r}")
    return int(value)


def check_between(what, value, low, high, *, including=()):
    """``value`` as a float, refused unless ``low < value < high``, or equal to an end named in ``including``.

    ``including=("high",)`` accepts the interval (low, high]; ``("low", "high")`` [low, high].
    """
    ends = {"low": low, "high": high}
    inside = isinstance(value, Real) and not isinstance(value, bool) and (
        low < value < high or any(value == ends[end] for end in including))
    if not inside:
        included = " and ".join(str(ends[end]) for end in including)
        note = f" ({included} included)" if including else ""
        raise ValueError(f"{what} must be a number between {low} and {high}{note}, got {value!r}")
    return float(value)


def check_budget(api, budget, *, required=False, least=1, what="this attack"):
    """``budget`` as an int, or None where an attack may run without one.

    Raises a one-line ValueError, before any query is spent, for anything but a whole
    number of at least ``least`` (the fewest queries ``what`` can work with), or for a
    budget the API cannot pay for (``api.remaining``).
    """
    if budget is None and not required:
        if api.remaining is not None and api.remaining < least:
            raise ValueError(f"{what} needs at least {least} queries; the API has {api.remaining} left")
        return None
    if isinstance(budget, bool) or not isinstance(budget, Integral) or budget < 1:
        allowed = "a positive whole number" if required else "None or a positive whole number"
        raise ValueError(f"budget must be {allowed} of queries, got {budget!r}")
    if budget < least:
        raise ValueError(f"{what} needs at least {least} queries, budget is {budget}")
    if api.remaining is not None and budget > api.remaining:
        raise ValueError(f"budget of {budget} queries is more than the API has left ({api.remaining})")
    return int(budget)


def n_unknowns(model, d, c, hidden=20) -> int:
    """The paper's k: parameters of the model class on ``d`` encoded features and ``c`` classes.

    A binary model has one output score (k = d + 1 for LR, and, as in the paper's Figure 6,
    for an RBF SVM); multiclass LR, softmax or one-vs-rest, has c(d + 1); an MLP with ``h``
    hidden units h(d + 1) + (h + 1) times its outputs (Adult Race, h = 20: 2,225).
    """
    check_choice("model class", model, MODEL_CLASSES)
    outputs = 1 if c == 2 else c
    if model == "mlp":
        return hidden * (d + 1) + (hidden + 1) * outputs
    if model == "rbf-svm":
        return d + 1
    return outputs * (d + 1)


def n_parameters(api, model, *, hidden=20) -> int:
    """:func:`n_unknowns` for an API's (or a Dataset's) encoded width and classes."""
    return n_unknowns(model, encoded_width(api.features), len(api.classes), hidden)


def information_limit(model, features, c, hidden=20) -> int:
    """The fewest queries whose confidences can determine a model of this class (paper section 4.1).

    Each answer gives ``c - 1`` independent equations (confidences sum to 1), so it takes
    ``ceil(k' / (c - 1))`` queries for the ``k'`` unknowns the answers can tell apart, which
    are fewer than :func:`n_unknowns`: each categorical feature's one-hot columns add up to
    1 like the bias, so one weight per feature and score is free (``g`` features); softmax
    is shift invariant (adding one vector to every class's output weights changes nothing).
    Binary and softmax LR: ``d + 1 - g`` queries.
    """
    d = encoded_width(features)
    g = sum(feature.kind == CATEGORICAL for feature in features)
    k = n_unknowns(model, d, c, hidden)
    outputs = 1 if c == 2 else c
    if model == "mlp":
        free = hidden * g + (hidden + 1 if c > 2 else 0)
    elif model == "softmax":
        free = outputs * g + (d + 1 - g if c > 2 else 0)
    else:
        free = outputs * g
    return math.ceil((k - free) / (c - 1))


def budget_for(alpha, api, model, *, hidden=20) -> int:
    """Query budget ``alpha * k`` of the paper's figures 4-6 (see :func:`n_unknowns`).

    >>> budget_for(20, api, "logreg")   # on Adult (Income), d = 108: 2,180 queries
    """
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < alpha < math.inf:
        raise ValueError(f"alpha must be a positive number, got {alpha!r}")
    return max(1, round(alpha * n_parameters(api, model, hidden=hidden)))


class UncertifiedWarning(UserWarning):
    """An attack returned a model it cannot vouch for; its ``info["problems"]`` says why."""


def certify(attack, problems, *, stacklevel=3):
    """``info`` entries ``certified`` and ``problems`` for an attack's result; warns when there are problems.

    Parameters
    ----------
    attack : str
        The attack's name, for the warning (``"Lowd-Meek"``).
    problems : list of str
        What the attack could not certify, one short sentence each (budget ran out,
        null space not one-dimensional, colliding identifiers, ...).
    """
    if problems:
        warnings.warn(f"{attack} not certified: " + "; ".join(problems), UncertifiedWarning, stacklevel=stacklevel)
    return {"certified": not problems, "problems": list(problems)}
