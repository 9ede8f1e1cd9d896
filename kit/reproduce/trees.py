"""Table 6 (paper section 4.2): path finding against decision trees.

``kit.attacks.path_finding`` (bottom-up = Algorithm 1, top-down = incomplete queries) against
scikit-learn trees behind ``PredictionAPI(output="leaf")``, with unique node ids at the paper's
epsilon 1e-3 (and 1e-6 top-down), then BigML-style ids (label, confidence rounded to 5..2
decimals) on classification and regression trees. The paper's trees are BigML's; its GSS and Steak
trees are the same data sets as ours, and its IRS tree (318 leaves, depth 8) is compared with a
330-leaf Adult tree: the comparable figure is queries per leaf. "distinct ids": distinct ids among
the target's leaves (teacher side: one training row per leaf, asked through a second API).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

from ..api import PredictionAPI
from ..attacks import path_finding
from ..data import Dataset
from ..features import Feature
from ..metrics import agreement
from ..targets import train_target
from .core import (
    SHORT_OF_PAPER,
    Job,
    Section,
    Table,
    all_ran,
    dataset,
    falls_short,
    marks,
    pct,
    ratio,
    seeds_mean,
    target,
    times,
    whole,
)

NAME, TITLE = "trees", "Table 6: path finding against decision trees (section 4.2)"
TREES = {
    # name: (data set, tree parameters)
    "iris": ("iris", ()),
    "steak": ("steak", ()),
    "gss": ("gss", (("max_depth", 8),)),
    "adult-income": ("adult-income", (("max_depth", 6),)),
    "digits": ("digits", (("max_depth", 8),)),
    "moons": ("moons", (("max_depth", 8),)),
    "circles": ("circles", (("max_depth", 8),)),
    "adult deep": ("adult-income", (("max_leaf_nodes", 330),)),
}
QUICK = ("iris", "moons")
BIGML = ("steak", "gss", "adult-income", "diabetes (reg.)", "adult hours (reg.)")
QUICK_BIGML = ("iris", "diabetes (reg.)")
METHODS = ("bottom-up", "top-down")
PAPER = {"gss": ("GSS, 159 leaves", 159, {"bottom-up": 7434, "top-down": 2752}, 1.0),
         "steak": ("Steak, 193 leaves", 193, {"bottom-up": 3652, "top-down": 4013}, None),
         "adult deep": ("IRS, 318 leaves", 318, {"bottom-up": 101_057, "top-down": 29_609}, 1.0)}
"""Paper Table 6: the tree it is compared with, its leaves, queries by method, 1-R_test with unique ids."""
PAPER_BIGML = {("steak", "bottom-up"): 0.9245, ("steak", "top-down"): 1.0}
"""Paper Table 6, Steak (28 distinct BigML ids among 193 leaves): 1-R_test."""


@lru_cache(maxsize=8)
def _regression(name, seed):
    """(Dataset, tree) answering numbers: scikit-learn's diabetes progression (not the paper's Pima set) and
    Adult's hours per week from its other features; None when Adult is unavailable."""
    if name == "diabetes (reg.)":
        raw = load_diabetes()
        X = 2 * (raw.data - raw.data.min(axis=0)) / np.ptp(raw.data, axis=0) - 1
        split = train_test_split(X, raw.target, test_size=0.3, random_state=seed)
        data = Dataset("diabetes-progression", split[0], split[2], split[1], split[3],
                       tuple(Feature(column) for column in raw.feature_names), ())
        return data, train_target(data, "regression-tree", random_state=seed, max_depth=8)
    adult = dataset("adult-income", seed)
    if adult is None:
        return None
    hours = [feature.name for feature in adult.features].index("hours-per-week")
    others = [j for j in range(adult.n_features) if j != hours]
    data = Dataset("adult-hours", adult.X_train[:, others], adult.X_train[:, hours], adult.X_test[:, others],
                   adult.X_test[:, hours], tuple(adult.features[j] for j in others), ())
    return data, train_target(data, "regression-tree", random_state=seed, max_leaf_nodes=100)


def _tree(name, seed):
    """(Dataset, target) for a tree of the tables, or None when its data is unavailable."""
    if name.endswith("(reg.)"):
        return _regression(name, seed)
    data_name, params = TREES[name]
    data = dataset(data_name, seed)
    return None if data is None else (data, target(data_name, "tree", seed, **dict(params)))


