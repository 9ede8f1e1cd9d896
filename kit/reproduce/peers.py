"""The kit beside a practitioner's tool: IBM's Adversarial Robustness Toolbox (ART), at equal budgets.

``kit.peers.art.compare`` plugs ART's extraction attacks (KnockoffNets, CopycatCNN,
FunctionallyEquivalentExtraction where it applies) into the kit's ``PredictionAPI``, which counts
their queries. Runs only when ART is installed (``pip install -e .[peers]``). "queries to match":
the queries the peer needed to reach the kit's test agreement (none: not within the largest budget).
"""

from __future__ import annotations

import importlib
import importlib.util

from .core import Job, Section, Table, pct, ratio, times, whole

NAME, TITLE = "peers", "The kit beside ART's extraction attacks"
COLUMNS = ["target", "answers", "peer", "budget", "kit attack", "kit queries", "kit 1-R_test %", "kit 1-R_unif %",
           "peer queries", "peer 1-R_test %", "peer 1-R_unif %", "peer queries to match", "ratio (queries)", "note"]


def available():
    """Whether ART and the kit's adapter are installed."""
    try:
        return importlib.util.find_spec("art") is not None and importlib.util.find_spec("kit.peers.art") is not None
    except ModuleNotFoundError:  # no kit.peers package
        return False


def compare(quick, seed):
    return importlib.import_module("kit.peers.art").compare(quick=quick, random_state=seed)


def plan(config):
    return [Job(("compare", config.seeds[0]), lambda: compare(config.quick, config.seeds[0]))] if available() else []


def build(config, results):
    rows = results.get(("compare", config.seeds[0]))
    if rows is None:
        return Section(NAME, TITLE, "ART is not installed here (`pip install -e .[peers]` adds it): no peers table.",
                       [])
    table = Table(f"Equal budgets, queries counted by the kit's API (seed {config.seeds[0]})", COLUMNS)
    for row in rows:
        match = row["peer_queries_to_match"]
        table.add(row["target"], row["answers"], row["peer"], whole(row["budget"]), row["kit_attack"],
                  whole(row["kit_queries"]), pct(row["kit_test"]), pct(row["kit_uniform"]), whole(row["peer_queries"]),
                  pct(row["peer_test"]), pct(row["peer_uniform"]), "never" if match is None else whole(match),
                  times(ratio(match, row["kit_queries"])), row.get("note") or "")
    return Section(NAME, TITLE, __doc__.split("\n\n", 1)[1].strip(), [table])
