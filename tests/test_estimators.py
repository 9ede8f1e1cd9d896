"""Every model the kit trains or returns refuses rows of the wrong width, and passes scikit-learn's estimator checks.

A stolen model is a pipeline whose first step (:class:`kit.features.FeatureEncoder`, or the recovered
:class:`kit.recipes.Recipe`) checks the raw width, so every attack's model is tested through that step.
"""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

import kit
from kit.attacks import (
    equation_solving,
    kernel_leakage,
    lowd_meek,
    lowd_meek_poly,
    online_extraction,
    path_finding,
    retraining,
)
from kit.attacks.kernel import SoftLabelKernelLR
from kit.attacks.lowd_meek import LinearBoundary, Monomials
from kit.attacks.network import SoftLabelNetwork
from kit.attacks.trees import Leaf, StolenTree
from kit.features import Feature, FeatureEncoder
from kit.recipes import Recipe
from kit.targets import TARGET_KINDS, KernelLogisticRegression

# --- rows of the wrong width --------------------------------------------------------------------------------------


def assert_refuses_wrong_widths(model, width):
    """``model`` takes (n, width) rows and refuses wider, narrower and 1-D ones with a one-line ValueError."""
    methods = [getattr(model, name) for name in ("predict", "predict_proba") if hasattr(model, name)]
    for method in methods:
        assert len(method(np.zeros((3, width)))) == 3
        for rows, message in [(np.zeros((3, width + 3)), f"X has {width + 3} features, but .* expecting {width}"),
                              (np.zeros((3, width - 1)), f"X has {width - 1} features, but .* expecting {width}"),
                              (np.zeros(width), rf"2-D array of rows, shape \(n_rows, {width}\), got a 1-D array")]:
            with pytest.raises(ValueError, match=message) as refused:
                method(rows)
            assert "\n" not in str(refused.value)


def values_dataset(dataset):
    """The data set with a numeric target (the sum of its features), for a regression tree."""
    return kit.Dataset(f"{dataset.name}-values", dataset.X_train, dataset.X_train.sum(axis=1), dataset.X_test,
                       dataset.X_test.sum(axis=1), dataset.features, ())


@pytest.mark.parametrize("kind", TARGET_KINDS)
def test_every_target_kind_refuses_rows_of_the_wrong_width(moons, kind):
    dataset = values_dataset(moons) if kind == "regression-tree" else moons
    params = {"n_representers": 5} if kind == "kernel-logreg" else {}
    assert_refuses_wrong_widths(kit.train_target(dataset, kind, **params), moons.n_features)


def test_amazon_targets_refuse_rows_of_the_wrong_width(circles):
    assert_refuses_wrong_widths(kit.train_target(circles, "logreg", extraction="amazon"), circles.n_features)


def _label_api(target, dataset, **settings):
    return kit.PredictionAPI(target, dataset.features, output="label", **settings)


STEALS = {  # one small, fast case of every attack: (data set, target kind and options, API options, attack)
    "equation_solving": ("moons", "logreg", {}, {}, lambda api: equation_solving(api, model="logreg")),
    "kernel_leakage": ("moons", "kernel-logreg", {"n_representers": 3, "gamma": 1.0}, {},
                       lambda api: kernel_leakage(api, n_representers=3, gamma=1.0, max_iter=200)),
    "lowd_meek": ("moons", "logreg", {}, {"output": "label"}, lowd_meek),
    "lowd_meek_poly": ("circles", "poly-svm", {}, {"output": "label"}, lambda api: lowd_meek_poly(api, budget=300)),
    "retraining": ("moons", "logreg", {}, {"output": "label"},
                   lambda api: retraining(api, strategy="uniform", model="logreg", budget=30)),
    "path_finding": ("moons", "tree", {"max_depth": 3}, {"output": "leaf"}, path_finding),
    "online_extraction": ("circles", "logreg", {"extraction": "amazon", "bins": 3}, {}, online_extraction),
}


@pytest.mark.parametrize("attack", STEALS)
def test_every_attack_returns_a_model_that_refuses_rows_of_the_wrong_width(attack):
    name, kind, options, api_options, steal = STEALS[attack]
    dataset = kit.load_dataset(name)
    api = kit.PredictionAPI(kit.train_target(dataset, kind, **options), dataset.features, **api_options)
    assert_refuses_wrong_widths(steal(api).model, dataset.n_features)


def test_the_encoder_neither_ignores_extra_columns_nor_fails_on_a_single_row():
    features = (Feature("size"), Feature("colour", "categorical", categories=("red", "blue")))
    encoder = FeatureEncoder(features).fit(None)
    assert np.array_equal(encoder.transform([[0.5, 1]]), [[0.5, 0, 1]])
    with pytest.raises(ValueError, match="X has 3 features, but FeatureEncoder is expecting 2"):
        encoder.transform([[0.5, 1, 7]])
    with pytest.raises(ValueError, match=r"shape \(n_rows, 2\), got a 1-D array. Reshape your data: \[row\]"):
        encoder.transform([0.5, 1])
    with pytest.raises(ValueError, match="X has 3 features, but FeatureEncoder is expecting 2"):
        FeatureEncoder(features).fit([[0.5, 1, 7]])
    with pytest.raises(NotFittedError):
        FeatureEncoder(features).transform([[0.5, 1]])


