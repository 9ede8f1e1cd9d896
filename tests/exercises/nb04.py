"""Notebook 04: labels only."""

from functools import cache

import matplotlib.pyplot as plt
import numpy as np

import kit
from kit import check
from kit.attacks import lowd_meek
from kit.widgets import ATTACKS, ExtractionPanel


def _boundary_point(api, x_a, x_b, epsilon):
    label_a = api.query(x_a[None]).labels[0]
    while np.linalg.norm(x_b - x_a) > epsilon:
        middle = (x_a + x_b) / 2
        if api.query(middle[None]).labels[0] == label_a:
            x_a = middle
        else:
            x_b = middle
    return (x_a + x_b) / 2


def state():
    return {}


def _lowd_meek_queries():
    dataset = kit.load_dataset("moons")
    return lowd_meek(kit.PredictionAPI(kit.train_target(dataset, "logreg"), dataset.features, output="label")).queries


@cache
def _smallest_lowd_meek_budget():
    """The smallest budget at which Lowd-Meek reaches 99% test agreement on the moons logreg, found by a scan."""
    dataset = kit.load_dataset("moons")
    target = kit.train_target(dataset, "logreg")
    for budget in range(10, 200):
        api = kit.PredictionAPI(target, dataset.features, output="label")
        try:
            stolen = lowd_meek(api, budget=budget)
        except ValueError:  # too few queries to run
            continue
        if kit.agreement(target, stolen.model, dataset).test >= 0.99:
            return budget
    raise AssertionError("Lowd-Meek never reached 99% on moons")


def _lowd_meek_budget(budget):
    """The panel task's verdict for a panel left at ``budget`` (its figure closed after)."""
    panel = ExtractionPanel(dataset="moons", target="logreg", output="label", attack="Lowd-Meek", budget=budget,
                            attacks={name: ATTACKS[name] for name in ("Lowd-Meek", "retraining (adaptive)")})
    try:
        return check.lowd_meek_budget(panel)
    finally:
        plt.close(panel.figure)


CASES = {
    "labels_budget": (lambda: check.labels_budget(5_450, alpha=50, d=108),
                      lambda: check.labels_budget(5_400, alpha=50, d=108)),
    "boundary_point": (lambda: check.boundary_point(_boundary_point),
                       lambda: check.boundary_point(lambda api, x_a, x_b, epsilon: x_a)),
    # the wrong prediction: as many queries as equation solving, d + 1
    "lowd_meek_queries": (lambda: check.lowd_meek_queries(_lowd_meek_queries(), kit.load_dataset("moons")),
                          lambda: check.lowd_meek_queries(3, kit.load_dataset("moons"))),
    "labels_cost": (lambda: check.labels_cost("a"), lambda: check.labels_cost("b")),
    "lowd_meek_budget": (lambda: _lowd_meek_budget(_smallest_lowd_meek_budget()),
                         lambda: _lowd_meek_budget(_smallest_lowd_meek_budget() + 1)),
}
