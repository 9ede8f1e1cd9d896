"""Lowd-Meek (paper section 6): linear targets and polynomial-kernel SVMs from labels only."""

import functools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

import kit
from kit.attacks import UncertifiedWarning, lowd_meek, lowd_meek_poly
from kit.attacks.lowd_meek import LinearBoundary, Monomials
from kit.features import CATEGORICAL, Feature, FeatureEncoder, encode


def label_api(target, dataset, **settings):
    return kit.PredictionAPI(target, dataset.features, output="label", **settings)


def toy(name, features, X, y):
    return kit.Dataset(name, X[:400], y[:400], X[400:], y[400:], tuple(features), (0, 1))


def one_feature(kind):
    """A target on one continuous feature: a threshold ("logreg") or an interval ("poly-svm", a quadratic)."""
    X = np.random.RandomState(0).uniform(-1, 1, (600, 1))
    y = (X[:, 0] > 0.2) if kind == "logreg" else (X[:, 0] ** 2 < 0.3)
    dataset = toy(f"one {kind}", (Feature("x"),), X, y.astype(int))
    return dataset, kit.train_target(dataset, kind)


def rare_target():
    """A linear target whose rare class holds 0.26% of the box: where the sum of 10 features passes 5 (one end of
    the diagonal, as in the paper's Breast Cancer set, where nearly all of the box is one class)."""
    features = tuple(Feature(f"x{i}") for i in range(10))
    target = make_pipeline(FeatureEncoder(features), LinearBoundary(np.ones(10), -5.0, ("common", "rare")))
    return target.fit(np.zeros((1, 10))), features


@pytest.fixture(scope="module")
def circles_poly(circles):
    return kit.train_target(circles, "poly-svm")


def test_lowd_meek_recovers_a_linear_model_up_to_scale(moons, moons_logreg):
    stolen = lowd_meek(label_api(moons_logreg, moons))
    true = np.append(moons_logreg[-1].coef_[0], moons_logreg[-1].intercept_[0])
    found = np.append(stolen.model[-1].coef_, stolen.model[-1].intercept_)
    assert np.allclose(found / found[0], true / true[0], rtol=1e-6)
    assert kit.agreement(moons_logreg, stolen.model, moons).uniform >= 0.999
    assert stolen.info["complete"] and stolen.info["certified"]


def test_lowd_meek_handles_categorical_features():
    rng = np.random.RandomState(0)
    features = (Feature("x1"), Feature("x2"), Feature("colour", CATEGORICAL, categories=("r", "g", "b")))
    X = kit.sample_uniform(features, 600, rng)
    y = (X[:, 0] - 0.5 * X[:, 1] + np.choose(X[:, 2].astype(int), [0.0, 0.8, -0.6]) > 0.1).astype(int)
    dataset = toy("toy", features, X, y)
    target = kit.train_target(dataset, "logreg")
    stolen = lowd_meek(label_api(target, dataset))
    assert stolen.info["unresolved"] == []
    assert kit.agreement(target, stolen.model, dataset).uniform >= 0.999


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sign_witnesses_are_found_where_uniform_rows_hardly_go(seed):
    target, features = rare_target()
    stolen = lowd_meek(kit.PredictionAPI(target, features, output="label"), random_state=seed)
    found = np.append(stolen.model[-1].coef_, stolen.model[-1].intercept_)
    assert np.allclose(found / found[0], np.append(np.ones(10), -5.0), rtol=1e-6)
    assert stolen.info["certified"]


def test_a_target_that_looks_constant_gives_a_flagged_constant_model(moons):
    always = make_pipeline(FeatureEncoder(moons.features), LinearBoundary(np.zeros(2), -1.0, (0, 1))).fit(moons.X_test)
    with pytest.warns(UncertifiedWarning, match="found no positive row"):
        stolen = lowd_meek(label_api(always, moons))
    assert not stolen.info["complete"] and not stolen.info["certified"]
    assert np.all(stolen.model.predict(moons.X_test) == 0)


def test_a_weight_no_step_can_measure_is_listed_and_not_certified(circles, circles_poly):
    """Against a circle, a line along u through a point just off the boundary crosses it twice: no crossing is seen."""
    with pytest.warns(UncertifiedWarning, match="no step off the boundary along x1"):
        stolen = lowd_meek(label_api(circles_poly, circles))
    assert stolen.info["unresolved"] == ["x1", "x2"]
    assert not stolen.info["certified"] and stolen.info["complete"]


def test_the_least_budget_is_checked_before_the_first_query(moons, moons_logreg, circles, circles_poly, blobs):
    for attack, budget, least, target, dataset in [(lowd_meek, 5, 11, moons_logreg, moons),
                                                   (lowd_meek_poly, 10, 28, circles_poly, circles)]:
        api = label_api(target, dataset)
        with pytest.raises(ValueError, match=f"needs at least {least} queries, budget is {budget}") as error:
            attack(api, budget=budget)
        assert api.queries_used == 0 and "\n" not in str(error.value)
        capped = label_api(target, dataset, budget=budget)  # the API's own budget counts when the attack has none
        with pytest.raises(ValueError, match=f"needs at least {least} queries; the API has {budget} left"):
            attack(capped)
        assert capped.queries_used == 0
    with pytest.raises(ValueError, match="binary"):
        lowd_meek(label_api(kit.train_target(blobs, "softmax"), blobs))


@pytest.mark.parametrize("attack", [lowd_meek, lowd_meek_poly])
def test_an_api_budget_shrinks_the_line_searches(moons, moons_logreg, attack):
    api = label_api(moons_logreg, moons, budget=60)
    stolen = attack(api)
    assert stolen.queries == api.queries_used <= 60
    assert stolen.info["complete"]
    assert kit.agreement(moons_logreg, stolen.model, moons).test > 0.9


