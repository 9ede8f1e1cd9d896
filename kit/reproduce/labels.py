"""Figures 4-6 and the MLP (paper section 6): Lowd-Meek and retraining from labels only.

``kit.attacks.retraining(strategy="uniform" | "line-search" | "adaptive")`` and ``kit.attacks.lowd_meek``
against targets behind ``PredictionAPI(output="label")``, budgets ``kit.attacks.budget_for(alpha, api,
model)`` = alpha times the model's parameters. "uniform" is the naive baseline (a copy fitted on random
rows); gain = its R_unif over the strategy's. Averages are over the data sets that ran; runs past a
per-figure query cap are left out for time ("sets" says how many ran). Last, Lowd-Meek without a budget
(epsilon 1e-9; paper: exact at about alpha 50) and Lowd-Meek in a degree-2 polynomial kernel's feature
space against polynomial-kernel SVMs (the paper gives no figure for it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..api import PredictionAPI
from ..attacks import budget_for, lowd_meek, lowd_meek_poly, n_parameters, retraining
from ..attacks.lowd_meek import Monomials
from ..features import sample_uniform
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
    ratio,
    target,
    times,
    whole,
)

NAME, TITLE = "labels", "Figures 4-6 and the MLP: Lowd-Meek and retraining from labels (section 6)"
ALPHAS = (1, 5, 10, 20, 50, 100)
STRATEGIES = ("uniform", "line-search", "adaptive")

PAPER = {
    "logreg": {
        "uniform": {10: (0.040, 0.034), 20: (0.024, 0.019), 50: (0.011, 0.0068), 100: (0.0041, 0.0035)},
        "line-search": {10: (0.019, 0.020), 20: (0.0091, 0.0068), 50: (0.0062, 0.0030), 100: (0.0024, 0.0014)},
        "adaptive": {10: (0.017, 0.020), 20: (0.0080, 0.0047), 50: (0.00085, 0.00071), 100: (0.00031, 0.00018)},
        "lowd-meek": {50: (0.0, 0.0)},
    },
    "softmax": {
        "uniform": {10: (0.017, 0.035), 100: (0.0013, 0.0039)},
        "adaptive": {10: (0.0053, 0.020), 20: (0.0013, 0.0050), 100: (0.00014, 0.00048)},
    },
    "rbf-svm": {"adaptive": {10: (0.012, 0.013), 100: (0.0016, 0.0033)}},
    "mlp": {"adaptive": {100: (1 - 0.9916, 1 - 0.9824)}},
}
"""(R_test, R_unif) read off the paper's figures 4-6 and its MLP figure; other alphas are not quoted."""


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    model: str  # the target's kind and the stolen model's class
    datasets: tuple
    quick_datasets: tuple
    alphas: tuple
    max_queries: int  # runs beyond this many queries are left out (time), and say so

    def strategies(self):
        return STRATEGIES + (("lowd-meek",) if self.model == "logreg" else ())


FIGURES = (
    Figure("figure4", "Figure 4: binary logistic regression", "logreg",
           ("circles", "moons", "breast-cancer", "adult-income"), ("circles", "moons"), ALPHAS, 11_000),
    Figure("figure5", "Figure 5: softmax regression", "softmax",
           ("blobs", "5-class", "iris", "digits", "steak", "gss", "adult-race"), ("blobs",), ALPHAS, 16_000),
    Figure("figure6", "Figure 6: RBF-kernel SVM", "rbf-svm",
           ("circles", "moons", "breast-cancer", "adult-income"), ("circles",), ALPHAS, 2_500),
    Figure("mlp", "MLP, one hidden layer of 20 tanh units", "mlp", ("blobs", "iris"), (), (10, 20, 100), 3_500),
)
POLY_RUNS = {"circles": (10, 20, None), "moons": (10, 20, 30, None), "breast-cancer": (10, 20, None),
             "adult-income": (None,)}
"""Lowd-Meek in feature space: budgets alpha * (monomials + 1); None: unbounded (epsilon 1e-9)."""
QUICK_POLY = {"circles": (10, None)}
LEFT_OUT, TOO_SMALL = "left out for time", "budget too small"


def _alphas(figure, config):
    return (10,) if config.quick else figure.alphas


def errors(secret, stolen, data, seed):
    """(R_test, R_unif) of a stolen model on the test rows and 10,000 uniform rows."""
    uniform = sample_uniform(data.features, 10_000, seed)
    return (float(np.mean(stolen.predict(data.X_test) != secret.predict(data.X_test))),
            float(np.mean(stolen.predict(uniform) != secret.predict(uniform))))


