"""Labels only (paper section 6): figures 4, 5 and 6 and the MLP, measured again beside the paper.

For each figure, a target of the paper's kind is trained on each data set and attacked through
a labels-only API with budgets of ``alpha`` times its number of parameters; the tables give the
average R_test / R_unif over the data sets (the paper's figures), the paper's values beside,
how many times fewer uniform-point disagreements each strategy has than the naive baseline
("uniform": scikit-learn fitted on random points), and the figures for each data set.  A last table
runs Lowd-Meek in a degree-2 polynomial kernel's feature space against polynomial-kernel SVMs (the
paper has no figure for it).

    KIT_DATA_DIR=../shared/data .venv/bin/python -m benchmarks.labels [--quick] [--only figure4,figure6,poly]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass

import numpy as np

import kit
from kit.attacks import budget_for, lowd_meek, lowd_meek_poly, retraining
from kit.attacks.budget import n_parameters
from kit.attacks.lowd_meek import Monomials
from kit.features import encoded_width

ALPHAS = (1, 5, 10, 20, 50, 100)
STRATEGIES = ("uniform", "line-search", "adaptive")

# (R_test, R_unif) read off the paper's figures 4-6 (PAPER.md); other alphas are not quoted there.
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


@dataclass(frozen=True)
class Figure:
    key: str  # for --only
    title: str
    model: str  # the target's kind and the stolen model's class
    datasets: tuple
    quick_datasets: tuple
    alphas: tuple
    max_queries: int  # runs beyond this many queries are left out (time), and say so
    also_without: tuple = ()  # data sets whose absence the averages also show


FIGURES = (
    Figure("figure4", "Figure 4: binary logistic regression", "logreg",
           ("circles", "moons", "breast-cancer", "adult-income"), ("circles", "moons", "breast-cancer"),
           ALPHAS, 11_000, ("breast-cancer",)),
    Figure("figure5", "Figure 5: softmax (multinomial) regression", "softmax",
           ("blobs", "5-class", "iris", "digits", "steak", "gss", "adult-race"), ("blobs", "5-class", "iris"),
           ALPHAS, 16_000),
    Figure("figure6", "Figure 6: RBF-kernel SVM", "rbf-svm",
           ("circles", "moons", "breast-cancer", "adult-income"), ("circles", "moons", "breast-cancer"), ALPHAS,
           2_500, ("breast-cancer",)),
    Figure("mlp", "MLP, one hidden layer of 20 tanh units", "mlp", ("blobs", "iris"), ("blobs",), (10, 20), 3_500),
)


class Scorer:
    """1 - agreement of a stolen model, with the target's answers on D and U computed once (as kit.agreement)."""

    def __init__(self, target, dataset):
        self.test_X, self.uniform_X = dataset.X_test, kit.sample_uniform(dataset.features, 10_000, 0)
        self.test_y, self.uniform_y = target.predict(self.test_X), target.predict(self.uniform_X)

    def errors(self, stolen):
        """(R_test, R_unif)."""
        return (float(np.mean(stolen.predict(self.test_X) != self.test_y)),
                float(np.mean(stolen.predict(self.uniform_X) != self.uniform_y)))


def run_figure(figure):
    """{(dataset, strategy, alpha): (R_test, R_unif, queries) or None when left out}."""
    results = {}
    strategies = STRATEGIES + (("lowd-meek",) if figure.model == "logreg" else ())
    for name in figure.datasets:
        try:
            dataset = kit.load_dataset(name)
        except kit.DataUnavailable as error:
            print(f"  ({name} skipped: {error})")
            continue
        target = kit.train_target(dataset, figure.model)
        scorer = Scorer(target, dataset)
        for alpha in figure.alphas:
            for strategy in strategies:
                api = kit.PredictionAPI(target, dataset.features, output="label")
                budget = budget_for(alpha, api, figure.model)
                results[name, strategy, alpha] = None if budget > figure.max_queries else attack(api, strategy, budget,
                                                                                                 figure.model, scorer)
        if figure.model == "logreg":
            api = kit.PredictionAPI(target, dataset.features, output="label")
            stolen = lowd_meek(api)
            results[name, "lowd-meek", "free"] = (*scorer.errors(stolen.model), stolen.queries,
                                                  stolen.queries / n_parameters(api, "logreg"))
    return results


def attack(api, strategy, budget, model, scorer):
    try:
        stolen = lowd_meek(api, budget=budget) if strategy == "lowd-meek" else retraining(
            api, strategy=strategy, model=model, budget=budget)
    except ValueError:  # Lowd-Meek: fewer than 3 queries per line search
        return None
    return (*scorer.errors(stolen.model), stolen.queries)


def _cell(value):
    return "-" if value is None else f"{value:.2g}" if value else "0"


def _pair(pair):
    return "-" if pair is None else f"{_cell(pair[0])} / {_cell(pair[1])}"


def _gain(baseline, error):
    return "inf" if error == 0 else f"x{baseline / error:.1f}"


