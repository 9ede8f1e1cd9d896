"""Amazon-style feature extraction (kit.recipes) and the online attack that reverse-engineers it (section 5)."""

import contextlib
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import kit
from kit.attacks import UncertifiedWarning, online_extraction
from kit.features import Feature, sample_uniform
from kit.recipes import Recipe, Step, quantile_edges
from kit.reproduce.amazon import local_api, served_api

# --- the service side: the recipe ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop():
    """Categorical and continuous features; "yellow" never occurs in the training data (an unseen category)."""
    features = (
        Feature("colour", "categorical", categories=("red", "green", "blue", "yellow")),
        Feature("size"),
        Feature("weight"),
        Feature("shape", "categorical", categories=("round", "square", "star")),
    )
    X = sample_uniform(features, 900, random_state=0)
    X[:, 0] = np.arange(900) % 3
    score = np.sin(3 * X[:, 1]) + X[:, 2] + (X[:, 0] == 1) - (X[:, 3] == 2)
    y = np.where(score + np.random.RandomState(1).normal(0, 0.3, 900) > 0.2, "buy", "pass")
    return kit.Dataset("shop", X[:600], y[:600], X[600:], y[600:], features, ("buy", "pass"))


@pytest.fixture(scope="module")
def shop_target(shop):
    return kit.train_target(shop, "logreg", extraction="amazon", bins=6, binned=("size",))


def test_the_recipe_one_hot_encodes_seen_categories_and_zeros_unseen_and_omitted(shop, shop_target):
    recipe = shop_target[0]
    assert [step.kind for step in recipe.steps_] == ["one-hot", "bins", "numeric", "one-hot"]
    assert recipe.steps_[0].values == (0.0, 1.0, 2.0)  # yellow (3) is valid input but never seen in training
    edges = recipe.steps_[1].values
    rows = np.array([[1, edges[0], 0.25, 2], [3, np.nan, np.nan, np.nan], [np.nan, edges[0] + 1e-9, -1, 0]])
    Z = recipe.transform(rows)
    colour, size, weight, shape = np.split(Z, np.cumsum([3, len(edges) + 1, 1]), axis=1)
    np.testing.assert_array_equal(colour, [[0, 1, 0], [0, 0, 0], [0, 0, 0]])  # unseen and omitted: all zeros
    np.testing.assert_array_equal(size[:, :2], [[1, 0], [0, 0], [0, 1]])  # x <= edge: lower bin; omitted: zeros
    assert size.sum(axis=1).tolist() == [1, 0, 1]
    np.testing.assert_array_equal(weight[:, 0], [0.25, 0.0, -1.0])  # an omitted numeric counts as 0
    np.testing.assert_array_equal(shape, [[0, 0, 1], [0, 0, 0], [1, 0, 0]])


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(-1000, 1000), min_size=30, max_size=200, unique=True), bins=st.integers(2, 12))
@example(values=list(range(91)), bins=10)  # np.quantile lands a hair below the training value at position 9
def test_bin_edges_are_the_training_quantiles(values, bins):
    values = np.sort(values) / 1000  # distinct values in [-1, 1], far enough apart for np.quantile's interpolation
    edges, n = quantile_edges(values, bins), len(values)
    assert len(edges) == bins - 1 and np.all(np.diff(edges) > 0)
    # np.quantile puts the k-th cut at position (n - 1) k / bins of the sorted values; the edge sits after it
    below = [np.sum(values <= edge) for edge in edges]
    assert below == [math.floor((n - 1) * k / bins) + 1 for k in range(1, bins)]


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(0, 6), min_size=1, max_size=80), bins=st.integers(2, 12))
def test_no_training_value_lies_on_an_edge_and_no_bin_is_empty(values, bins):
    values = np.asarray(values, dtype=float)
    edges = quantile_edges(values, bins)
    assert len(edges) <= min(bins - 1, len(np.unique(values)) - 1)
    assert not np.isin(values, edges).any()
    occupied = np.unique(np.searchsorted(edges, values))
    assert occupied.tolist() == list(range(len(edges) + 1))


def test_amazon_targets_take_incomplete_queries_where_omitted_features_count_as_zero(shop, shop_target):
    api = kit.PredictionAPI(shop_target, shop.features)
    assert api.accepts_incomplete and not kit.PredictionAPI(shop_target, shop.features, incomplete=False) \
        .accepts_incomplete
    model = shop_target[-1]
    empty = api.query([np.nan] * 4).proba[0, 1]
    assert empty == pytest.approx(1 / (1 + np.exp(-model.intercept_[0])), abs=1e-12)
    assert not kit.PredictionAPI(kit.train_target(shop, "logreg"), shop.features).accepts_incomplete


