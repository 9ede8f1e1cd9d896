"""Notebook 05: countermeasures and economics."""

from functools import cache

from kit import check
from kit.widgets import ATTACKS, DefensePanel, ExtractionPanel


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


@cache
def _defense_panel():
    return DefensePanel(attack="equation solving", defense="Gaussian noise", resolution=40)


def _noise_at(scale):
    panel = _defense_panel()
    panel.strength.value = scale
    return panel


CASES = {
    "rounding_payback": (lambda: check.rounding_payback(8), lambda: check.rounding_payback(100)),
    "choice_rounding": (lambda: check.choice_rounding("b"), lambda: check.choice_rounding("c")),
    "choice_labels_budget": (lambda: check.choice_labels_budget("c"), lambda: check.choice_labels_budget("a")),
    "panel_rounding_budget": (lambda: check.panel_rounding_budget(_panel_at(55)),
                              lambda: check.panel_rounding_budget(_panel_at(56))),
    "reverse_sigmoid_retraining": (lambda: check.reverse_sigmoid_retraining(99),
                                   lambda: check.reverse_sigmoid_retraining(95)),
    "choice_break_even": (lambda: check.choice_break_even("c"), lambda: check.choice_break_even("b")),
    "panel_noise_strength": (lambda: check.panel_noise_strength(_noise_at(0.1)),
                             lambda: check.panel_noise_strength(_noise_at(0.11))),
}
