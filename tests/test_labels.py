"""Labels only (paper section 6): the retraining attacks."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline

import kit
from kit.attacks import budget_for, retraining
from kit.attacks.lowd_meek import LinearBoundary
from kit.features import Feature, FeatureEncoder


def label_api(target, dataset, **settings):
    return kit.PredictionAPI(target, dataset.features, output="label", **settings)


@pytest.mark.parametrize("strategy", ["uniform", "line-search", "adaptive"])
def test_retraining_spends_exactly_its_budget_and_logs_it(moons, moons_logreg, strategy):
    api = label_api(moons_logreg, moons, budget=100)
    stolen = retraining(api, strategy=strategy, model="logreg", budget=60)
    assert stolen.queries == api.queries_used == len(stolen.log) == 60
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


def test_same_seed_same_result(moons, moons_logreg):
    runs = [retraining(label_api(moons_logreg, moons), strategy="adaptive", model="logreg", budget=40, random_state=3)
            for _ in range(2)]
    assert np.array_equal(runs[0].log.X, runs[1].log.X)
    assert np.array_equal(runs[0].model.predict(moons.X_test), runs[1].model.predict(moons.X_test))


def test_budget_for_follows_the_paper(blobs, moons):
    assert budget_for(20, moons, "logreg") == 20 * 3
    assert budget_for(10, blobs, "softmax") == 10 * 3 * 3
    assert budget_for(1, blobs, "mlp") == 20 * 3 + 21 * 3


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"strategy": "random", "model": "logreg", "budget": 10}, "unknown strategy 'random'"),
        ({"strategy": "uniform", "model": "tree", "budget": 10}, "unknown model 'tree'"),
        ({"strategy": "uniform", "model": "logreg", "budget": -3}, "budget must be a positive whole number"),
        ({"strategy": "uniform", "model": "logreg", "budget": 10, "rounds": 3}, "belongs to strategy 'adaptive'"),
        ({"strategy": "adaptive", "model": "logreg", "budget": 10, "rounds": 0}, "rounds must be a positive"),
    ],
)
def test_bad_arguments_get_one_line_errors(moons, moons_logreg, knobs, message):
    with pytest.raises(ValueError, match=message) as error:
        retraining(label_api(moons_logreg, moons), **knobs)
    assert "\n" not in str(error.value)


def test_logreg_needs_a_binary_api(blobs):
    api = label_api(kit.train_target(blobs, "softmax"), blobs)
    with pytest.raises(ValueError, match="use 'softmax'"):
        retraining(api, strategy="uniform", model="logreg", budget=10)
