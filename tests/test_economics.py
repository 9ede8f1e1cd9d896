"""kit.economics: the cost of stealing against the cost of paying per prediction."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.economics import MEASURED, break_even, costs, plot_costs
from kit.widgets import SERVICES


@given(queries=st.integers(0, 10**6), price=st.sampled_from(sorted(SERVICES.values())),
       needed=st.lists(st.integers(0, 10**7), min_size=1, max_size=20))
def test_stealing_is_cheaper_exactly_from_the_break_even_point(queries, price, needed):
    stolen, honest = costs(queries, price, needed)
    assert np.allclose(stolen, queries * price) and np.allclose(honest, np.array(needed) * price)
    for n, steal, pay in zip(needed, stolen, honest, strict=True):
        assert (steal <= pay) == (n >= break_even(queries))


def test_the_measured_query_counts_are_the_benchmarks():
    assert MEASURED["equation solving (LR)"].queries == 108 + 1  # Adult: d + 1 unknowns
    assert MEASURED["retraining, adaptive (LR, alpha 10)"].queries == 10 * (108 + 1)
    assert all("benchmarks/README.md" in attack.source for attack in MEASURED.values())


@pytest.mark.parametrize(("call", "message"), [
    (lambda: costs(-1, 0.1, [1]), "queries must be a finite number >= 0"),
    (lambda: costs(10, float("nan"), [1]), "price must be a finite number >= 0"),
    (lambda: costs(10, 0.1, [[1, 2]]), "needed must be a list"),
    (lambda: costs(10, 0.1, [-5]), "needed must be a list"),
    (lambda: break_even("many"), "queries must be a finite number >= 0"),
    (lambda: plot_costs({}, 0.1), "attacks must name at least one attack"),
])
def test_bad_input_is_refused_in_one_line(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_the_plot_has_one_line_per_attack_and_one_for_paying():
    ax = plot_costs({"a": 100, "b": 2_000}, 0.0005, service="Google")
    lines = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(lines) == 3 and len(dots) == 2
    assert [tuple(dot.get_xydata()[0]) for dot in dots] == [(100, 0.05), (2_000, 1.0)]  # the break-even points
    assert "Google" in ax.get_title()
    plt.close(ax.figure)
