"""Labels only (paper section 6): Lowd-Meek and the retraining attacks."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

import kit
from kit.attacks import budget_for, lowd_meek, lowd_meek_poly, retraining
from kit.attacks.lowd_meek import LinearBoundary, Monomials
from kit.features import CATEGORICAL, Feature, FeatureEncoder, encode


def label_api(target, dataset, **settings):
    return kit.PredictionAPI(target, dataset.features, output="label", **settings)


def test_lowd_meek_recovers_a_linear_model_up_to_scale(moons, moons_logreg):
    stolen = lowd_meek(label_api(moons_logreg, moons))
    true = np.append(moons_logreg[-1].coef_[0], moons_logreg[-1].intercept_[0])
    found = np.append(stolen.model[-1].coef_, stolen.model[-1].intercept_)
    assert np.allclose(found / found[0], true / true[0], rtol=1e-6)
    assert kit.agreement(moons_logreg, stolen.model, moons).uniform >= 0.999


def test_lowd_meek_handles_categorical_features():
    rng = np.random.RandomState(0)
    features = (Feature("x1"), Feature("x2"), Feature("colour", CATEGORICAL, categories=("r", "g", "b")))
    X = kit.sample_uniform(features, 600, rng)
    y = (X[:, 0] - 0.5 * X[:, 1] + np.choose(X[:, 2].astype(int), [0.0, 0.8, -0.6]) > 0.1).astype(int)
    dataset = kit.Dataset("toy", X[:400], y[:400], X[400:], y[400:], features, (0, 1))
    target = kit.train_target(dataset, "logreg")
    stolen = lowd_meek(label_api(target, dataset))
    assert stolen.info["unresolved"] == []
    assert kit.agreement(target, stolen.model, dataset).uniform >= 0.999


def test_lowd_meek_keeps_to_its_budget_and_refuses_what_it_cannot_do(moons, moons_logreg, blobs):
    api = label_api(moons_logreg, moons)
    stolen = lowd_meek(api, budget=40)
    assert stolen.queries == api.queries_used <= 40
    with pytest.raises(ValueError, match="binary"):
        lowd_meek(label_api(kit.train_target(blobs, "softmax"), blobs))
    with pytest.raises(ValueError, match="budget of 5 queries is too small"):
        lowd_meek(label_api(moons_logreg, moons), budget=5)


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
    first, second = (lowd_meek(label_api(moons_logreg, moons), random_state=3) for _ in range(2))
    assert np.array_equal(first.model[-1].coef_, second.model[-1].coef_)


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


@pytest.fixture(scope="module")
def circles_poly(circles):
    return kit.train_target(circles, "poly-svm")


def test_lowd_meek_poly_is_exact_on_circles_within_a_small_budget(circles, circles_poly):
    api = label_api(circles_poly, circles)
    stolen = lowd_meek_poly(api, budget=300)
    assert stolen.queries == api.queries_used == len(stolen.log) <= 300
    assert not hasattr(stolen.model, "predict_proba")
    assert kit.agreement(circles_poly, stolen.model, circles).uniform >= 1 - 1e-4
    assert stolen.info["unresolved"] == []
    lines_only = lowd_meek_poly(label_api(circles_poly, circles), degree=1)  # a line cannot draw a circle
    assert kit.agreement(circles_poly, lines_only.model, circles).uniform < 0.9


def test_lowd_meek_poly_handles_categorical_features():
    rng = np.random.RandomState(0)
    features = (Feature("x1"), Feature("x2"), Feature("colour", CATEGORICAL, categories=("r", "g", "b")))
    X = kit.sample_uniform(features, 900, rng)
    shift = np.choose(X[:, 2].astype(int), [0.0, 0.3, -0.2])
    y = (X[:, 0] ** 2 + (X[:, 1] - shift) ** 2 < 0.5).astype(int)
    dataset = kit.Dataset("toy", X[:600], y[:600], X[600:], y[600:], features, (0, 1))
    target = kit.train_target(dataset, "poly-svm")
    stolen = lowd_meek_poly(label_api(target, dataset))
    assert stolen.info["unresolved"] == []
    assert np.all(stolen.log.X[:, 2] == np.round(stolen.log.X[:, 2]))  # every query a valid row
    assert kit.agreement(target, stolen.model, dataset).uniform >= 1 - 1e-4


def test_lowd_meek_poly_refuses_what_it_cannot_do(circles, circles_poly, blobs):
    with pytest.raises(ValueError, match="binary"):
        lowd_meek_poly(label_api(kit.train_target(blobs, "softmax"), blobs))
    with pytest.raises(ValueError, match="budget of 10 queries is too small"):
        lowd_meek_poly(label_api(circles_poly, circles), budget=10)
    for degree in (0, 1.5):
        with pytest.raises(ValueError, match=f"degree must be a whole number of at least 1, got {degree}"):
            lowd_meek_poly(label_api(circles_poly, circles), degree=degree)
    with pytest.raises(ValueError, match="points must be a whole number of at least 6"):
        lowd_meek_poly(label_api(circles_poly, circles), points=5)


@settings(max_examples=25, deadline=None)
@given(widths=st.lists(st.integers(0, 4), min_size=1, max_size=3), degree=st.integers(1, 3))
def test_monomials_are_independent_on_valid_rows(widths, degree):
    """No monomial repeats others on valid rows (z^2 = z, ...), and every product of degree <= p is among them."""
    features = tuple(Feature(f"x{j}") if width == 0 else Feature(f"c{j}", CATEGORICAL, categories=tuple("abcd"[:width]))
                     for j, width in enumerate(widths))
    feature_map = Monomials(features, degree).fit()
    rows = encode(features, kit.sample_uniform(features, 2000, 0))
    basis = np.hstack([np.ones((len(rows), 1)), feature_map.transform(rows)])
    every_product = PolynomialFeatures(degree).fit_transform(rows)
    assert np.linalg.matrix_rank(basis) == basis.shape[1]
    assert np.linalg.matrix_rank(np.hstack([basis, every_product])) == basis.shape[1]
