"""The query budget every attack takes, checked the same way before its first query."""

from numbers import Integral


def check_budget(api, budget, *, required=False):
    """``budget`` as an int, or None where an attack may run without one.

    Raises a one-line ValueError, before any query is spent, for anything but a positive
    whole number, or for a budget the API cannot pay for (``api.remaining``).
    """
    if budget is None and not required:
        return None
    if isinstance(budget, bool) or not isinstance(budget, Integral) or budget < 1:
        allowed = "a positive whole number" if required else "None or a positive whole number"
        raise ValueError(f"budget must be {allowed} of queries, got {budget!r}")
    if api.remaining is not None and budget > api.remaining:
        raise ValueError(f"budget of {budget} queries is more than the API has left ({api.remaining})")
    return int(budget)