def steal(figure, name, strategy, alpha, seed):
    """One run at ``alpha`` (None: unbounded Lowd-Meek); None when the data is unavailable."""
    data, secret = dataset(name, seed), target(name, figure.model, seed)
    if data is None:
        return None
    api = PredictionAPI(secret, data.features, output="label")
    budget = None if alpha is None else budget_for(alpha, api, figure.model)
    if budget is not None and budget > figure.max_queries:
        return {"note": LEFT_OUT}
    try:
        stolen = lowd_meek(api, budget=budget, random_state=seed) if strategy == "lowd-meek" else retraining(
            api, strategy=strategy, model=figure.model, budget=budget, random_state=seed)
    except ValueError:  # Lowd-Meek refuses fewer than 3 queries per line search, before its first query
        return {"note": TOO_SMALL}
    r_test, r_unif = errors(secret, stolen.model, data, seed)
    return {"test": r_test, "uniform": r_unif, "queries": stolen.queries,
            "alpha": stolen.queries / n_parameters(api, figure.model)}


def steal_poly(name, alpha, seed):
    """Lowd-Meek in the feature space of a degree-2 polynomial kernel SVM."""
    data, secret = dataset(name, seed), target(name, "poly-svm", seed)
    if data is None:
        return None
    unknowns = len(Monomials(data.features, 2).fit().columns_) + 1
    api = PredictionAPI(secret, data.features, output="label")
    try:
        stolen = lowd_meek_poly(api, budget=None if alpha is None else alpha * unknowns, random_state=seed)
    except ValueError:
        return {"note": TOO_SMALL}
    r_test, r_unif = errors(secret, stolen.model, data, seed)
    return {"test": r_test, "uniform": r_unif, "queries": stolen.queries, "unknowns": unknowns,
            "d": data.n_encoded, "unresolved": len(stolen.info["unresolved"]), "free": stolen.info["free_directions"]}


def _figures(config):
    """(figure, data sets, alphas) of the run; quick leaves out the MLP (minutes of fits; equations has one)."""
    return [(figure, figure.quick_datasets if config.quick else figure.datasets, _alphas(figure, config))
            for figure in FIGURES if figure.quick_datasets or not config.quick]


def _poly_runs(config):
    return QUICK_POLY if config.quick else POLY_RUNS


def plan(config):
    jobs = []
    for figure, names, alphas in _figures(config):
        for name in names:
            cells = [(strategy, alpha) for alpha in alphas for strategy in figure.strategies()]
            cells += [("lowd-meek", None)] if figure.model == "logreg" else []
            jobs += [Job((figure.key, name, strategy, alpha, seed),
                         lambda args=(figure, name, strategy, alpha, seed): steal(*args))
                     for strategy, alpha in cells for seed in config.seeds]
    return jobs + [Job(("poly", name, alpha, seed), lambda args=(name, alpha, seed): steal_poly(*args))
                   for name, alphas in _poly_runs(config).items() for alpha in alphas for seed in config.seeds]


def cell(results, key, seeds):
    """Mean over the seeds of one cell: a dict of figures, None (data unavailable) or {"note": why not}."""
    runs = [results.get((*key, seed)) for seed in seeds]
    if any(run is None for run in runs):
        return None
    measured = [run for run in runs if "note" not in run]
    if len(measured) < len(runs):
        return {"note": next(run["note"] for run in runs if "note" in run)}
    return {field: mean([run[field] for run in measured]) for field in measured[0]}


def _pair(value):
    return "-" if value is None or "note" in value else f"{num(value['test'])} / {num(value['uniform'])}"


