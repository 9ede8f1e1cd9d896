"""Notebook 07: online attacks."""

from functools import cache

import kit
from kit import check


def state():
    return {}


@cache
def _circles():
    return kit.load_dataset("circles")


CASES = {
    # the wrong prediction: one query per bin, as if a bin were found by asking one value inside it
    "online_queries": (lambda: check.online_queries(83, _circles(), bins=5),
                       lambda: check.online_queries(10, _circles(), bins=5)),
    "omitted_features": (lambda: check.omitted_features("b"), lambda: check.omitted_features("c")),
    "complete_queries": (lambda: check.complete_queries("c"), lambda: check.complete_queries("a")),
    "charge_first": (lambda: check.charge_first("a"), lambda: check.charge_first("b")),
}
