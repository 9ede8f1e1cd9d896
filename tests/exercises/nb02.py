"""Notebook 02: softmax, one-vs-rest and neural networks."""

from functools import cache

import numpy as np

import kit
from kit import check


@cache
def state():
    blobs = kit.load_dataset("blobs")
    target = kit.train_target(blobs, "softmax")
    return {"api": kit.PredictionAPI(target, blobs.features), "target": target, "blobs": blobs}


def _differences():
    model = state()["target"][-1]
    weights = np.column_stack([model.coef_, model.intercept_])
    return weights[:-1] - weights[-1]


CASES = {
    "unknowns": (lambda: check.unknowns(2_225, "mlp", d=105, c=5), lambda: check.unknowns(530, "mlp", d=105, c=5)),
    "softmax_differences": (lambda: check.softmax_differences(_differences(), state()["target"]),
                            lambda: check.softmax_differences(-_differences(), state()["target"])),
    "shift_invariance": (lambda: check.shift_invariance("d"), lambda: check.shift_invariance("a")),
    "mlp_budget": (lambda: check.mlp_budget("c"), lambda: check.mlp_budget("b")),
}
