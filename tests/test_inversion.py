"""Model inversion (paper section 4.1.4): on the stolen model, and through the API as a black box."""

from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax

import kit
from kit.attacks import equation_solving, model_inversion, plot_prototypes
from kit.attacks.inversion import log_confidence_gradients, prototype_similarity, roughness_gradient


@cache
def _digits_softmax():
    digits = kit.load_dataset("digits")
    return digits, kit.train_target(digits, "softmax")


def _api():
    digits, target = _digits_softmax()
    return kit.PredictionAPI(target, digits.features)


def test_inverting_the_stolen_model_costs_only_the_extraction_and_finds_the_black_box_prototypes():
    digits, target = _digits_softmax()
    api = _api()
    stolen = equation_solving(api, model="softmax")
    white = model_inversion(api, stolen=stolen, steps=5)
    assert api.queries_used == white.queries == 65  # d + 1: nothing asked after the extraction
    black_api = _api()
    black = model_inversion(black_api, steps=5)
    assert black.queries == black_api.queries_used == 5 * 10 * 65
    similarity = prototype_similarity(white.prototypes, black.prototypes)
    assert np.all(similarity["cosine"] > 0.999) and np.all(similarity["rms"] < 0.01)
    classes = np.arange(10)
    assert np.array_equal(target.predict(white.prototypes), classes)
    assert np.all(target.predict_proba(white.prototypes)[classes, classes] > 0.5)
    assert white.info["route"] == "stolen model" and black.info["route"] == "black box"
    assert plot_prototypes({"stolen": white, "black box": black}).shape == (2, 10)


def test_forward_differences_give_the_softmax_gradient_of_log_confidence():
    _, target = _digits_softmax()
    W, b = target[-1].coef_, target[-1].intercept_
    X = np.random.default_rng(0).uniform(-0.9, 0.9, size=(10, 64))
    gradients, confidence = log_confidence_gradients(target.predict_proba, X, -1.0, 1.0, 1e-6)
    P = softmax(X @ W.T + b, axis=1)
    exact = W - P @ W  # d log p_y / dx = w_y - sum_k p_k w_k, at row y for class y
    np.testing.assert_allclose(gradients, exact, atol=1e-4)
    np.testing.assert_allclose(confidence, P[np.arange(10), np.arange(10)])


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_roughness_gradient_is_the_gradient_of_half_the_squared_neighbour_differences(rows, columns, seed):
    def roughness(x):
        image = x.reshape(rows, columns)
        return (np.sum(np.diff(image, axis=0) ** 2) + np.sum(np.diff(image, axis=1) ** 2)) / 2

    x = np.random.default_rng(seed).normal(size=rows * columns)
    step = 1e-6
    numeric = [(roughness(x + step * e) - roughness(x - step * e)) / (2 * step) for e in np.eye(len(x))]
    np.testing.assert_allclose(roughness_gradient(x[None], (rows, columns))[0], numeric, atol=1e-5)


@pytest.mark.parametrize(("options", "message"), [
    ({"steps": 0}, "steps must be a whole number of at least 1, got 0"),
    ({"step_size": -1.0}, "step_size must be a number between 0 and inf, got -1.0"),
    ({"norm": -0.1}, "norm must be a number between 0 and inf, got -0.1"),
    ({"epsilon": 1.5}, "epsilon must be a number between 0 and 1.0, got 1.5"),
    ({"smoothness": 0.2}, r"needs the image shape \(rows, columns\) of a row of 64 features, got shape=None"),
    ({"smoothness": 0.2, "shape": (4, 4)}, r"smoothness needs the image shape .* got shape=\(4, 4\)"),
    ({"smoothness": 0.2, "shape": (64,)}, r"smoothness needs the image shape .* got shape=\(64,\)"),
    ({"steps": 2, "budget": 1000}, r"black-box inversion .* needs at least 1300 queries"),
])
def test_settings_and_budget_are_checked_before_the_first_query(options, message):
    api = _api()
    with pytest.raises(ValueError, match=message):
        model_inversion(api, **options)
    assert api.queries_used == 0


def test_routes_it_cannot_take_are_refused_before_any_query():
    digits, target = _digits_softmax()
    labels = kit.PredictionAPI(target, digits.features, output="label")
    with pytest.raises(ValueError, match="black-box model inversion needs confidence values"):
        model_inversion(labels)
    with pytest.raises(ValueError, match="budget is for the black-box route"):
        model_inversion(_api(), stolen=kit.Extraction(target, 0, 0.0, None), budget=100)
    with pytest.raises(ValueError, match="stolen must be an Extraction whose model gives confidences"):
        model_inversion(_api(), stolen=kit.Extraction(object(), 0, 0.0, None))
    blobs = kit.load_dataset("blobs")
    colour = (kit.Feature("colour", "categorical", categories=("a", "b")), kit.Feature("size"))
    mixed = kit.PredictionAPI(kit.train_target(blobs, "softmax"), colour)
    with pytest.raises(ValueError, match="model inversion climbs continuous features"):
        model_inversion(mixed)
    assert labels.queries_used == mixed.queries_used == 0
