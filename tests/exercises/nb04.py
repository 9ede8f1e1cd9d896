"""Notebook 04: labels only."""

import numpy as np

from kit import check


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


CASES = {
    "labels_budget": (lambda: check.labels_budget(5_450, alpha=50, d=108),
                      lambda: check.labels_budget(5_400, alpha=50, d=108)),
    "boundary_point": (lambda: check.boundary_point(_boundary_point),
                       lambda: check.boundary_point(lambda api, x_a, x_b, epsilon: x_a)),
}
