"""Table 4 (paper section 4.1): equation solving from confidences, with the information limit beside.

Binary LR on every binary set (log-ratio solve at d + 1 queries); softmax and one-vs-rest LR on the
multiclass sets (log-ratio at d + 1, the paper's cross-entropy at k = c(d + 1), and k/2 on Adult
Race as in Table 4); the MLP (20 tanh units) on Adult Race at the paper's budgets and at the
information limit, and at k on the other multiclass sets; kernel LR on Digits (section 4.1.3).
Every row has the limit columns: the model's unknowns k, the independent outputs of one answer
(c - 1: confidences sum to 1), and the information limit (``kit.attacks.information_limit``: the
fewest queries whose answers can determine the model) beside the queries used.
"""

from __future__ import annotations

import math

from ..api import PredictionAPI
from ..attacks import equation_solving, information_limit, kernel_leakage, n_unknowns
from ..features import encoded_width
from ..metrics import agreement
from .core import (
    ABOVE_LIMIT,
    SHORT_OF_PAPER,
    Job,
    Plot,
    Section,
    Table,
    above_limit,
    all_ran,
    dataset,
    falls_short,
    marks,
    num,
    pct,
    ratio,
    seeds_mean,
    target,
    times,
    whole,
)

NAME, TITLE = "equations", "Table 4: equation solving with confidences (section 4.1)"
BINARY = ("circles", "moons", "breast-cancer", "adult-income", "mushrooms", "diabetes")
MULTICLASS = ("blobs", "5-class", "iris", "digits", "adult-race", "steak", "gss")
QUICK_BINARY, QUICK_MULTICLASS = ("circles", "moons", "breast-cancer-diagnostic"), ("blobs", "5-class", "iris")
MLP_PAPER = {1112: (0.9817, 0.9432), 2225: (0.9868, 0.9723), 4450: (0.9989, 0.9982), 11125: (0.9996, 0.9999)}
"""Paper Table 4, MLP on Adult (Race): queries -> (1-R_test, 1-R_unif)."""
HALF_PAPER = {"softmax": (0.9996, 0.9975), "ovr": (0.9998, 0.9998)}
"""Paper Table 4, Adult (Race) at k/2 = 265 queries, cross-entropy."""
EXACT = (1.0, 1.0)
"""The paper's figure for LR at k = c(d + 1) (and binary LR at d + 1): 100% / 100%."""
KERNEL_SET, REPRESENTERS = "digits", 20
COLUMNS = ["data set", "model", "method", "unknowns k", "outputs / query", "information limit", "queries",
           "queries / limit", "1-R_test %", "paper", "1-R_unif %", "paper", "ratio (test)", "TV_unif", "mark"]


def rows(config):
    """(data set, model, method, budget: int, 'default', 'limit' or a fraction of k, paper (test, unif) or None)."""
    binary = QUICK_BINARY if config.quick else BINARY
    multiclass = QUICK_MULTICLASS if config.quick else MULTICLASS
    found = [(name, "logreg", "log-ratio", "default", EXACT) for name in binary]
    for name in multiclass:
        found.append((name, "softmax", "log-ratio", "default", EXACT))
        for model in ("softmax", "ovr"):
            if name == "adult-race":
                found.append((name, model, "cross-entropy", 0.5, HALF_PAPER[model]))
            found.append((name, model, "cross-entropy", "default", EXACT))
    if config.quick:
        return found + [("iris", "mlp", "log-ratio", budget, None) for budget in ("limit", 1.0)]
    found += [("adult-race", "mlp", "log-ratio", budget, MLP_PAPER.get(budget)) for budget in ("limit", *MLP_PAPER)]
    found += [("adult-race", "mlp", "cross-entropy", budget, MLP_PAPER[budget]) for budget in (1112, 2225)]
    return found + [(name, "mlp", "log-ratio", 1.0, None) for name in multiclass if name != "adult-race"]


def _budget(spec, model, data):
    c = len(data.classes)
    hidden = 20 if model == "mlp" else 0
    if spec == "default":
        return None
    if spec == "limit":
        return information_limit(model, data.features, c, hidden)
    if isinstance(spec, float):
        return max(1, round(spec * n_unknowns(model, encoded_width(data.features), c, hidden)))
    return spec


def steal(name, model, method, spec, seed, max_iter):
    """One equation-solving run: queries, agreement and the limit columns (None: data unavailable)."""
    data, secret = dataset(name, seed), target(name, model, seed)
    if data is None:
        return None
    api = PredictionAPI(secret, data.features)
    stolen = equation_solving(api, model=model, method=method, budget=_budget(spec, model, data),
                              random_state=seed, max_iter=max_iter)
    found = agreement(secret, stolen.model, data, random_state=seed)
    c, hidden = len(data.classes), 20 if model == "mlp" else 0
    return {"queries": stolen.queries, "test": found.test, "uniform": found.uniform, "tv": found.tv_uniform,
            "k": n_unknowns(model, encoded_width(data.features), c, hidden), "outputs": c - 1,
            "limit": information_limit(model, data.features, c, hidden)}


