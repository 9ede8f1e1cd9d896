"""Equation solving (paper section 4.1, Table 4, Figure 7), measured again beside the paper.

Every target is trained by ``kit.train_target(dataset, kind, random_state=0)`` on the split
``load_dataset(name, random_state=0)``; every attack runs with ``random_state=0`` (its queries
and starting points); agreement uses 10,000 uniform points drawn with seed 0.

    KIT_DATA_DIR=../shared/data .venv/bin/python -m benchmarks.equations [--quick] [--only mlp --only rounding]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import kit
from kit.attacks import equation_solving, kernel_leakage
from kit.attacks.budget import n_unknowns
from kit.attacks.kernel import match_representers

BINARY = ("circles", "moons", "breast-cancer", "adult-income", "mushrooms", "diabetes")
MULTICLASS = ("blobs", "5-class", "iris", "digits", "adult-race", "steak", "gss")
MLP_BUDGETS = {1112: (98.17, 94.32), 2225: (98.68, 97.23), 4450: (99.89, 99.82), 11125: (99.96, 99.99)}
"""Paper Table 4, MLP on Adult (Race): queries -> (1-R_test, 1-R_unif) in %."""
ROUNDING_PAPER = {None: 0.0, 5: 2.4e-5, 4: 3e-4, 3: 4.6e-4, 2: 3.2e-3}
"""Paper Figure 7 at alpha = 1: R_test of softmax by decimals kept."""


def _load(names):
    """The data sets that load here; the others are named and skipped."""
    loaded = []
    for name in names:
        try:
            loaded.append(kit.load_dataset(name, random_state=0))
        except kit.DataUnavailable:
            print(f"(skipped {name}: not available offline)")
    return loaded


def _row(cells):
    print("| " + " | ".join(str(cell) for cell in cells) + " |")


def _header(*cells):
    _row(cells)
    _row(["---"] * len(cells))


def _steal(dataset, target, decimals=None, **attack):
    """Attack ``target`` through a fresh API; return the extraction, its agreement and the seconds it took."""
    api = kit.PredictionAPI(target, dataset.features, decimals=decimals)
    start = time.perf_counter()
    stolen = equation_solving(api, random_state=0, **attack)
    seconds = time.perf_counter() - start
    return stolen, kit.agreement(target, stolen.model, dataset, random_state=0), seconds


def _pct(value):
    return f"{100 * value:.2f}"


def binary_lr(datasets):
    print("\n### Binary LR, log-ratio (logit) solve at d + 1 queries (paper: 100 / 100, TV < 1e-9, every set)\n")
    _header("data set", "d", "queries", "1-R_test %", "1-R_unif %", "TV_test", "TV_unif", "s")
    for dataset in datasets:
        stolen, score, seconds = _steal(dataset, kit.train_target(dataset, "logreg"), model="logreg")
        _row([dataset.name, dataset.n_encoded, stolen.queries, _pct(score.test), _pct(score.uniform),
              f"{score.tv_test:.1e}", f"{score.tv_uniform:.1e}", f"{seconds:.2f}"])


def multiclass_lr(datasets):
    print("\n### Softmax and OvR LR (paper Table 4 / section 4.1.2: 100 / 100 at k = c(d+1), TV < 1e-7; "
          "Adult Race at k/2 = 265: softmax 99.96 / 99.75, OvR 99.98 / 99.98)\n")
    _header("data set", "model", "method", "queries", "1-R_test %", "1-R_unif %", "TV_unif", "s")
    for dataset in datasets:
        d, c = dataset.n_encoded, len(dataset.classes)
        for kind in ("softmax", "ovr"):
            target = kit.train_target(dataset, kind)
            k = n_unknowns(kind, d, c)
            runs = [("log-ratio", d + 1)] if kind == "softmax" else []
            runs += [("cross-entropy", k // 2)] if dataset.name == "adult-race" else []
            for method, budget in [*runs, ("cross-entropy", k)]:
                stolen, score, seconds = _steal(dataset, target, model=kind, method=method, budget=budget)
                _row([dataset.name, kind, method, stolen.queries, _pct(score.test), _pct(score.uniform),
                      f"{score.tv_uniform:.1e}", f"{seconds:.1f}"])


def mlp(runs, max_iter):
    (dataset,) = _load(["adult-race"])
    target = kit.train_target(dataset, "mlp")
    k = n_unknowns("mlp", dataset.n_encoded, len(dataset.classes))
    print(f"\n### MLP, Adult (Race), 20 tanh units, k = {k} unknowns, default restarts (3: weight-decay path, "
          f"plain, path; an exact fit stops), at most {max_iter} L-BFGS iterations per plain fit (paper Table 4)\n")
    _header("queries", "method", "1-R_test %", "1-R_unif %", "TV_unif", "s", "paper 1-R_test %", "paper 1-R_unif %")
    for method, budget in runs:
        stolen, score, seconds = _steal(dataset, target, model="mlp", method=method, budget=budget, max_iter=max_iter)
        paper = MLP_BUDGETS.get(budget, ("", ""))
        _row([budget, method, _pct(score.test), _pct(score.uniform), f"{score.tv_uniform:.1e}", f"{seconds:.0f}",
              *paper])


def rounding(datasets, alphas, methods):
    print("\n### Rounding (paper Figure 7): softmax, budget alpha * c(d+1), R_test averaged over "
          + ", ".join(dataset.name for dataset in datasets) + "\n")
    decimals = list(ROUNDING_PAPER)
    _header("method", "alpha", *[f"R_test, {'no rounding' if n is None else f'{n} decimals'}" for n in decimals])
    targets = [kit.train_target(dataset, "softmax") for dataset in datasets]
    for method in methods:
        for alpha in alphas:
            errors = []
            for n in decimals:
                runs = []
                for dataset, target in zip(datasets, targets, strict=True):
                    budget = max(dataset.n_encoded + 1, round(alpha * n_unknowns("softmax", dataset.n_encoded,
                                                                                  len(dataset.classes))))
                    runs.append(1 - _steal(dataset, target, n, model="softmax", method=method, budget=budget)[1].test)
                errors.append(f"{np.mean(runs):.1e}")
            _row([method, alpha, *errors])
    _row(["paper (cross-entropy)", 1, *[f"{value:.1e}" for value in ROUNDING_PAPER.values()]])


def rounded_default(seeds=(1, 2, 3)):
    print("\n### Rounded answers, default budget (no budget given): equation_solving follows the rounding it sees "
          f"(kit.attacks.equations.ROUNDED_QUERIES, tuned on seed 0), mean of seeds {', '.join(map(str, seeds))}\n")
    _header("target", "decimals", "d + 1 queries, log-ratio: 1-R_test % / 1-R_unif %", "default queries", "method",
            "1-R_test %", "1-R_unif %")
    for name, kind in (("moons", "logreg"), ("iris", "softmax"), ("digits", "softmax")):
        for decimals in (0, 1, 2, 3):
            natural, default, stolen = [], [], None
            for seed in seeds:
                dataset = kit.load_dataset(name, random_state=seed)
                target = kit.train_target(dataset, kind, random_state=seed)
                for scores, budget in ((natural, dataset.n_encoded + 1), (default, None)):
                    api = kit.PredictionAPI(target, dataset.features, decimals=decimals)
                    stolen = equation_solving(api, model=kind, budget=budget, random_state=seed)
                    scores.append(kit.agreement(target, stolen.model, dataset, random_state=seed))
            _row([f"{name} {kind}", decimals, " / ".join(_pct(np.mean([getattr(score, part) for score in natural]))
                                                        for part in ("test", "uniform")),
                  stolen.queries, stolen.info["method"], _pct(np.mean([score.test for score in default])),
                  _pct(np.mean([score.uniform for score in default]))])


def kernel(budget, max_iter):
    (dataset,) = _load(["digits"])
    target = kit.train_target(dataset, "kernel-logreg", n_representers=20)
    actual = target[-1].representers_  # teacher side only: the attack never reads this
    print("\n### Kernel LR leakage (section 4.1.3): Digits, 20 representers, RBF gamma = 0.05\n")
    _header("gamma", "unknowns", "queries", "1-R_test %", "1-R_unif %", "gamma found",
            "median RMS per pixel", "recovered whose nearest training digit is its representer", "s")
    for gamma in (0.05, None):
        api = kit.PredictionAPI(target, dataset.features)
        start = time.perf_counter()
        stolen = kernel_leakage(api, n_representers=20, gamma=gamma, budget=budget, max_iter=max_iter)
        seconds = time.perf_counter() - start
        score = kit.agreement(target, stolen.model, dataset, random_state=0)
        order, rms = match_representers(stolen.info["representers"], actual)
        train = dataset.X_train
        nearest = ((stolen.info["representers"][order, None, :] - train[None]) ** 2).sum(axis=2).argmin(axis=1)
        hits = np.mean(nearest == target[-1].representer_index_)
        _row(["known" if gamma else "fitted", stolen.info["unknowns"], stolen.queries, _pct(score.test),
              _pct(score.uniform), f"{stolen.info['gamma']:.4f}", f"{np.median(rms):.2f}", f"{hits:.0%}",
              f"{seconds:.0f}"])


def kernel_rounds(seeds=(1, 2, 3)):
    """Notebook 06's extraction (10 representers, 750 queries): random queries only against two rounds."""
    print("\n### Kernel LR, notebook 06: random queries only (near=0) or a second round near the representers "
          "(near=0.3, chosen on seed 0); held-out seeds\n")
    _header("near", *[f"seed {seed}: 1-R_test / 1-R_unif %" for seed in seeds])
    for near in (0.0, 0.3):
        cells = []
        for seed in seeds:
            dataset = kit.load_dataset("digits", random_state=seed)
            target = kit.train_target(dataset, "kernel-logreg", n_representers=10, random_state=seed)
            stolen = kernel_leakage(kit.PredictionAPI(target, dataset.features), n_representers=10, gamma=0.05,
                                    budget=750, random_state=seed, near=near)
            score = kit.agreement(target, stolen.model, dataset)
            cells.append(f"{_pct(score.test)} / {_pct(score.uniform)}")
        _row([near, *cells])


SECTIONS = ("binary", "multiclass", "mlp", "rounding", "rounded-default", "kernel")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data sets, fewer budgets (about a minute)")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this table (repeatable)")
    arguments = parser.parse_args(argv)
    quick, sections = arguments.quick, arguments.only or SECTIONS
    start = time.perf_counter()
    if "binary" in sections:
        binary_lr(_load(BINARY[:3] if quick else BINARY))
    multiclass = _load(("blobs", "5-class", "iris") if quick else MULTICLASS)
    if "multiclass" in sections:
        multiclass_lr(multiclass)
    if "mlp" in sections:
        runs = [("log-ratio", budget) for budget in MLP_BUDGETS] + [("cross-entropy", 1112), ("cross-entropy", 2225)]
        mlp([("log-ratio", 1112)], 500) if quick else mlp(runs, 5000)
    if "rounding" in sections:
        rounding(multiclass, [1] if quick else [0.5, 1, 2, 5], ["cross-entropy", "log-ratio"])
    if "rounded-default" in sections:
        rounded_default((1,) if quick else (1, 2, 3))
    if "kernel" in sections:
        kernel(1490, 500 if quick else 15_000)
        kernel_rounds((1,) if quick else (1, 2, 3))
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
