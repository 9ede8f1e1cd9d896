"""Labels only (paper section 6): Lowd-Meek (the retraining attacks are in test_retraining.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import PolynomialFeatures

import kit
from kit.attacks import lowd_meek, lowd_meek_poly
from kit.attacks.lowd_meek import Monomials
from kit.features import CATEGORICAL, Feature, encode


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


def test_same_seed_same_result(moons, moons_logreg):
    first, second = (lowd_meek(label_api(moons_logreg, moons), random_state=3) for _ in range(2))
    assert np.array_equal(first.model[-1].coef_, second.model[-1].coef_)


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