@pytest.mark.parametrize("options, message", [
    ({"extraction": "google"}, "unknown extraction 'google'"),
    ({"bins": 5}, "bins and binned configure extraction='amazon'"),
    ({"extraction": "amazon", "bins": 1}, "bins must be a whole number of quantile bins >= 2, got 1"),
    ({"extraction": "amazon", "bins": True}, "bins must be a whole number"),
    ({"extraction": "amazon", "binned": ("colour",)}, "binned must name continuous features"),
    ({"extraction": "amazon", "binned": "size"}, "binned must name continuous features"),
])
def test_bad_extraction_settings_are_refused(shop, options, message):
    with pytest.raises(ValueError, match=message):
        kit.train_target(shop, "logreg", **options)


def test_amazon_served_logistic_regression_only(shop):
    with pytest.raises(ValueError, match="extraction='amazon' serves logreg or softmax"):
        kit.train_target(shop, "tree", extraction="amazon")


# --- the attacker's side: the online attack -----------------------------------------------------------------


def _true_edges(target):
    return [np.array(step.values) for step in target[0].steps_ if step.kind == "bins"]


def _recovered_edges(stolen):
    return [np.array(step.values) for step in stolen.info["steps"] if step.kind == "bins"]


@pytest.mark.parametrize("name, kind", [("circles", "logreg"), ("iris", "softmax")])
def test_the_attack_recovers_bin_edges_within_epsilon_and_the_model_exactly(name, kind):
    dataset = kit.load_dataset(name)
    target = kit.train_target(dataset, kind, extraction="amazon")
    api = kit.PredictionAPI(target, dataset.features, price_per_query=0.0001)
    stolen = online_extraction(api)
    assert stolen.info["certified"] and stolen.info["problems"] == [] and stolen.info["incomplete"]
    assert set(stolen.info["kinds"].values()) == {"bins"}
    for true, found in zip(_true_edges(target), _recovered_edges(stolen), strict=True):
        assert len(found) == len(true) and np.abs(found - true).max() <= 0.5e-3
    assert stolen.queries == api.queries_used and stolen.cost == pytest.approx(stolen.queries * 0.0001)
    score = kit.agreement(target, stolen.model, dataset, n_uniform=2000)
    assert score.test == 1.0 and score.uniform > 0.995 and score.tv_test < 1e-3


@settings(max_examples=8, deadline=None)
@given(bins=st.integers(2, 12), epsilon=st.sampled_from([1e-2, 1e-3, 1e-6]), incomplete=st.booleans())
def test_edges_are_found_to_epsilon_whatever_the_bins(circles, bins, epsilon, incomplete):
    target = kit.train_target(circles, "logreg", extraction="amazon", bins=bins)
    stolen = online_extraction(kit.PredictionAPI(target, circles.features, incomplete=incomplete), epsilon=epsilon)
    assert stolen.info["certified"] and stolen.info["incomplete"] == incomplete
    for true, found in zip(_true_edges(target), _recovered_edges(stolen), strict=True):
        assert len(found) == len(true) and np.abs(found - true).max() <= epsilon / 2


@pytest.mark.parametrize("incomplete", [True, False])
def test_mixed_inputs_one_hot_bins_and_plain_numbers_are_told_apart(shop, shop_target, incomplete):
    api = kit.PredictionAPI(shop_target, shop.features, incomplete=incomplete)
    stolen = online_extraction(api, epsilon=1e-9)
    assert stolen.info["kinds"] == {"colour": "one-hot", "size": "bins", "weight": "numeric", "shape": "one-hot"}
    assert np.abs(stolen.info["edges"]["size"] - _true_edges(shop_target)[0]).max() <= 0.5e-9
    score = kit.agreement(shop_target, stolen.model, shop, n_uniform=5000)  # yellow included: the unseen category
    assert score.test == score.uniform == 1.0 and score.tv_uniform < 1e-9
    if incomplete:  # the attacker learnt that omitted features count as 0: its model answers incomplete rows too
        rows = np.array([[3, np.nan, 0.5, np.nan], [np.nan] * 4, [1, 0.2, np.nan, 2]])
        np.testing.assert_allclose(stolen.model.predict_proba(rows), shop_target.predict_proba(rows), atol=1e-9)


def test_unbinned_targets_and_the_public_encoding_read_as_plain_numbers(moons, moons_logreg):
    stolen = online_extraction(kit.PredictionAPI(moons_logreg, moons.features))
    assert stolen.info["kinds"] == {"x1": "numeric", "x2": "numeric"} and stolen.info["certified"]
    assert not stolen.info["incomplete"]
    assert kit.agreement(moons_logreg, stolen.model, moons, n_uniform=2000).uniform == 1.0


