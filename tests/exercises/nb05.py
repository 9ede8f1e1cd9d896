"""Notebook 05: countermeasures and economics."""

from kit import check


def state():
    return {}


CASES = {
    "rounding_error": (lambda: check.rounding_error(0.005, decimals=2), lambda: check.rounding_error(0.01, decimals=2)),
    "extraction_cost": (lambda: check.extraction_cost(0.1485, queries=1485, price=0.0001),
                        lambda: check.extraction_cost(1.485, queries=1485, price=0.0001)),
    "break_even": (lambda: check.break_even(530, queries=530), lambda: check.break_even(265, queries=530)),
}
