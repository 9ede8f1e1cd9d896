"""Notebook 05: countermeasures and economics."""

from functools import cache

from kit import check
from kit.widgets import ATTACKS, ExtractionPanel


def state():
    return {}


@cache
def _panel():
    return ExtractionPanel(dataset="blobs", target="softmax", targets=("softmax", "ovr", "logreg"), decimals=2,
                           attacks={name: ATTACKS[name] for name in ("equation solving", "retraining (adaptive)")},
                           resolution=40)


def _panel_at(budget):
    panel = _panel()
    panel.budget.value = budget
    return panel


CASES = {
    "rounding_payback": (lambda: check.rounding_payback(8), lambda: check.rounding_payback(100)),
    "choice_rounding": (lambda: check.choice_rounding("b"), lambda: check.choice_rounding("c")),
    "choice_labels_budget": (lambda: check.choice_labels_budget("c"), lambda: check.choice_labels_budget("a")),
    "panel_rounding_budget": (lambda: check.panel_rounding_budget(_panel_at(55)),
                              lambda: check.panel_rounding_budget(_panel_at(56))),
}
