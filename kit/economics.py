"""What stealing a model costs against what using it honestly costs (paper sections 1 and 5).

A customer pays the service for every prediction, for ever; a thief pays once for the queries of an
extraction and then predicts for free with the stolen copy.  With ``n`` predictions needed, honest use
costs ``n * price`` and extraction ``queries * price``: stealing pays from ``n = queries`` on, whatever
the price (the price sets how many dollars are at stake, not where the lines cross).

The query counts below were measured by the project's benchmarks on the Adult data set (``adult-income``,
d = 108 features after one-hot encoding), each with the 1-R_test / 1-R_unif it reached; see
``benchmarks/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np


@dataclass(frozen=True)
class MeasuredAttack:
    """The queries one attack needed in a measured run, and where the figure comes from."""

    queries: int
    agreement: str
    source: str


MEASURED = {
    "equation solving (LR)": MeasuredAttack(
        109, "100.00% / 100.00%", "benchmarks/README.md, equations: binary LR, d + 1 queries"),
    "online attack (Amazon-style, binned)": MeasuredAttack(
        362, "100.00% / 99.96%", "benchmarks/README.md, online attacks, Table 1 (paper: 1,485)"),
    "retraining, adaptive (LR, alpha 10)": MeasuredAttack(
        1_090, "99.7% / 100.0%", "benchmarks/README.md, defenses matrix, column 'none'"),
    "Lowd-Meek (LR)": MeasuredAttack(
        3_242, "100.0% / 100.0%", "benchmarks/README.md, defenses matrix, column 'none'"),
    "path finding, top-down (330-leaf tree)": MeasuredAttack(
        17_978, "100% at epsilon 1e-3 (99.88% or more)", "benchmarks/README.md, trees, Table 1"),
}
"""Queries each attack needed to steal a model of the Adult data set, measured by the benchmarks."""


def _check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def break_even(queries) -> int:
    """How many predictions a thief must need before an extraction of ``queries`` queries pays off.

    Both sides pay the same price per answer, so the thief breaks even once the predictions needed
    reach the queries spent: ``n = queries``.
    """
    _check_count("queries", queries)
    return int(np.ceil(queries))


def costs(queries, price, needed) -> tuple[np.ndarray, np.ndarray]:
    """Dollars spent to get ``needed`` predictions by stealing first, and by paying for each one.

    Parameters
    ----------
    queries : int
        Queries the extraction needs (paid once).
    price : float
        Dollars per query, e.g. a value of :data:`kit.widgets.SERVICES`.
    needed : array-like of int
        Numbers of predictions the attacker needs later.

    Returns
    -------
    stolen, honest : ndarray
        ``queries * price`` for every entry of ``needed``, and ``needed * price``.
    """
    _check_count("queries", queries)
    _check_count("price", price)
    needed = np.asarray(needed, dtype=float)
    if needed.ndim > 1 or not np.all(np.isfinite(needed)) or np.any(needed < 0):
        raise ValueError("needed must be a list of finite numbers of predictions >= 0")
    return np.full_like(needed, queries * price), needed * price


def plot_costs(attacks, price, *, service="", ax=None, largest=1_000_000):
    """Cost against predictions needed: one flat line per attack, one rising line for paying per prediction.

    Each attack's break-even point (where paying per prediction overtakes it) is marked with a dot.

    Parameters
    ----------
    attacks : dict of str to int
        Queries each attack needs, e.g. ``{name: m.queries for name, m in MEASURED.items()}``.
    price : float
        Dollars per query.
    service : str
        Whose price it is, for the title.
    ax : matplotlib Axes or None
        Where to draw (a new figure if None).
    largest : int
        The most predictions on the horizontal axis (log scale, from 10).

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    from .plots import OKABE_ITO

    if not attacks:
        raise ValueError("attacks must name at least one attack and its queries")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 5.5), layout="constrained")
    needed = np.geomspace(10, largest, 200)
    _, honest = costs(0, price, needed)
    ax.plot(needed, honest, color="black", linewidth=2, label="pay per prediction")
    for colour, (name, queries) in zip(OKABE_ITO[1:] * 2, attacks.items(), strict=False):
        stolen, _ = costs(queries, price, needed)
        ax.plot(needed, stolen, color=colour, label=f"steal: {name} ({queries:,} queries)")
        ax.plot([break_even(queries)], [queries * price], "o", color=colour)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("predictions the attacker needs later")
    ax.set_ylabel("dollars")
    ax.set_title(f"Stealing pays where the black line passes the dot{f' ({service})' if service else ''}",
                 fontsize="medium")
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return ax
