"""Notebook 01: equation solving."""

from functools import cache

import numpy as np
from scipy.special import expit

import kit
from kit import check
from kit.widgets import ExtractionPanel


@cache
def _panel(decimals):
    """The notebook's panel, moved to 20 queries and ``decimals`` decimals."""
    return ExtractionPanel(dataset="moons", target="logreg", targets=("logreg",), budget=20, decimals=decimals,
                           resolution=40)


@cache
def state():
    dataset = kit.load_dataset("moons")
    target = kit.train_target(dataset, "logreg")
    return {"api": kit.PredictionAPI(target, dataset.features), "target": target, "dataset": dataset}


def _true_weights():
    model = state()["target"][-1]
    return model.coef_[0], model.intercept_[0]


CASES = {
    "logit": (lambda: check.logit(lambda p: np.log(p / (1 - p))), lambda: check.logit(expit)),
    "logit_weights": (lambda: check.logit_weights(_true_weights(), state()["target"]),
                      lambda: check.logit_weights((np.zeros(2), 0.0), state()["target"])),
    "d_plus_one": (lambda: check.d_plus_one("b"), lambda: check.d_plus_one("c")),
    "queries_at_two_decimals": (lambda: check.queries_at_two_decimals(20, state()["target"], state()["dataset"]),
                                lambda: check.queries_at_two_decimals(3, state()["target"], state()["dataset"])),
    "where_rounding_hurts": (lambda: check.where_rounding_hurts("c"), lambda: check.where_rounding_hurts("a")),
    "coarsest_rounding": (lambda: check.coarsest_rounding(_panel(2)), lambda: check.coarsest_rounding(_panel(3))),
}
