"""Notebook 03: decision trees."""

from functools import cache

import matplotlib.pyplot as plt

import kit
from kit import check
from kit.attacks import path_finding
from kit.widgets import ExtractionPanel


@cache
def state():
    dataset = kit.load_dataset("moons")
    tree = kit.train_target(dataset, "tree", max_depth=3)
    leaf_api = kit.PredictionAPI(tree, dataset.features, output="leaf")
    leaf_api.query(kit.sample_uniform(dataset.features, 400, random_state=0))
    return {"bottom_up": kit.Extraction.from_api(tree, leaf_api), "target": tree, "dataset": dataset}


def _bisect(ask, low, high, epsilon):
    left = ask(low)
    while high - low > epsilon:
        middle = (low + high) / 2
        low, high = (middle, high) if ask(middle) == left else (low, middle)
    return (low + high) / 2


def _top_down_queries(epsilon):
    api = kit.PredictionAPI(state()["target"], state()["dataset"].features, output="leaf")
    return path_finding(api, method="top-down", epsilon=epsilon).queries


def _precision_cost(predicted):
    return check.precision_cost(predicted, state()["target"], state()["dataset"])


@cache
def _smallest_tree_budget():
    """The smallest budget at which top-down reaches 99% test agreement on the circles tree, found by a scan."""
    dataset = kit.load_dataset("circles")
    target = kit.train_target(dataset, "tree")
    for budget in range(10, 1000):
        api = kit.PredictionAPI(target, dataset.features, output="leaf")
        if kit.agreement(target, path_finding(api, budget=budget).model, dataset).test >= 0.99:
            return budget
    raise AssertionError("top-down never reached 99% on circles")


def _tree_budget(budget):
    """The panel task's verdict for a panel left at ``budget`` (its figure closed after)."""
    panel = ExtractionPanel(dataset="circles", target="tree", targets=("tree",), attack="path finding (top-down)",
                            budget=budget)
    try:
        return check.tree_budget(panel)
    finally:
        plt.close(panel.figure)


CASES = {
    "threshold_search": (lambda: check.threshold_search(_bisect),
                         lambda: check.threshold_search(lambda ask, low, high, epsilon: 0.0)),
    "leaf_count": (lambda: check.leaf_count(state()["target"][-1].get_n_leaves(), state()["target"]),
                   lambda: check.leaf_count(state()["target"][-1].get_n_leaves() + 1, state()["target"])),
    # the wrong prediction is the misconception: a thousand times finer, a thousand times the queries
    "precision_cost": (lambda: _precision_cost(_top_down_queries(1e-6)),
                       lambda: _precision_cost(1000 * _top_down_queries(1e-3))),
    "bigml_ids": (lambda: check.bigml_ids("b"), lambda: check.bigml_ids("c")),
    "tree_budget": (lambda: _tree_budget(_smallest_tree_budget()), lambda: _tree_budget(_smallest_tree_budget() + 1)),
}
