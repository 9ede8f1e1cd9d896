"""Notebook 03: decision trees."""

from functools import cache

import kit
from kit import check


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


CASES = {
    "threshold_search": (lambda: check.threshold_search(_bisect),
                         lambda: check.threshold_search(lambda ask, low, high, epsilon: 0.0)),
    "leaf_count": (lambda: check.leaf_count(state()["target"][-1].get_n_leaves(), state()["target"]),
                   lambda: check.leaf_count(state()["target"][-1].get_n_leaves() + 1, state()["target"])),
}
