"""Figure 7 (paper section 7): equation solving on softmax when the API rounds its confidences.

Softmax targets on the multiclass sets, budget alpha * c(d + 1) (at least d + 1), confidences
rounded to 5, 4, 3 or 2 decimals (or not); R_test averaged over the data sets and seeds, for the
paper's cross-entropy and the kit's log-ratio solve. The paper gives cross-entropy at alpha = 1.
"""

from __future__ import annotations

from ..api import PredictionAPI
from ..attacks import equation_solving, n_unknowns
from ..metrics import agreement
from .core import (
    SHORT_OF_PAPER,
    Job,
    Plot,
    Section,
    Table,
    dataset,
    falls_short,
    marks,
    mean,
    num,
    pct,
    ratio,
    target,
    times,
    whole,
)

NAME, TITLE = "rounding", "Figure 7: rounded confidences (section 7)"
DATASETS = ("blobs", "5-class", "iris", "digits", "adult-race", "steak", "gss")
QUICK_DATASETS = ("blobs", "iris")
DECIMALS = (None, 5, 4, 3, 2)
PAPER = {None: 0.0, 5: 2.4e-5, 4: 3e-4, 3: 4.6e-4, 2: 3.2e-3}
"""Paper Figure 7, cross-entropy at alpha = 1: R_test by decimals kept."""
METHODS = ("cross-entropy", "log-ratio")
DEFAULT_TARGETS = (("moons", "logreg"), ("iris", "softmax"), ("digits", "softmax"))
QUICK_DEFAULT_TARGETS = (("moons", "logreg"), ("iris", "softmax"))
DEFAULT_DECIMALS = (0, 1, 2, 3)
"""Equation solving with no budget given on an API that rounds: the default budget follows the rounding seen."""


def _grid(config):
    names = QUICK_DATASETS if config.quick else DATASETS
    alphas = (1,) if config.quick else (0.5, 1, 2, 5)
    return names, alphas


def steal(name, method, alpha, decimals, seed):
    """R_test of one run (None: data unavailable)."""
    data, secret = dataset(name, seed), target(name, "softmax", seed)
    if data is None:
        return None
    api = PredictionAPI(secret, data.features, decimals=decimals)
    k = n_unknowns("softmax", data.n_encoded, len(data.classes))
    budget = max(data.n_encoded + 1, round(alpha * k))
    stolen = equation_solving(api, model="softmax", method=method, budget=budget, random_state=seed)
    return {"error": 1 - agreement(secret, stolen.model, data, random_state=seed).test}


def default_budget(name, kind, decimals, seed):
    """Equation solving at d + 1 queries (log-ratio) and with no budget given, on an API rounding to ``decimals``."""
    data, secret = dataset(name, seed), target(name, kind, seed)
    if data is None:
        return None
    runs = {}
    for run, budget in (("natural", data.n_encoded + 1), ("default", None)):
        api = PredictionAPI(secret, data.features, decimals=decimals)
        stolen = equation_solving(api, model=kind, budget=budget, random_state=seed)
        found = agreement(secret, stolen.model, data, random_state=seed)
        runs[run] = {"queries": stolen.queries, "test": found.test, "uniform": found.uniform,
                     "method": stolen.info["method"]}
    return runs


def _default_targets(config):
    return QUICK_DEFAULT_TARGETS if config.quick else DEFAULT_TARGETS


def plan(config):
    names, alphas = _grid(config)
    jobs = [Job((name, method, alpha, decimals, seed),
                lambda args=(name, method, alpha, decimals, seed): steal(*args))
            for name in names for method in METHODS for alpha in alphas for decimals in DECIMALS
            for seed in config.seeds]
    return jobs + [Job(("default", name, kind, decimals, seed),
                       lambda args=(name, kind, decimals, seed): default_budget(*args))
                   for name, kind in _default_targets(config) for decimals in DEFAULT_DECIMALS
                   for seed in config.seeds]


def _default_table(config, results):
    table = Table("No budget given: the default budget follows the rounding the answers show "
                  "(kit.attacks.equations.ROUNDED_QUERIES, tuned on seed 0)",
                  ["target", "decimals", "d + 1 queries: 1-R_test %", "1-R_unif %", "default: queries", "method",
                   "1-R_test %", "1-R_unif %"])
    for name, kind in _default_targets(config):
        for decimals in DEFAULT_DECIMALS:
            runs = [results.get(("default", name, kind, decimals, seed)) for seed in config.seeds]
            if not all(runs):
                table.unavailable(f"{name} {kind}", decimals)
                continue
            natural, default = [run["natural"] for run in runs], [run["default"] for run in runs]
            table.add(f"{name} {kind}", decimals, *[pct(mean([run[part] for run in natural]))
                                                    for part in ("test", "uniform")],
                      whole(mean([run["queries"] for run in default])), default[0]["method"],
                      *[pct(mean([run[part] for run in default])) for part in ("test", "uniform")])
    return table


def _error(results, names, method, alpha, decimals, seeds):
    runs = [results.get((name, method, alpha, decimals, seed)) for name in names for seed in seeds]
    return mean([run["error"] for run in runs if run])


def build(config, results):
    names, alphas = _grid(config)
    ran = [name for name in names if all(results.get((name, METHODS[0], alphas[0], None, s)) for s in config.seeds)]
    missing = sorted(set(names) - set(ran))
    note = f"R_test averaged over {', '.join(ran)}" + (f" ({', '.join(missing)}: data unavailable)" if missing else "")
    paper = Table("Cross-entropy at alpha = 1 beside the paper", ["decimals", "kit R_test", "paper R_test", "ratio",
                                                                  "mark"], notes=note)
    for decimals in DECIMALS:
        kit = _error(results, ran, "cross-entropy", 1, decimals, config.seeds)
        short = falls_short(kit, PAPER[decimals])
        paper.add("no rounding" if decimals is None else decimals, num(kit), num(PAPER[decimals]),
                  times(ratio(kit, PAPER[decimals])), marks((short, SHORT_OF_PAPER)))
    grid = Table("R_test by method, alpha and decimals kept",
                 ["method", "alpha", *["no rounding" if n is None else f"{n} decimals" for n in DECIMALS]], notes=note)
    lines = {}
    for method in METHODS:
        for alpha in alphas:
            errors = [_error(results, ran, method, alpha, n, config.seeds) for n in DECIMALS]
            grid.add(method, alpha, *map(num, errors))
            lines[f"kit {method}, alpha {alpha}"] = (list(range(len(DECIMALS))), errors)
    plot = Plot("figure7_rounding", "Softmax, rounded confidences: R_test against decimals kept",
                "decimals kept", "R_test", lines,
                {"paper cross-entropy, alpha 1": (list(range(len(DECIMALS))), list(PAPER.values()))}, logx=False,
                ticks=["none", *map(str, DECIMALS[1:])])
    return Section(NAME, TITLE, __doc__.split("\n\n", 1)[1].strip(), [paper, grid, _default_table(config, results)],
                   [plot])
