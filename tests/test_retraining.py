"""Retraining from labels (paper section 6): uniform, line-search and adaptive; settings checked before paying."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline

import kit
from kit.attacks import retraining
from kit.attacks.lowd_meek import LinearBoundary
from kit.attacks.retraining import KNOBS, LEAST_BUDGET
from kit.features import Feature, FeatureEncoder


def label_api(target, dataset, **settings):
    return kit.PredictionAPI(target, dataset.features, output="label", **settings)


@pytest.mark.parametrize("strategy", ["uniform", "line-search", "adaptive"])
def test_retraining_spends_exactly_its_budget_and_logs_it(moons, moons_logreg, strategy):
    api = label_api(moons_logreg, moons, budget=100)
    stolen = retraining(api, strategy=strategy, model="logreg", budget=60)
    assert stolen.queries == api.queries_used == len(stolen.log) == 60 and stolen.info["complete"]
    assert stolen.model.predict(moons.X_test[:3]).shape == (3,)
    assert kit.agreement(moons_logreg, stolen.model, moons).test > 0.95


def corner_target():
    """A linear target whose "rare" class is the corner where x0, x2, x4 are high and x1, x3, x5 low.

    It covers 0.4% of the box (11% of its corners), off the main diagonal, where w . x = 0.
    """
    features = tuple(Feature(f"x{i}") for i in range(6))
    weights = np.array([1.0, -1.0] * 3)
    target = make_pipeline(FeatureEncoder(features), LinearBoundary(weights, -3.6, ("common", "rare")))
    return target.fit(np.zeros((1, 6))), features


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rare_class_search_finds_a_corner_class_that_uniform_rows_miss(seed):
    target, features = corner_target()
    rare_rows = kit.sample_uniform(features, 20_000, 0)
    rare_rows = rare_rows[target.predict(rare_rows) == "rare"]
    rare_recall = {}
    for strategy in ("uniform", "line-search", "adaptive"):
        api = kit.PredictionAPI(target, features, output="label")
        stolen = retraining(api, strategy=strategy, model="logreg", budget=100, random_state=seed)
        rare_recall[strategy] = np.mean(stolen.model.predict(rare_rows) == "rare")
    assert rare_recall["uniform"] == 0  # 100 uniform rows all answered "common"
    assert rare_recall["line-search"] > 0.5
    assert rare_recall["adaptive"] > 0.9


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(strategy=st.sampled_from(["uniform", "line-search", "adaptive"]), budget=st.integers(1, 80),
       corner=st.booleans())
def test_retraining_never_asks_more_than_its_budget(moons, moons_logreg, strategy, budget, corner):
    budget = max(budget, LEAST_BUDGET[strategy])
    target, features = corner_target() if corner else (moons_logreg, moons.features)
    api = kit.PredictionAPI(target, features, output="label", budget=budget)  # raises BudgetExceeded past it
    stolen = retraining(api, strategy=strategy, model="logreg", budget=budget)
    assert stolen.queries == api.queries_used == budget


def test_adaptive_beats_uniform_at_equal_budget(moons, moons_logreg):
    def error(strategy, seed):
        api = label_api(moons_logreg, moons)
        stolen = retraining(api, strategy=strategy, model="logreg", budget=30, random_state=seed)
        return 1 - kit.agreement(moons_logreg, stolen.model, moons).uniform

    seeds = range(5)
    assert np.mean([error("adaptive", s) for s in seeds]) < 0.5 * np.mean([error("uniform", s) for s in seeds])


def test_rbf_svm_and_softmax_and_mlp_fit(blobs):
    circles = kit.load_dataset("circles")
    svm = kit.train_target(circles, "rbf-svm")
    stolen = retraining(label_api(svm, circles), strategy="adaptive", model="rbf-svm", budget=150, rounds=3)
    assert kit.agreement(svm, stolen.model, circles).test > 0.97
    assert len(stolen.info["history"]) == 3
    target = kit.train_target(blobs, "softmax")
    for model in ("softmax", "mlp"):
        stolen = retraining(kit.PredictionAPI(target, blobs.features), strategy="uniform", model=model, budget=200)
        assert kit.agreement(target, stolen.model, blobs).test > 0.97


BAD_SETTINGS = [
    ({"strategy": "random"}, "unknown strategy 'random'"),
    ({"model": "tree"}, "unknown model 'tree'"),
    ({"budget": -3}, "budget must be a positive whole number of queries, got -3"),
    ({"budget": None}, "budget must be a positive whole number of queries, got None"),
    ({"budget": 2.5}, "budget must be a positive whole number of queries, got 2.5"),
    ({"strategy": "line-search", "budget": 1}, "line-search retraining needs at least 3 queries, budget is 1"),
    ({"strategy": "adaptive", "budget": 1}, "adaptive retraining needs at least 2 queries, budget is 1"),
    ({"rounds": 3}, "knob 'rounds' belongs to strategy 'adaptive', not 'uniform'"),
    ({"strategy": "line-search", "steps": 0}, "steps must be a whole number of at least 1, got 0"),
    ({"strategy": "line-search", "steps": -3}, "steps must be a whole number of at least 1, got -3"),
    ({"strategy": "line-search", "steps": 2.0}, "steps must be a whole number of at least 1, got 2.0"),
    ({"strategy": "line-search", "initial": 0}, r"initial .* must be a number between 0 and 1 \(1 included\), got 0"),
    ({"strategy": "line-search", "initial": 1.5}, r"initial .* between 0 and 1 \(1 included\), got 1.5"),
    ({"strategy": "line-search", "initial": math.nan}, "initial .* got nan"),
    ({"strategy": "adaptive", "rounds": 0}, "rounds must be a whole number of at least 1, got 0"),
    ({"strategy": "adaptive", "explore": 2}, r"explore .* between 0 and 1 \(0 and 1 included\), got 2"),
    ({"strategy": "adaptive", "explore": -0.1}, r"explore .* got -0.1"),
    ({"strategy": "adaptive", "pool": 0}, "pool must be a whole number of at least 1, got 0"),
    ({"colour": "red"}, "unknown setting 'colour': neither a knob of the strategy nor a parameter of Logistic"),
    ({"model": "rbf-svm", "hidden_layer_sizes": (5,)}, "unknown setting 'hidden_layer_sizes'.* of SVC"),
    ({"C": -1.0}, "The 'C' parameter of LogisticRegression must be a float in the range"),
    ({"model": "mlp", "max_iter": 0}, "The 'max_iter' parameter of MLPClassifier"),
    ({"model": "mlp", "hidden_layer_sizes": (5, 0)}, "each of hidden_layer_sizes must be a whole number of at least 1"),
    ({"random_state": "seed"}, "'seed' cannot be used to seed"),
]


@pytest.mark.parametrize(("settings", "message"), BAD_SETTINGS)
def test_bad_settings_get_one_line_errors_before_any_query(moons, moons_logreg, settings, message):
    api = label_api(moons_logreg, moons)
    with pytest.raises(ValueError, match=message) as error:
        retraining(api, **{"strategy": "uniform", "model": "logreg", "budget": 25, **settings})
    assert "\n" not in str(error.value)
    assert api.queries_used == len(api.log) == 0


def test_a_budget_beyond_what_the_api_has_left_is_refused_up_front(moons, moons_logreg):
    api = label_api(moons_logreg, moons, budget=30)
    with pytest.raises(ValueError, match=r"budget of 40 queries is more than the API has left \(30\)"):
        retraining(api, strategy="adaptive", model="logreg", budget=40)
    assert api.queries_used == 0


def test_every_strategy_works_with_its_least_budget_and_its_extreme_knobs(moons, moons_logreg):
    for strategy, least in LEAST_BUDGET.items():
        api = label_api(moons_logreg, moons)
        assert retraining(api, strategy=strategy, model="logreg", budget=least).queries == least
    for knobs in ({"initial": 1.0, "steps": 1}, {"explore": 0.0, "pool": 1}, {"explore": 1.0, "rounds": 1}):
        strategy = next(name for name, own in KNOBS.items() if set(knobs) <= set(own))
        api = label_api(moons_logreg, moons)
        assert retraining(api, strategy=strategy, model="logreg", budget=30, **knobs).queries == 30


def test_logreg_needs_a_binary_api(blobs):
    api = label_api(kit.train_target(blobs, "softmax"), blobs)
    with pytest.raises(ValueError, match="use 'softmax'"):
        retraining(api, strategy="uniform", model="logreg", budget=10)


def test_same_seed_same_result(moons, moons_logreg):
    runs = [retraining(label_api(moons_logreg, moons), strategy="adaptive", model="logreg", budget=40, random_state=3)
            for _ in range(2)]
    assert np.array_equal(runs[0].log.X, runs[1].log.X)
    assert np.array_equal(runs[0].model.predict(moons.X_test), runs[1].model.predict(moons.X_test))
