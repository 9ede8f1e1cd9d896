"""The Amazon table (paper section 5): the online attack against Amazon-style feature extraction.

``kit.attacks.online_extraction`` against logistic regression behind ``extraction="amazon"`` (10
quantile bins per continuous feature, categories one-hot): Circles, Iris and Adult (Income) binned,
Digits not, as in the paper's experiments; $0.0001 per prediction. The paper's setting first
(incomplete queries, edges to epsilon 1e-3), then what each setting changes: complete queries only,
and edges to 1e-6. "found all": the attack found every feature's kind and as many bins as the
target has; "edge error": largest distance from a true edge to the recovered one (teacher side).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..api import PredictionAPI
from ..attacks import online_extraction
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
    num,
    pct,
    ratio,
    seeds_mean,
    times,
    whole,
)

NAME, TITLE = "amazon", "The Amazon table: online attacks on feature extraction (section 5)"
PRICE = 0.0001
"""Amazon ML's price per prediction in 2016."""
PAPER = {"circles": (278, 0.03), "digits": (650, 0.07), "iris": (644, 0.07), "adult-income": (1485, 0.15)}
"""The paper's Amazon table: queries and dollars, every extraction 100% accurate."""
BINNED = {"circles": None, "digits": (), "iris": None, "adult-income": None}
"""Which continuous features the recipe bins: None all (Amazon's default), () none."""
QUICK = ("circles", "iris", "digits")
SETTINGS = {"paper": (True, 1e-3), "complete queries": (False, 1e-3), "epsilon 1e-6": (True, 1e-6)}
"""Name -> (incomplete queries, epsilon)."""


def local_api(data, secret, *, incomplete):
    """The target behind an in-process API at Amazon's price."""
    return PredictionAPI(secret, data.features, price_per_query=PRICE, incomplete=incomplete)


def served_api(services):
    """An API factory that serves each target with ``kit.service.start`` (entered on the ExitStack
    ``services``, which stops them) and returns a ``kit.RemoteAPI`` with a key of its own."""
    from .. import service

    def factory(data, secret, *, incomplete):
        server = services.enter_context(service.start(local_api(data, secret, incomplete=incomplete)))
        return service.RemoteAPI(server.url, server.create_key("reproduction"))
    return factory


@lru_cache(maxsize=4)
def amazon_target(data, seed):
    """The target behind a secret Amazon-style recipe (trained once per data set and seed)."""
    kind = "logreg" if len(data.classes) == 2 else "softmax"
    return train_target(data, kind, extraction="amazon", binned=BINNED[data.name], random_state=seed)


def edge_error(secret, stolen):
    """Teacher side: the target's bins, whether the attack found their kinds and numbers, and the largest
    distance between a true and a recovered edge (the attack never reads the recipe)."""
    true, found = secret[0].steps_, stolen.info["steps"]
    edges = [(np.array(t.values), np.array(f.values)) for t, f in zip(true, found, strict=True) if t.kind == "bins"]
    same = all(len(t) == len(f) for t, f in edges) and all(t.kind == f.kind for t, f in zip(true, found, strict=True))
    error = max((np.abs(t - f).max() for t, f in edges if len(t) and len(t) == len(f)), default=0.0)
    return sum(len(t) + 1 for t, _ in edges), same, error


def steal(name, setting, seed, api_factory=local_api):
    data = dataset(name, seed)
    if data is None:
        return None
    secret = amazon_target(data, seed)
    incomplete, epsilon = SETTINGS[setting]
    api = api_factory(data, secret, incomplete=incomplete)
    stolen = online_extraction(api, epsilon=epsilon)
    found = agreement(secret, stolen.model, data, random_state=seed)
    bins, same, error = edge_error(secret, stolen)
    return {"bins": bins, "same": float(same), "error": error, "queries": stolen.queries, "cost": stolen.cost,
            "test": found.test, "uniform": found.uniform, "certified": float(stolen.info["certified"])}


def _names(config):
    return QUICK if config.quick else tuple(PAPER)


def plan(config, api_factory=local_api):
    return [Job((name, setting, seed), lambda args=(name, setting, seed): steal(*args, api_factory))
            for name in _names(config) for setting in SETTINGS for seed in config.seeds]


def build(config, results):
    paper = Table("The paper's setting: incomplete queries, epsilon 1e-3 (paper: every extraction 100%)",
                  ["data set", "binned", "bins", "found all", "edge error", "queries", "paper", "ratio", "cost $",
                   "paper $", "1-R_test %", "1-R_unif %", "certified", "mark"])
    settings = Table("What each setting changes", ["data set", "setting", "edge error", "queries", "cost $",
                                                   "1-R_test %", "1-R_unif %", "certified"])
    for name in _names(config):
        for setting in SETTINGS:
            key = (name, setting)
            table = paper if setting == "paper" else settings
            if not all_ran(results, key, config.seeds):
                table.unavailable(*((name,) if setting == "paper" else (name, setting)))
                continue
            value = {field: seeds_mean(results, key, config.seeds, field) for field in results[(*key, config.seeds[0])]}
            found = "yes" if value["same"] == 1 else "NO"
            certified = "yes" if value["certified"] == 1 else "NO"
            if setting == "paper":
                queries, dollars = PAPER[name]
                short = falls_short(value["queries"], queries) or falls_short(value["test"], 1.0, "higher")
                paper.add(name, "no" if BINNED[name] == () else "yes", whole(value["bins"]), found,
                          num(value["error"]), whole(value["queries"]), f"{queries:,}",
                          times(ratio(value["queries"], queries)), f"{value['cost']:.4f}", f"{dollars:.2f}",
                          pct(value["test"]), pct(value["uniform"]), certified, marks((short, SHORT_OF_PAPER)))
            else:
                settings.add(name, setting, num(value["error"]), whole(value["queries"]), f"{value['cost']:.4f}",
                             pct(value["test"]), pct(value["uniform"]), certified)
    return Section(NAME, TITLE, __doc__.split("\n\n", 1)[1].strip(), [paper, settings])