def print_figure(figure, results, seconds):
    names = sorted({key[0] for key in results}, key=figure.datasets.index)
    strategies = sorted({key[1] for key in results}, key=(*STRATEGIES, "lowd-meek").index)
    print(f"\n## {figure.title} ({', '.join(names)}; {seconds:.0f} s)")
    print_averages(figure, results, names, strategies)
    left_out = [name for name in figure.also_without if name in names]
    if left_out:
        print(f"\nthe same without {', '.join(left_out)}:")
        print_averages(figure, results, [name for name in names if name not in left_out], strategies)
    print("\nper data set, R_test / R_unif (-: left out for time, or budget too small for Lowd-Meek)\n")
    print("| data set | strategy | " + " | ".join(f"alpha {alpha}" for alpha in figure.alphas) + " |")
    print("|---|---|" + "---|" * len(figure.alphas))
    for name in names:
        for strategy in strategies:
            cells = [_pair(results[name, strategy, alpha]) for alpha in figure.alphas]
            print(f"| {name} | {strategy} | " + " | ".join(cells) + " |")
    if figure.model == "logreg":
        print("\nLowd-Meek unbounded (epsilon = 1e-9; paper: exact at ~alpha 50, about 2,050 queries on average)\n")
        print("| data set | queries | alpha | R_test / R_unif |")
        print("|---|---|---|---|")
        for name in names:
            r_test, r_unif, queries, alpha = results[name, "lowd-meek", "free"]
            print(f"| {name} | {queries:,} | {alpha:.1f} | {_pair((r_test, r_unif))} |")


def print_averages(figure, results, names, strategies):
    paper = PAPER[figure.model]
    print(f"\naverage R_test / R_unif over {', '.join(names)}, those that ran (sets: how many; the others were left")
    print("out for time, or the budget was too small for Lowd-Meek); gain: uniform's R_unif / this R_unif\n")
    print("| alpha | strategy | sets | mean queries | kit R_test / R_unif | paper R_test / R_unif | gain |")
    print("|---|---|---|---|---|---|---|")
    for alpha in figure.alphas:
        baseline = None
        for strategy in strategies:
            runs = [results[name, strategy, alpha] for name in names if results[name, strategy, alpha]]
            mean = np.mean([run[:2] for run in runs], axis=0) if runs else None
            queries = f"{np.mean([run[2] for run in runs]):,.0f}" if runs else "-"
            baseline = mean if strategy == "uniform" else baseline
            gain = "-" if mean is None or baseline is None else _gain(baseline[1], mean[1])
            shown = "uniform (baseline)" if strategy == "uniform" else strategy
            paper_pair = _pair(paper.get(strategy, {}).get(alpha))
            sets = f"{len(runs)}/{len(names)}"
            print(f"| {alpha} | {shown} | {sets} | {queries} | {_pair(mean)} | {paper_pair} | {gain} |")


# budgets alpha * (monomials + 1); None: unbounded (epsilon 1e-9). Adult: unbounded only (minutes per run)
POLY_RUNS = {"circles": (10, 20, None), "moons": (10, 20, 30, None), "breast-cancer": (10, 20, None),
             "adult-income": (None,)}


def run_poly(runs):
    """{(dataset, alpha): (d, unknowns, queries, R_test, R_unif, s, unresolved, free) or None}: lowd_meek_poly."""
    results = {}
    for name, alphas in runs.items():
        try:
            dataset = kit.load_dataset(name)
        except kit.DataUnavailable as error:
            print(f"  ({name} skipped: {error})")
            continue
        target = kit.train_target(dataset, "poly-svm")
        scorer = Scorer(target, dataset)
        unknowns = len(Monomials(dataset.features, 2).fit().columns_) + 1
        for alpha in alphas:
            api = kit.PredictionAPI(target, dataset.features, output="label")
            start = time.perf_counter()
            try:
                stolen = lowd_meek_poly(api, budget=None if alpha is None else alpha * unknowns)
            except ValueError:  # the budget is too small
                results[name, alpha] = None
                continue
            seconds = time.perf_counter() - start
            results[name, alpha] = (encoded_width(dataset.features), unknowns, stolen.queries,
                                    *scorer.errors(stolen.model), seconds,
                                    len(stolen.info["unresolved"]), stolen.info["free_directions"])
    return results


def print_poly(results, seconds):
    print(f"\n## Lowd-Meek, polynomial kernel (degree 2), in the kernel's feature space ({seconds:.0f} s)\n")
    print("target: SVC(kernel='poly', degree=2, coef0=1, gamma='scale'); unknowns k = monomials + 1; budget alpha k")
    print("(unbounded: epsilon 1e-9); unresolved: monomials no boundary point measures; free: extra null directions\n")
    print("| data set | d | unknowns k | budget | queries | R_test / R_unif | s | unresolved | free |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (name, alpha), run in results.items():
        budget = "unbounded" if alpha is None else f"alpha {alpha}"
        if run is None:
            print(f"| {name} | | | {budget} | - (budget too small) | | | | |")
            continue
        d, unknowns, queries, r_test, r_unif, seconds, unresolved, free = run
        print(f"| {name} | {d} | {unknowns:,} | {budget} | {queries:,} | {_pair((r_test, r_unif))} | {seconds:.1f} "
              f"| {unresolved} | {free} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data sets and alpha <= 10 only")
    keys = [figure.key for figure in FIGURES] + ["poly"]
    parser.add_argument("--only", type=lambda text: text.split(","), default=keys,
                        help=f"comma-separated tables to run, among {','.join(keys)}")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(keys)
    if unknown:
        parser.error(f"unknown figure {unknown.pop()!r}; choose among {','.join(keys)}")
    print("# Labels only (paper section 6)" + (" --quick" if args.quick else ""))
    for figure in (figure for figure in FIGURES if figure.key in args.only):
        if args.quick:
            alphas = tuple(alpha for alpha in figure.alphas if alpha <= 10)
            figure = dataclasses.replace(figure, datasets=figure.quick_datasets, alphas=alphas)
        start = time.perf_counter()
        results = run_figure(figure)
        print_figure(figure, results, time.perf_counter() - start)
    if "poly" not in args.only:
        return
    start = time.perf_counter()
    runs = {name: alphas for name, alphas in POLY_RUNS.items() if not (args.quick and name == "adult-income")}
    results = run_poly(runs)
    print_poly(results, time.perf_counter() - start)


if __name__ == "__main__":
    main()