def test_a_recipe_refuses_rows_of_the_wrong_width_when_fitted_and_after():
    features = (Feature("size"), Feature("weight"))
    with pytest.raises(ValueError, match="X has 3 features, but Recipe is expecting 2"):
        Recipe(features).fit(np.zeros((10, 3)))
    recipe = Recipe(features, bins=2).fit(np.random.RandomState(0).uniform(-1, 1, (20, 2)))
    assert recipe.transform([[np.nan, 0.5]]).shape == (1, 4)  # an omitted feature encodes as zeros
    for rows in (np.zeros((1, 3)), np.zeros(2)):
        with pytest.raises(ValueError, match="features, but Recipe is expecting 2|got a 1-D array"):
            recipe.transform(rows)


@pytest.mark.parametrize("model", [SoftLabelNetwork, SoftLabelKernelLR])
def test_soft_label_models_take_class_labels_as_one_hot_confidences(model):
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (60, 2))
    labels = np.where(X[:, 0] > X[:, 1], "right", "left")
    one_hot = np.column_stack([labels == "left", labels == "right"]).astype(float)
    options = {"max_iter": 100, "random_state": 0} | ({"n_representers": 3} if model is SoftLabelKernelLR else {})
    from_labels = model(**options).fit(X, labels)
    from_confidences = model(classes=("left", "right"), **options).fit(X, one_hot)
    assert from_labels.classes_.tolist() == ["left", "right"]
    assert np.allclose(from_labels.predict_proba(X), from_confidences.predict_proba(X))
    with pytest.raises(ValueError, match="label 'up', which is not one of classes"):
        model(classes=("left", "right"), **options).fit(X, np.where(X[:, 0] > 0, "up", "left"))
    with pytest.raises(ValueError, match="one confidence per class: 3 columns, got 2"):
        model(classes=("a", "b", "c"), **options).fit(X, one_hot)
    with pytest.raises(ValueError, match="needs at least two classes, got one class"):
        model(**options).fit(X, np.full(60, "left"))


def test_a_linear_boundary_and_the_monomials_check_the_width_of_the_weights_they_are_given():
    features = (Feature("x0"), Feature("x1"))
    with pytest.raises(ValueError, match="X has 3 features, but LinearBoundary is expecting 2"):
        LinearBoundary(np.ones(2)).fit(np.zeros((1, 3)))
    assert_refuses_wrong_widths(LinearBoundary(np.ones(2)).fit(), 2)
    with pytest.raises(ValueError, match="X has 3 features, but Monomials is expecting 2"):
        Monomials(features).fit().transform(np.zeros((1, 3)))


# --- scikit-learn's estimator checks ------------------------------------------------------------------------------

TWO = (Feature("x0"), Feature("x1"))
EVERYWHERE = Leaf((None, None), 0, 0, None)

ESTIMATORS = [
    KernelLogisticRegression(n_representers=5),
    SoftLabelNetwork(max_iter=100),
    SoftLabelNetwork(hidden=2, max_iter=10, random_state=0),
    SoftLabelKernelLR(n_representers=3, max_iter=100, random_state=0),
    FeatureEncoder(TWO),
    Recipe(TWO),
    Monomials(TWO),
    LinearBoundary(np.array([1.0, -1.0])),
    StolenTree(TWO, (0, 1), [EVERYWHERE], EVERYWHERE),
]

FIXED_WIDTH = ("the width is fixed by the schema (or the given weights), and the check fits or transforms rows of "
               "another width (1 to 10 columns): refusing them is the point")
WIDTH_CHECKS = (
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object", "check_estimators_dtypes",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_fit2d_1feature", "check_fit2d_1sample",
    "check_fit2d_predict1d", "check_fit_score_takes_y", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_n_features_in_after_fitting", "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
)
TRANSFORMER_WIDTH_CHECKS = ("check_transformer_data_not_an_array", "check_transformer_general",
                            "check_transformer_preserve_dtypes")
CONFIDENCES = ("a 2-D y holds confidence vectors, one column per class, so a column of labels is not the same "
               "labels: it is confidences of a single class, which is refused")
GIVEN_WEIGHTS = ("the weights (and so the classes) are given, not learnt: fit learns nothing from y, so the "
                 "classifier checks on learning labels do not apply")
EXPECTED_FAILURES = {
    SoftLabelNetwork: {"check_supervised_y_2d": CONFIDENCES},
    SoftLabelKernelLR: {"check_supervised_y_2d": CONFIDENCES},
    FeatureEncoder: dict.fromkeys(WIDTH_CHECKS + TRANSFORMER_WIDTH_CHECKS, FIXED_WIDTH),
    Recipe: dict.fromkeys(WIDTH_CHECKS + TRANSFORMER_WIDTH_CHECKS, FIXED_WIDTH),
    Monomials: dict.fromkeys(WIDTH_CHECKS + TRANSFORMER_WIDTH_CHECKS + ("check_estimators_nan_inf",), FIXED_WIDTH),
    LinearBoundary: dict.fromkeys(WIDTH_CHECKS + ("check_estimators_nan_inf", "check_supervised_y_2d"), FIXED_WIDTH)
    | dict.fromkeys(("check_classifiers_classes", "check_classifiers_one_label", "check_classifiers_regression_target",
                     "check_classifiers_train"), GIVEN_WEIGHTS),
    StolenTree: dict.fromkeys(WIDTH_CHECKS + ("check_estimators_nan_inf",), FIXED_WIDTH)
    | {"check_n_features_in": "built from its leaves, not fitted: its schema gives n_features_in_ from the start"},
}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda estimator: EXPECTED_FAILURES.get(type(estimator)),
                         xfail_strict=True)
def test_scikit_learn_estimator_checks(estimator, check):
    with threadpool_limits(limits=1, user_api="blas"):  # small fits: extra BLAS threads slow them 20-fold
        check(estimator)