def test_running_out_mid_way_returns_what_was_measured():
    """The rare class costs the sign witnesses more than their share: the last weights go unmeasured."""
    target, features = rare_target()
    api = kit.PredictionAPI(target, features, output="label", budget=35)  # 2 + 11 line searches x 3
    with pytest.warns(UncertifiedWarning, match="the budget ran out before measuring .*x9"):
        stolen = lowd_meek(api)
    assert stolen.queries == api.queries_used <= 35
    assert not stolen.info["complete"] and not stolen.info["certified"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(budget=st.integers(35, 400), poly=st.booleans(), seed=st.integers(0, 3))
def test_lowd_meek_never_asks_more_than_its_budget_and_never_raises_after_paying(budget, poly, seed):
    target, features = rare_target()
    api = kit.PredictionAPI(target, features, output="label", budget=budget)  # raises BudgetExceeded past it
    attack = lowd_meek_poly if poly else lowd_meek
    try:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            stolen = attack(api, degree=1, random_state=seed) if poly else attack(api, random_state=seed)
    except ValueError:  # refused before the first query: the budget is under the least
        assert api.queries_used == 0
        return
    assert stolen.queries == api.queries_used <= budget
    assert stolen.info["complete"] or stolen.info["problems"]


def test_same_seed_same_result(moons, moons_logreg):
    first, second = (lowd_meek(label_api(moons_logreg, moons), random_state=3) for _ in range(2))
    assert np.array_equal(first.model[-1].coef_, second.model[-1].coef_)


def test_lowd_meek_poly_is_exact_on_circles_within_a_small_budget(circles, circles_poly):
    api = label_api(circles_poly, circles)
    stolen = lowd_meek_poly(api, budget=300)
    assert stolen.queries == api.queries_used == len(stolen.log) <= 300
    assert not hasattr(stolen.model, "predict_proba")
    assert kit.agreement(circles_poly, stolen.model, circles).uniform >= 1 - 1e-4
    assert stolen.info["unresolved"] == []
    assert stolen.info["certified"] and stolen.info["complete"] and stolen.info["degree"] == 2
    with pytest.warns(UncertifiedWarning, match="degree-1 solution"):  # a line cannot draw a circle, and says so
        lines_only = lowd_meek_poly(label_api(circles_poly, circles), degree=1)
    assert kit.agreement(circles_poly, lines_only.model, circles).uniform < 0.9
    assert not lines_only.info["certified"]


def test_a_linear_target_inside_degree_2_is_stolen_at_degree_1(moons, moons_logreg):
    """Every multiple of a line's equation by a polynomial of degree 1 vanishes on it too: the lowest degree wins."""
    stolen = lowd_meek_poly(label_api(moons_logreg, moons), degree=2)
    assert stolen.info["degree"] == 1 and stolen.info["certified"]
    agreement = kit.agreement(moons_logreg, stolen.model, moons)
    assert (agreement.test, agreement.uniform) == (1.0, 1.0)


@pytest.mark.parametrize("kind", ["logreg", "poly-svm"])
@pytest.mark.parametrize("seed", range(5))
def test_lowd_meek_poly_on_one_feature_is_exact_or_flagged(kind, seed):
    dataset, target = one_feature(kind)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        stolen = lowd_meek_poly(label_api(target, dataset), random_state=seed)
    exact = kit.agreement(target, stolen.model, dataset).uniform >= 0.9999
    flagged = not stolen.info["certified"] and any(w.category is UncertifiedWarning for w in warned)
    assert exact != flagged
    assert exact or kind == "poly-svm"  # a threshold is always found exactly


@functools.cache
def categorical_circle():
    """A poly-SVM whose circle moves with a categorical feature."""
    rng = np.random.RandomState(0)
    features = (Feature("x1"), Feature("x2"), Feature("colour", CATEGORICAL, categories=("r", "g", "b")))
    X = kit.sample_uniform(features, 900, rng)
    shift = np.choose(X[:, 2].astype(int), [0.0, 0.3, -0.2])
    y = (X[:, 0] ** 2 + (X[:, 1] - shift) ** 2 < 0.5).astype(int)
    dataset = kit.Dataset("toy", X[:600], y[:600], X[600:], y[600:], features, (0, 1))
    return dataset, kit.train_target(dataset, "poly-svm")


@settings(max_examples=10, deadline=None)
@given(budget=st.integers(1, 600), seed=st.integers(0, 3))
def test_lowd_meek_poly_with_categories_keeps_to_an_api_budget(budget, seed):
    dataset, target = categorical_circle()
    api = label_api(target, dataset, budget=budget)
    try:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            stolen = lowd_meek_poly(api, random_state=seed)
    except ValueError as error:
        assert api.queries_used == 0 and "needs at least" in str(error)
        return
    assert stolen.queries == api.queries_used <= budget
    assert stolen.info["complete"] or stolen.info["problems"]


def test_lowd_meek_poly_handles_categorical_features():
    dataset, target = categorical_circle()
    stolen = lowd_meek_poly(label_api(target, dataset))
    assert stolen.info["unresolved"] == [] and stolen.info["certified"]
    assert np.all(stolen.log.X[:, 2] == np.round(stolen.log.X[:, 2]))  # every query a valid row
    assert kit.agreement(target, stolen.model, dataset).uniform >= 1 - 1e-4


def test_lowd_meek_poly_refuses_what_it_cannot_do(circles, circles_poly, blobs):
    with pytest.raises(ValueError, match="binary"):
        lowd_meek_poly(label_api(kit.train_target(blobs, "softmax"), blobs))
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