def _figure_tables(figure, names, alphas, results, seeds):
    cells = {(name, strategy, alpha): cell(results, (figure.key, name, strategy, alpha), seeds)
             for name in names for strategy in figure.strategies() for alpha in alphas}
    ran = [name for name in names if all(cells[name, figure.strategies()[0], alpha] is not None for alpha in alphas)]
    missing = [name for name in names if name not in ran]
    averages = Table(f"{figure.title}: average over {', '.join(ran) or 'no data set'}"
                     + (f" ({', '.join(missing)}: data unavailable)" if missing else ""),
                     ["alpha", "strategy", "sets", "mean queries", "kit R_test", "paper R_test", "kit R_unif",
                      "paper R_unif", "ratio (R_unif)", "gain", "mark"])
    lines = {"test": {}, "uniform": {}}
    for alpha in alphas:
        baseline = None
        for strategy in figure.strategies():
            runs = [cells[name, strategy, alpha] for name in ran]
            runs = [run for run in runs if run is not None and "note" not in run]
            r_test, r_unif = mean([run["test"] for run in runs]), mean([run["uniform"] for run in runs])
            baseline = r_unif if strategy == "uniform" else baseline
            paper_test, paper_unif = PAPER[figure.model].get(strategy, {}).get(alpha, (None, None))
            short = falls_short(r_test, paper_test) or falls_short(r_unif, paper_unif)
            gain = "-" if r_unif is None or baseline is None else "inf" if r_unif == 0 else times(baseline / r_unif)
            averages.add(alpha, "uniform (baseline)" if strategy == "uniform" else strategy, f"{len(runs)}/{len(ran)}",
                         whole(mean([run["queries"] for run in runs])), num(r_test), num(paper_test), num(r_unif),
                         num(paper_unif), times(ratio(r_unif, paper_unif)), gain, marks((short, SHORT_OF_PAPER)))
            for measure, value in (("test", r_test), ("uniform", r_unif)):
                if value is not None:
                    xs, ys = lines[measure].setdefault(f"kit {strategy}", ([], []))
                    xs.append(alpha)
                    ys.append(value)
    per_set = Table(f"{figure.title}, per data set: R_test / R_unif (-: {LEFT_OUT}, or {TOO_SMALL} for Lowd-Meek)",
                    ["data set", "strategy", *[f"alpha {alpha}" for alpha in alphas]])
    for name in names:
        if name not in ran:
            per_set.unavailable(name, "all")
            continue
        for strategy in figure.strategies():
            per_set.add(name, strategy, *[_pair(cells[name, strategy, alpha]) for alpha in alphas])
    plots = [Plot(f"{figure.key}_{measure}", f"{figure.title}: R_{'test' if measure == 'test' else 'unif'} "
                  "against alpha", "alpha (budget = alpha x parameters)", f"R_{measure[:4]}", lines[measure],
                  {f"paper {strategy}": (list(points), [point[index] for point in points.values()])
                   for strategy, points in PAPER[figure.model].items()})
             for index, measure in enumerate(("test", "uniform"))]
    return [averages, per_set], plots


def _unbounded(names, results, seeds):
    table = Table("Lowd-Meek without a budget, epsilon 1e-9 (paper: exact at about alpha 50, ~2,050 queries)",
                  ["data set", "queries", "alpha", "R_test", "R_unif", "paper R_test / R_unif", "mark"])
    for name in names:
        value = cell(results, ("figure4", name, "lowd-meek", None), seeds)
        if value is None:
            table.unavailable(name)
            continue
        short = falls_short(value["test"], 0.0) or falls_short(value["uniform"], 0.0)
        table.add(name, whole(value["queries"]), f"{value['alpha']:.1f}", num(value["test"]), num(value["uniform"]),
                  "0 / 0", marks((short, SHORT_OF_PAPER)))
    return table


def _poly(config, results):
    table = Table("Lowd-Meek against polynomial-kernel SVMs (degree 2), in the kernel's feature space; unknowns k = "
                  "monomials + 1; unresolved: monomials no boundary point measures; free: extra null directions",
                  ["data set", "d", "unknowns k", "budget", "queries", "R_test", "R_unif", "unresolved", "free"])
    for name, alphas in _poly_runs(config).items():
        for alpha in alphas:
            budget = "unbounded" if alpha is None else f"alpha {alpha}"
            value = cell(results, ("poly", name, alpha), config.seeds)
            if value is None:
                table.unavailable(name, "", "", budget)
            elif "note" in value:
                table.add(name, "", "", budget, value["note"], "", "", "", "")
            else:
                table.add(name, whole(value["d"]), whole(value["unknowns"]), budget, whole(value["queries"]),
                          num(value["test"]), num(value["uniform"]), whole(value["unresolved"]), whole(value["free"]))
    return table


def build(config, results):
    tables, plots = [], []
    for figure, names, alphas in _figures(config):
        figure_tables, figure_plots = _figure_tables(figure, names, alphas, results, config.seeds)
        tables += figure_tables
        plots += figure_plots
        if figure.model == "logreg":
            tables.append(_unbounded(names, results, config.seeds))
    tables.append(_poly(config, results))
    return Section(NAME, TITLE, __doc__.split("\n\n", 1)[1].strip(), tables, plots)
