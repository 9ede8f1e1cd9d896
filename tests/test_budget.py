"""The budget check every attack shares: one line, before any query."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kit
from kit.attacks import equation_solving
from kit.attacks.budget import budget_for, check_between, check_budget, information_limit
from kit.features import CATEGORICAL

from .conftest import needs_real_data


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


def test_budget_for_follows_the_paper(blobs, moons):
    assert budget_for(20, moons, "logreg") == 20 * 3
    assert budget_for(10, blobs, "softmax") == 10 * 3 * 3
    assert budget_for(1, blobs, "mlp") == 20 * 3 + 21 * 3


@pytest.mark.parametrize("alpha", [math.inf, -math.inf, math.nan, 0, -1, True, "10"])
def test_budget_for_refuses_an_alpha_that_is_not_a_positive_number(api, alpha):
    with pytest.raises(ValueError, match=f"alpha must be a positive number, got {alpha!r}"):  # inf: OverflowError
        budget_for(alpha, api, "logreg")


@pytest.mark.parametrize("alpha", [0.5, 1, 10])
def test_budget_for_a_binary_mlp_is_alpha_times_the_unknowns_equation_solving_counts(moons, alpha):
    target = kit.train_target(moons, "mlp")
    api = kit.PredictionAPI(target, moons.features)
    stolen = equation_solving(api, model="mlp", budget=information_limit("mlp", moons.features, 2), restarts=1,
                              max_iter=1)
    assert stolen.info["unknowns"] == 20 * (2 + 1) + 21 == 81  # one output for two classes, not two
    assert budget_for(alpha, api, "mlp") == round(alpha * stolen.info["unknowns"])


@needs_real_data()
@pytest.mark.parametrize("name, model", [("adult-income", "logreg"), ("steak", "softmax"), ("gss", "softmax")])
def test_one_hot_sets_are_solved_at_their_information_limit(name, model):
    """Each categorical feature's one-hot columns sum to 1 like the bias: d + 1 - g queries determine the scores."""
    dataset = kit.load_dataset(name)
    target = kit.train_target(dataset, model)
    g = sum(feature.kind == CATEGORICAL for feature in dataset.features)
    fewest = information_limit(model, dataset.features, len(dataset.classes))
    assert g > 0 and fewest == dataset.n_encoded + 1 - g
    too_few = kit.PredictionAPI(target, dataset.features)
    with pytest.raises(ValueError, match=f"needs at least {fewest} queries, budget is {fewest - 1}"):
        equation_solving(too_few, model=model, budget=fewest - 1)
    assert too_few.queries_used == 0
    stolen = equation_solving(kit.PredictionAPI(target, dataset.features), model=model, budget=fewest)
    assert stolen.queries == fewest
    assert kit.agreement(target, stolen.model, dataset).test >= 0.99


@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3), st.booleans()),
       including=st.sampled_from([(), ("low",), ("high",), ("low", "high")]))
def test_check_between_accepts_the_interval_and_the_ends_it_includes(value, including):
    inside = not isinstance(value, bool) and (0 < value < 1 or (value == 0 and "low" in including)
                                              or (value == 1 and "high" in including))
    try:
        checked = check_between("share", value, 0, 1, including=including)
    except ValueError as error:
        assert not inside and "\n" not in str(error) and str(error).startswith("share must be a number between 0 and 1")
    else:
        assert inside and checked == value
