"""The budget check every attack shares: one line, before any query."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kit
from kit.attacks.budget import check_budget


@pytest.fixture(scope="module")
def api(moons, moons_logreg):
    return kit.PredictionAPI(moons_logreg, moons.features, budget=50)


@given(budget=st.one_of(st.none(), st.booleans(), st.integers(-5, 80), st.floats(-2, 60), st.text(max_size=3)))
def test_a_budget_is_a_whole_number_the_api_can_pay_for(api, budget):
    try:
        checked = check_budget(api, budget)
    except ValueError as error:
        assert "\n" not in str(error) and "budget" in str(error)
    else:
        assert checked is None or (type(checked) is int and 1 <= checked <= 50)
    assert api.queries_used == 0


def test_required_budgets_refuse_none_and_overdrafts(api):
    with pytest.raises(ValueError, match="must be a positive whole number of queries, got None"):
        check_budget(api, None, required=True)
    with pytest.raises(ValueError, match=r"budget of 51 queries is more than the API has left \(50\)"):
        check_budget(api, 51)
