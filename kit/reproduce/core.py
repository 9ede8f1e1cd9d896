"""What every experiment of the reproduction shares: its settings, its tables and plots, the comparison
with the paper (ratio and mark) and with the information limit.

An experiment is a module with ``NAME``, ``TITLE``, ``plan(config) -> list[Job]`` (the work, one
unit per row and seed, so that progress can be shown) and ``build(config, results) -> Section``
(the tables and plots from the jobs' results, keyed by the jobs' keys).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..data import DataUnavailable, load_dataset
from ..targets import train_target

UNAVAILABLE = "data unavailable"
"""What a row says when its data set can neither be read from KIT_DATA_DIR nor fetched."""
SHORT_OF_PAPER = "< paper"
ABOVE_LIMIT = "> limit"
RELATIVE_SLACK, ABSOLUTE_SLACK = 0.1, 1e-4
"""The kit falls short of the paper when its error exceeds the paper's by more than 10% and 1e-4
(an error of 0 beside the paper's 0 is even; 1e-4 is one row in 10,000)."""


@dataclass(frozen=True)
class Config:
    """How much to run: ``quick`` (smaller sets, fewer budgets) and the seeds to average over.

    The attacks' defaults were tuned on seed 0; the reproduction measures on held-out seeds
    (1, 2, 3; quick: 1), each seeding the data split, the target and the attack.
    """

    quick: bool = False
    seeds: tuple = (1, 2, 3)

    @classmethod
    def default(cls, quick=False, seeds=None):
        return cls(quick, tuple(seeds) if seeds else ((1,) if quick else (1, 2, 3)))


@dataclass(frozen=True)
class Job:
    """One unit of work: ``run()`` returns a result stored under ``key`` (None: data unavailable)."""

    key: Hashable
    run: Callable


@dataclass
class Table:
    """A Markdown table: a title, column names, rows of cells (already text) and notes under it."""

    title: str
    columns: list
    rows: list = field(default_factory=list)
    notes: str = ""

    def add(self, *cells):
        if len(cells) != len(self.columns):
            raise ValueError(f"a row of {self.title!r} needs {len(self.columns)} cells, got {len(cells)}")
        self.rows.append([str(cell) for cell in cells])

    def unavailable(self, *first):
        """A row that names itself with ``first`` cells and says its data set is unavailable."""
        self.add(*first, UNAVAILABLE, *[""] * (len(self.columns) - len(first) - 1))

    def markdown(self) -> str:
        lines = [f"| {' | '.join(self.columns)} |", "|" + "---|" * len(self.columns)]
        lines += [f"| {' | '.join(row)} |" for row in self.rows]
        return "\n".join(lines)


@dataclass
class Plot:
    """Error against budget: the kit's lines (label -> (xs, ys)) and the paper's points (label -> (xs, ys))."""

    name: str  # the PNG's file name, without extension
    title: str
    xlabel: str
    ylabel: str
    kit: dict
    paper: dict = field(default_factory=dict)
    logx: bool = True
    ticks: list | None = None  # names of the x positions 0, 1, ... instead of numbers


@dataclass
class Section:
    """One experiment's part of the report."""

    name: str
    title: str
    intro: str
    tables: list
    plots: list = field(default_factory=list)
    seconds: float = 0.0  # wall time of the experiment
    warnings: list = field(default_factory=list)  # "run: category: message", the first run of each message


# --- comparison with the paper and with the information limit ------------------------------


def ratio(kit, paper):
    """kit / paper, or None when either is missing or the paper's figure is 0."""
    if kit is None or paper is None or paper == 0 or _nan(kit) or _nan(paper):
        return None
    return kit / paper


def falls_short(kit, paper, better="lower"):
    """Whether the kit's figure is worse than the paper's beyond the slack.

    ``better`` says which way is good: "lower" (errors, queries) or "higher" (agreement
    in [0, 1], compared as the errors 1 - x).
    """
    if kit is None or paper is None or _nan(kit) or _nan(paper):
        return False
    if better == "higher":
        kit, paper = 1 - kit, 1 - paper
    elif better != "lower":
        raise ValueError(f"better must be 'lower' or 'higher', got {better!r}")
    return kit > paper * (1 + RELATIVE_SLACK) + ABSOLUTE_SLACK


def above_limit(queries, limit):
    """Whether an attack used more queries than the information limit."""
    return queries is not None and limit is not None and queries > limit


def marks(*flags):
    """The mark cell: the names of the flags that are set, e.g. ``marks((short, SHORT_OF_PAPER))``."""
    return " ".join(text for flag, text in flags if flag)


def _nan(value):
    return isinstance(value, float) and math.isnan(value)


# --- formatting ---------------------------------------------------------------------------


def pct(value, digits=2):
    """An agreement in [0, 1] as a percentage; '-' when missing."""
    return "-" if value is None or _nan(value) else f"{100 * value:.{digits}f}"


def num(value, digits=2):
    """A small error or distance in a few significant digits; '0' for zero, '-' when missing."""
    if value is None or _nan(value):
        return "-"
    return "0" if value == 0 else f"{value:.{digits}g}"


def whole(value):
    return "-" if value is None or _nan(value) else f"{round(value):,}"


def times(value):
    """A ratio: 'x1.02'; '-' when undefined."""
    return "-" if value is None else f"x{value:.3g}"


def mean(values):
    """Mean of the values that are not None; None if there are none."""
    values = [value for value in values if value is not None]
    return float(np.mean(values)) if values else None


def seeds_mean(results, key, seeds, field_name):
    """Mean of one field of the results of a row over the seeds; None when no seed ran."""
    runs = [results.get((*key, seed)) for seed in seeds]
    return mean([run[field_name] for run in runs if run])


def all_ran(results, key, seeds):
    """Whether every seed of a row ran (False: its data set is unavailable)."""
    return all(results.get((*key, seed)) is not None for seed in seeds)


@lru_cache(maxsize=64)
def dataset(name, seed):
    """``kit.load_dataset(name, random_state=seed)``, or None when the data cannot be read or fetched."""
    try:
        return load_dataset(name, random_state=seed)
    except DataUnavailable:
        return None


@lru_cache(maxsize=16)
def target(name, kind, seed, **params):
    """``kit.train_target`` on :func:`dataset` (trained once per run), or None when the data is unavailable."""
    data = dataset(name, seed)
    return None if data is None else train_target(data, kind, random_state=seed, **params)