def distinct_ids(data, secret, node_ids, decimals):
    """Distinct ids among the target's leaves: one training row per leaf, asked through a teacher's API."""
    leaves = secret[-1].apply(secret[:-1].transform(data.X_train))
    _, first = np.unique(leaves, return_index=True)
    api = PredictionAPI(secret, data.features, output="leaf", node_ids=node_ids, decimals=decimals)
    return len(set(api.query(data.X_train[first]).nodes.tolist()))


def steal(name, method, seed, *, epsilon=1e-3, node_ids="unique", decimals=None):
    """One path-finding run (None: data unavailable)."""
    tree = _tree(name, seed)
    if tree is None:
        return None
    data, secret = tree
    api = PredictionAPI(secret, data.features, output="leaf", node_ids=node_ids, decimals=decimals)
    stolen = path_finding(api, method=method, epsilon=epsilon, random_state=seed)
    found = agreement(secret, stolen.model, data, random_state=seed)
    return {"leaves": secret[-1].get_n_leaves(), "depth": secret[-1].get_depth(), "queries": stolen.queries,
            "found": stolen.model.n_leaves, "test": found.test, "uniform": found.uniform,
            "ids": distinct_ids(data, secret, node_ids, decimals)}


def _runs(config):
    """{(table, tree, method, setting): keyword arguments of :func:`steal`}."""
    names = QUICK if config.quick else tuple(TREES)
    runs = {("unique", name, method, 1e-3): {} for name in names for method in METHODS}
    if not config.quick:
        runs.update({("unique", name, "top-down", 1e-6): {"epsilon": 1e-6} for name in names})
    for name in QUICK_BIGML if config.quick else BIGML:
        for decimals in (5, 2) if config.quick else (5, 4, 3, 2):
            runs.update({("bigml", name, method, decimals): {"node_ids": "bigml", "decimals": decimals}
                         for method in METHODS})
    return runs


def plan(config):
    return [Job((*key, seed), lambda key=key, seed=seed, options=options: steal(key[1], key[2], seed, **options))
            for key, options in _runs(config).items() for seed in config.seeds]


def _values(results, key, seeds):
    return {field: seeds_mean(results, key, seeds, field)
            for field in ("leaves", "depth", "queries", "found", "test", "uniform", "ids")}


def build(config, results):
    seeds = config.seeds
    unique = Table("Unique node ids (paper: BigML trees; queries per leaf compared)",
                   ["tree", "method", "epsilon", "leaves", "depth", "queries", "q/leaf", "paper tree", "paper q/leaf",
                    "ratio", "1-R_test %", "paper", "1-R_unif %", "mark"])
    bigml = Table("BigML ids (label, confidence rounded), epsilon 1e-3 (paper: Steak, 28 ids among 193 leaves: "
                  "bottom-up 92.45%, top-down 100%)",
                  ["tree", "method", "decimals", "leaves", "distinct ids", "queries", "leaves found", "1-R_test %",
                   "paper", "ratio", "1-R_unif %", "mark"])
    for key in _runs(config):
        kind, name, method, setting = key
        if not all_ran(results, key, seeds):
            (unique if kind == "unique" else bigml).unavailable(name, method, setting)
            continue
        value = _values(results, key, seeds)
        if kind == "unique":
            paper_tree, paper_leaves, paper_queries, paper_test = PAPER.get(name, ("", None, {}, None))
            per_leaf = value["queries"] / value["leaves"]
            paper_per_leaf = paper_queries[method] / paper_leaves if paper_queries else None
            short = falls_short(per_leaf, paper_per_leaf) or falls_short(value["test"], paper_test, "higher")
            unique.add(name, method, f"{setting:g}", whole(value["leaves"]), whole(value["depth"]),
                       whole(value["queries"]), f"{per_leaf:.1f}", paper_tree,
                       "-" if paper_per_leaf is None else f"{paper_per_leaf:.1f}",
                       times(ratio(per_leaf, paper_per_leaf)), pct(value["test"]), pct(paper_test),
                       pct(value["uniform"]), marks((short, SHORT_OF_PAPER)))
        else:
            paper_test = PAPER_BIGML.get((name, method)) if setting == 5 else None
            short = falls_short(value["test"], paper_test, "higher")
            bigml.add(name, method, setting, whole(value["leaves"]), whole(value["ids"]), whole(value["queries"]),
                      whole(value["found"]), pct(value["test"]), pct(paper_test),
                      times(ratio(value["test"], paper_test)), pct(value["uniform"]), marks((short, SHORT_OF_PAPER)))
    return Section(NAME, TITLE, __doc__.split("\n\n", 1)[1].strip(), [unique, bigml])