@pytest.mark.parametrize("knobs, message", [
    ({"epsilon": 0}, "epsilon must be a positive precision"),
    ({"epsilon": -1e-3}, "epsilon must be a positive precision"),
    ({"epsilon": float("nan")}, "epsilon must be a positive precision"),
    ({"epsilon": "1e-3"}, "epsilon must be a positive precision"),
    ({"epsilon": True}, "epsilon must be a positive precision"),
    ({"scan": 2}, "scan must be a whole number >= 3, got 2"),
    ({"scan": 4.0}, "scan must be a whole number >= 3"),
    ({"max_bins": 1}, "max_bins must be a whole number >= 2"),
    ({"budget": 0}, "budget must be None or a positive whole number"),
    ({"budget": True}, "budget must be None or a positive whole number"),
    ({"budget": 10}, r"needs at least 11 queries \(base row, every category, 5 values per continuous feature\)"),
    ({"budget": 40, "scan": 20}, "needs at least 41 queries"),
])
def test_bad_settings_and_small_budgets_are_refused_before_any_query(circles, knobs, message):
    target = kit.train_target(circles, "logreg", extraction="amazon")
    api = kit.PredictionAPI(target, circles.features)
    with pytest.raises(ValueError, match=message):
        online_extraction(api, **knobs)
    assert api.queries_used == 0


@pytest.mark.parametrize("api_options, message", [
    ({"output": "label"}, "needs confidence values; this API answers labels only"),
    ({"decimals": 4}, "this API rounds them to 4 decimals"),
    ({"budget": 30}, r"budget of 31 queries is more than the API has left \(30\)"),
])
def test_apis_the_attack_cannot_use_are_refused_before_any_query(circles, api_options, message):
    target = kit.train_target(circles, "logreg", extraction="amazon")
    api = kit.PredictionAPI(target, circles.features, **api_options)
    with pytest.raises(ValueError, match=message):
        online_extraction(api, budget=31 if "budget" in api_options else None)
    assert api.queries_used == 0


def test_a_budget_that_runs_out_mid_search_is_reported_not_hidden(circles):
    target = kit.train_target(circles, "logreg", extraction="amazon")
    api = kit.PredictionAPI(target, circles.features)
    with pytest.warns(UncertifiedWarning, match="x1: the budget ran out, 9 edges known only to within"):
        stolen = online_extraction(api, budget=60)
    assert stolen.queries <= 60 and not stolen.info["certified"]
    assert len(stolen.info["problems"]) == 2


def test_a_model_that_is_not_logistic_is_reported_not_hidden(moons):
    target = kit.train_target(moons, "mlp")
    api = kit.PredictionAPI(target, moons.features)
    with pytest.warns(UncertifiedWarning, match="does not explain the answers"):
        stolen = online_extraction(api, max_bins=20)
    assert not stolen.info["certified"] and stolen.info["max_error"] > 1e-3
    assert any("more than 20 bins" in problem for problem in stolen.info["problems"])


def test_a_stolen_recipe_encodes_like_the_owners(shop_target, shop):
    rebuilt = Recipe.from_steps(shop.features, shop_target[0].steps_)
    X = np.vstack([shop.X_test, sample_uniform(shop.features, 200, random_state=3)])
    np.testing.assert_array_equal(rebuilt.transform(X), shop_target[0].transform(X))
    assert rebuilt.describe().splitlines()[1].startswith("size: 6 quantile bins, edges ")
    assert [Step(kind, (0.0, 0.5)).width for kind in ("one-hot", "bins", "numeric")] == [2, 3, 1]


def test_over_http_the_attack_spends_and_finds_what_it_does_in_process(shop, shop_target):
    """benchmarks.amazon (over HTTP): the same target served by kit.service and reached by kit.RemoteAPI (omitted
    features travel as JSON nulls) gives the same queries, bill, edges and copy as the in-process API."""
    with contextlib.ExitStack() as services:
        factory = served_api(services)
        for incomplete in (True, False):
            local = online_extraction(local_api(shop, shop_target, incomplete=incomplete))
            remote_api = factory(shop, shop_target, incomplete=incomplete)
            remote = online_extraction(remote_api)
            assert isinstance(remote_api, kit.RemoteAPI) and remote.info["certified"]
            assert remote.queries == local.queries and remote.cost == pytest.approx(local.cost)
            assert remote_api.usage()["queries_used"] == remote.queries
            assert remote.info["kinds"] == local.info["kinds"]
            np.testing.assert_array_equal(remote.info["edges"]["size"], local.info["edges"]["size"])
            rows = sample_uniform(shop.features, 500, random_state=2)
            np.testing.assert_allclose(remote.model.predict_proba(rows), local.model.predict_proba(rows), atol=1e-9)