def leak(gamma, seed, budget, max_iter, representers=REPRESENTERS, near=0.3):
    """Kernel LR on Digits: the representers leak (section 4.1.3)."""
    data, secret = dataset(KERNEL_SET, seed), target(KERNEL_SET, "kernel-logreg", seed, n_representers=representers)
    if data is None:
        return None
    api = PredictionAPI(secret, data.features)
    stolen = kernel_leakage(api, n_representers=representers, gamma=gamma, budget=budget, max_iter=max_iter,
                            random_state=seed, near=near)
    found = agreement(secret, stolen.model, data, random_state=seed)
    k, c = stolen.info["unknowns"], len(data.classes)
    return {"queries": stolen.queries, "test": found.test, "uniform": found.uniform, "tv": found.tv_uniform,
            "k": k, "outputs": c - 1, "limit": math.ceil(k / (c - 1)), "gamma": stolen.info["gamma"]}


def _kernel_runs(config):
    """(gamma: known 0.05 or fitted None, budget, L-BFGS iterations)."""
    return [(0.05, 1490, 500)] if config.quick else [(0.05, 1490, 15_000), (None, 1490, 15_000)]


NOTEBOOK_KERNEL = (0.05, 750, 5000, 10)
"""Notebook 06's extraction: gamma known, 750 queries, 5,000 L-BFGS iterations, 10 representers."""
NEAR = (0.0, 0.3)
"""Uniform queries only (the paper's attack), or 30% of them near the first fit's representers (the default)."""


def plan(config):
    max_iter = 500 if config.quick else 5000
    jobs = [Job((*row[:4], seed), lambda row=row, seed=seed: steal(*row[:4], seed, max_iter))
            for row in rows(config) for seed in config.seeds]
    jobs += [Job(("kernel", run[0], seed), lambda run=run, seed=seed: leak(run[0], seed, *run[1:]))
             for run in _kernel_runs(config) for seed in config.seeds]
    if config.quick:
        return jobs
    gamma, budget, max_iter, representers = NOTEBOOK_KERNEL
    return jobs + [Job(("kernel-near", near, seed),
                       lambda near=near, seed=seed: leak(gamma, seed, budget, max_iter, representers, near))
                   for near in NEAR for seed in config.seeds]


def _row(table, results, key, seeds, label, paper):
    if not all_ran(results, key, seeds):
        table.unavailable(*label)
        return
    value = {field: seeds_mean(results, key, seeds, field) for field in
             ("queries", "test", "uniform", "tv", "k", "outputs", "limit")}
    paper_test, paper_unif = paper or (None, None)
    short = falls_short(value["test"], paper_test, "higher") or falls_short(value["uniform"], paper_unif, "higher")
    table.add(*label, whole(value["k"]), whole(value["outputs"]), whole(value["limit"]), whole(value["queries"]),
              times(ratio(value["queries"], value["limit"])), pct(value["test"]), pct(paper_test),
              pct(value["uniform"]), pct(paper_unif), times(ratio(value["test"], paper_test)), num(value["tv"]),
              marks((short, SHORT_OF_PAPER), (above_limit(value["queries"], value["limit"]), ABOVE_LIMIT)))
    return value


def build(config, results):
    seeds = config.seeds
    linear = Table("Logistic regression: binary, softmax, one-vs-rest (paper: 100 / 100 at k; Adult Race at k/2: "
                   "softmax 99.96 / 99.75, OvR 99.98 / 99.98)", COLUMNS)
    mlp = Table("MLP, one hidden layer of 20 tanh units (paper: Adult Race at 1,112 to 11,125 queries)", COLUMNS)
    adult_mlp = {}
    for name, model, method, spec, paper in rows(config):
        table = mlp if model == "mlp" else linear
        value = _row(table, results, (name, model, method, spec), seeds, (name, model, method), paper)
        if value and name == "adult-race" and model == "mlp":
            adult_mlp.setdefault(method, []).append((value["queries"], 1 - value["test"], 1 - value["uniform"]))
    kernel = Table(f"Kernel LR on Digits, {REPRESENTERS} representers, RBF gamma 0.05 (section 4.1.3; the limit "
                   "counts k / (c - 1), without the shift invariance)", COLUMNS)
    for gamma, _, _ in _kernel_runs(config):
        _row(kernel, results, ("kernel", gamma), seeds, (KERNEL_SET, "kernel LR",
                                                         "gamma known" if gamma else "gamma fitted"), None)
    tables = [linear, mlp, kernel]
    if not config.quick:
        near = Table("Kernel LR, notebook 06's setting (10 representers, 750 queries, gamma known): uniform queries "
                     "only, or 30% of them near the first fit's representers (kernel_leakage's near, chosen on "
                     "seed 0); uniform rows lie far from every digit, where the target is nearly constant", COLUMNS)
        for share in NEAR:
            _row(near, results, ("kernel-near", share), seeds, (KERNEL_SET, "kernel LR", f"near={share}"), None)
        tables.append(near)
    plots = [_mlp_plot(adult_mlp)] if adult_mlp else []
    return Section(NAME, TITLE, __doc__.split("\n\n", 1)[1].strip(), tables, plots)


def _mlp_plot(runs):
    kit = {}
    for method, points in runs.items():
        points = sorted(points)
        kit[f"kit {method}, R_test"] = ([q for q, _, _ in points], [t for _, t, _ in points])
        kit[f"kit {method}, R_unif"] = ([q for q, _, _ in points], [u for _, _, u in points])
    paper = {"paper, R_test": (list(MLP_PAPER), [1 - t for t, _ in MLP_PAPER.values()]),
             "paper, R_unif": (list(MLP_PAPER), [1 - u for _, u in MLP_PAPER.values()])}
    return Plot("table4_mlp_adult_race", "MLP on Adult (Race): error against queries", "queries",
                "error (1 - agreement)", kit, paper)
