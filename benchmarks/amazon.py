"""The online attack of section 5 against Amazon-style targets, beside the paper's Amazon table.

    KIT_DATA_DIR=../shared/data .venv/bin/python -m benchmarks.amazon [--quick] [--http]

Targets: ``kit.train_target(dataset, kind, extraction="amazon", binned=...)``: logistic regression
(binary for Circles and Adult (Income), multinomial for Digits and Iris) behind a secret recipe:
categories one-hot encoded, continuous features in 10 quantile bins, one-hot encoded too.  As in
the paper's experiments, Circles, Iris and Adult are binned and Digits is not (its 64 pixels reach
the model as they are).  Every API charges Amazon's $0.0001 per prediction.

Table 1 attacks each target as the paper did: incomplete queries, bin edges to epsilon 1e-3.
Table 2 shows what each setting changes: complete queries only (an API that refuses incomplete
ones), and edges to epsilon 1e-6.  The APIs come from a factory, ``api_factory(dataset, target,
*, incomplete)``: in process (:func:`local_api`), or with ``--http`` each target served by the kit's
own service on loopback and attacked through ``kit.RemoteAPI`` (:func:`served_api`), as the paper
attacked Amazon's.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np

import kit
from kit.attacks import online_extraction

from .equations import _header, _load, _row

PRICE = 0.0001
"""Amazon ML's price per prediction in 2016."""
PAPER = {"circles": (278, 0.03), "digits": (650, 0.07), "iris": (644, 0.07), "adult-income": (1485, 0.15)}
"""The paper's Amazon table: queries and dollars, every extraction 100% accurate."""
BINNED = {"circles": None, "digits": (), "iris": None, "adult-income": None}
"""Which continuous features the recipe bins: None all (Amazon's default), () none."""
QUICK = ("circles", "iris", "digits")
SETTINGS = {"paper": (True, 1e-3), "complete queries": (False, 1e-3), "epsilon 1e-6": (True, 1e-6)}
"""Name -> (incomplete queries, epsilon)."""


def local_api(dataset, target, *, incomplete):
    """The target behind an in-process API at Amazon's price."""
    return kit.PredictionAPI(target, dataset.features, price_per_query=PRICE, incomplete=incomplete)


def served_api(services):
    """An ``api_factory`` that serves each target with ``kit.service.start`` (entered on the ExitStack
    ``services``, which stops them) and returns a ``kit.RemoteAPI`` with a key of its own."""
    def factory(dataset, target, *, incomplete):
        service = services.enter_context(kit.service.start(local_api(dataset, target, incomplete=incomplete)))
        return kit.RemoteAPI(service.url, service.create_key("benchmark"))
    return factory


def _target(dataset):
    kind = "logreg" if len(dataset.classes) == 2 else "softmax"
    return kit.train_target(dataset, kind, extraction="amazon", binned=BINNED[dataset.name])


def _edge_error(target, stolen):
    """Teacher side: how many bins the target's recipe has, whether the attack found as many, and
    the largest distance between a true and a recovered edge (the attack never reads the recipe)."""
    true, found = target[0].steps_, stolen.info["steps"]
    edges = [(np.array(t.values), np.array(f.values)) for t, f in zip(true, found, strict=True) if t.kind == "bins"]
    same = all(len(t) == len(f) for t, f in edges) and all(t.kind == f.kind for t, f in zip(true, found, strict=True))
    error = max((np.abs(t - f).max() for t, f in edges if len(t) and len(t) == len(f)), default=0.0)
    return sum(len(t) + 1 for t, _ in edges), same, error


def table(datasets, settings, api_factory):
    """Attack every data set's target in every setting; print one row each."""
    _header("data set", "setting", "binned", "one-hot", "bins (true)", "extraction found", "max edge error",
            "queries", "cost $", "1-R_test %", "1-R_unif %", "seconds", "certified", "paper queries", "paper $")
    for dataset in datasets:
        target = _target(dataset)
        binned = "no" if BINNED[dataset.name] == () else "yes"
        one_hot = "yes" if any(f.kind == "categorical" for f in dataset.features) else "no"
        for setting in settings:
            incomplete, epsilon = SETTINGS[setting]
            api = api_factory(dataset, target, incomplete=incomplete)
            start = time.perf_counter()
            stolen = online_extraction(api, epsilon=epsilon)
            seconds = time.perf_counter() - start
            score = kit.agreement(target, stolen.model, dataset, random_state=0)
            bins, same, error = _edge_error(target, stolen)
            paper = PAPER[dataset.name] if setting == "paper" else ("", "")
            _row([dataset.name, setting, binned, one_hot, bins, "all" if same else "NOT all", f"{error:.1e}",
                  f"{stolen.queries:,}", f"{stolen.cost:.4f}", f"{100 * score.test:.2f}", f"{100 * score.uniform:.2f}",
                  f"{seconds:.2f}", "yes" if stolen.info["certified"] else "NO", *paper])


def main(argv=None, api_factory=local_api):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="Circles, Iris and Digits only (no Adult; seconds)")
    parser.add_argument("--http", action="store_true", help="attack each target over HTTP, served by kit.service")
    arguments = parser.parse_args(argv)
    start = time.perf_counter()
    datasets = _load(QUICK if arguments.quick else PAPER)
    where = "over HTTP (kit.service on loopback, kit.RemoteAPI)" if arguments.http else "in process"
    with contextlib.ExitStack() as services:
        api_factory = served_api(services) if arguments.http else api_factory
        print(f"\n### Table 1, {where}: the paper's setting (incomplete queries, epsilon 1e-3), paper's Amazon "
              "table beside (every extraction 100%)\n")
        table(datasets, ["paper"], api_factory)
        print(f"\n### Table 2, {where}: complete queries only, and edges to epsilon 1e-6\n")
        table(datasets, ["complete queries", "epsilon 1e-6"], api_factory)
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
