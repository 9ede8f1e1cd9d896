"""Decision-tree path finding (paper section 4.2): exact recovery, duplicate ids, budgets, bad input."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import kit
from kit.attacks import StolenTree, UncertifiedWarning, path_finding, plot_leaves
from kit.features import Feature, sample_uniform

from .conftest import needs_real_data

METHODS = ("top-down", "bottom-up")


def _dataset(name, features, X, y, classes):
    return kit.Dataset(name, X[:400], y[:400], X[400:], y[400:], tuple(features), classes)


@pytest.fixture(scope="module")
def mixed():
    """Categorical and continuous features: what BigML's trees take."""
    features = (
        Feature("colour", "categorical", categories=("red", "green", "blue", "yellow")),
        Feature("size"),
        Feature("shape", "categorical", categories=("round", "square", "star")),
    )
    X = sample_uniform(features, 600, random_state=0)
    y = np.where((X[:, 0] == 1) | ((X[:, 1] > 0.3) & (X[:, 2] != 2)) | (X[:, 1] < -0.6), "yes", "no")
    return _dataset("mixed", features, X, y, ("no", "yes"))


@pytest.fixture(scope="module")
def quadrants():
    """The XOR of two signs: a tree whose leaves share BigML ids once confidences are rounded."""
    rng = np.random.RandomState(0)
    corners = [(-0.5, -0.5, "a", 30), (-0.5, 0.5, "b", 10), (0.5, -0.5, "b", 10), (0.5, 0.5, "a", 30)]
    X = np.vstack([rng.uniform(-0.4, 0.4, (n, 2)) + (x, y) for x, y, _, n in corners])
    y = np.concatenate([[label] * n for *_, label, n in corners])
    features = (Feature("x1"), Feature("x2"))
    return kit.Dataset("quadrants", X, y, X, y, features, ("a", "b"))


def _steal(dataset, method, *, kind="tree", epsilon=1e-6, api_options=None, **params):
    target = kit.train_target(dataset, kind, **params)
    api = kit.PredictionAPI(target, dataset.features, output="leaf", **(api_options or {}))
    return target, api, path_finding(api, method=method, epsilon=epsilon)


@pytest.mark.parametrize("method", METHODS)
def test_exact_recovery_of_a_continuous_tree(moons, method):
    target, _, extraction = _steal(moons, method, max_depth=6)
    agreement = kit.agreement(target, extraction.model, moons)
    assert (agreement.test, agreement.uniform, agreement.tv_uniform) == (1.0, 1.0, 0.0)
    assert extraction.model.n_leaves == target[-1].get_n_leaves()
    assert extraction.info["complete"]


@pytest.mark.parametrize("method", METHODS)
def test_exact_recovery_of_a_tree_with_categorical_features(mixed, method):
    target, _, extraction = _steal(mixed, method)
    agreement = kit.agreement(target, extraction.model, mixed)
    assert (agreement.test, agreement.uniform) == (1.0, 1.0)
    assert extraction.model.n_leaves == target[-1].get_n_leaves()


@needs_real_data()
@pytest.mark.parametrize("method", METHODS)
def test_exact_recovery_on_steak(method):
    steak = kit.load_dataset("steak")
    target, _, extraction = _steal(steak, method, max_depth=8)
    agreement = kit.agreement(target, extraction.model, steak)
    assert (agreement.test, agreement.uniform) == (1.0, 1.0)


def test_top_down_needs_fewer_queries_than_bottom_up(mixed):
    queries = {method: _steal(mixed, method)[2].queries for method in METHODS}
    assert queries["top-down"] < queries["bottom-up"]


@pytest.mark.parametrize("method", METHODS)
def test_regression_trees_are_recovered_exactly(moons, method):
    values = kit.Dataset("moons-values", moons.X_train, moons.X_train.sum(axis=1), moons.X_test,
                         moons.X_test.sum(axis=1), moons.features, ())
    target, _, extraction = _steal(values, method, kind="regression-tree", max_depth=4)
    assert np.array_equal(extraction.model.predict(moons.X_test), target.predict(moons.X_test))
    assert not hasattr(extraction.model, "predict_proba")


def test_bigml_ids_are_label_and_confidence_pairs_and_repeat(quadrants):
    target = kit.train_target(quadrants, "tree")
    api = kit.PredictionAPI(target, quadrants.features, output="leaf", node_ids="bigml", decimals=1)
    ids = set(api.query(quadrants.X_train).nodes.tolist())
    assert all(label in ("a", "b") and 0 < confidence < 1 for label, confidence in ids)
    assert len(ids) < target[-1].get_n_leaves()


@pytest.mark.parametrize("method", METHODS)
def test_duplicate_ids_are_told_apart_by_the_leaves_predicates(quadrants, method):
    target, _, extraction = _steal(quadrants, method, api_options={"node_ids": "bigml", "decimals": 1})
    assert extraction.model.n_leaves == target[-1].get_n_leaves()
    assert extraction.info["complete"] and extraction.info["certified"]
    assert len({leaf.node for leaf in extraction.model.leaves}) < extraction.model.n_leaves
    agreement = kit.agreement(target, extraction.model, quadrants)
    assert (agreement.test, agreement.uniform) == (1.0, 1.0)


@pytest.mark.parametrize("method", METHODS)
def test_colliding_ids_that_make_the_map_wrong_are_reported(moons, method):
    """At 0 decimals a BigML id is a label and a confidence of 0 or 1: nodes far apart share ids, walks miss splits."""
    with pytest.warns(UncertifiedWarning, match="came back with another identifier") as warned:
        target, _, extraction = _steal(moons, method, max_depth=6, api_options={"node_ids": "bigml", "decimals": 0})
    assert extraction.model.n_leaves < target[-1].get_n_leaves()
    assert kit.agreement(target, extraction.model, moons).test < 0.95
    assert extraction.info["complete"] and not extraction.info["certified"]
    assert extraction.info["problems"] and "path finding not certified" in str(warned[0].message)


@needs_real_data()
def test_colliding_ids_on_steak_are_reported():
    """The review's case: BigML ids at 0 decimals, top-down, 237 leaves found for a 121-leaf tree."""
    steak = kit.load_dataset("steak")
    with pytest.warns(UncertifiedWarning, match="came back with another identifier"):
        target, _, extraction = _steal(steak, "top-down", epsilon=1e-3,
                                       api_options={"node_ids": "bigml", "decimals": 0})
    assert extraction.model.n_leaves != target[-1].get_n_leaves()
    assert extraction.info["complete"] and not extraction.info["certified"]


def test_the_node_identity_oracle_stops_at_any_one_hot_column_of_a_missing_feature(mixed):
    target = kit.train_target(mixed, "tree")
    tree = target[-1].tree_
    api = kit.PredictionAPI(target, mixed.features, output="leaf")
    from_feature = np.repeat(np.arange(3), [4, 1, 3])  # encoded column -> raw feature
    for row in mixed.X_test[:20]:
        incomplete = row.copy()
        incomplete[0] = np.nan
        path = target[-1].decision_path(target[0].transform(row[None, :]).astype(np.float32)).indices
        expected = next(node for node in path if tree.children_left[node] < 0 or from_feature[tree.feature[node]] == 0)
        assert api.query(incomplete).nodes[0] == expected


def test_top_down_needs_an_api_that_takes_incomplete_queries(mixed):
    target = kit.train_target(mixed, "tree")
    api = kit.PredictionAPI(target, mixed.features, output="leaf", incomplete=False)
    with pytest.raises(ValueError, match="top-down path finding needs incomplete queries"):
        path_finding(api, method="top-down")
    assert path_finding(api, method="bottom-up").info["complete"]


@pytest.mark.parametrize(("options", "message"), [
    ({"method": "sideways"}, "unknown method 'sideways'; choose one of: top-down, bottom-up"),
    ({"epsilon": 0}, "epsilon must be a number between 0 and 1"),
    ({"budget": -3}, "budget must be None"),
])
def test_bad_settings_get_one_line_errors(mixed, options, message):
    target = kit.train_target(mixed, "tree")
    with pytest.raises(ValueError, match=message):
        path_finding(kit.PredictionAPI(target, mixed.features, output="leaf"), **options)
    with pytest.raises(ValueError, match="needs node identifiers"):
        path_finding(kit.PredictionAPI(target, mixed.features, output="proba"))


@pytest.mark.parametrize("method", METHODS)
def test_the_budget_is_never_exceeded_and_a_partial_tree_comes_back(moons, method):
    target = kit.train_target(moons, "tree", max_depth=6)
    api = kit.PredictionAPI(target, moons.features, output="leaf")
    partial = path_finding(api, method=method, budget=60)
    assert partial.queries <= 60 and not partial.info["complete"]
    assert kit.agreement(target, partial.model, moons).test > 0.5
    capped = kit.PredictionAPI(target, moons.features, output="leaf", budget=45)
    assert path_finding(capped, method=method).queries <= 45


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_queries_and_tree(mixed, method):
    first, second = (_steal(mixed, method, epsilon=1e-3)[2] for _ in range(2))
    assert np.array_equal(first.log.X, second.log.X, equal_nan=True)
    assert first.model.rules() == second.model.rules()


def test_rules_steps_and_the_leaf_plot_show_the_attack(moons, mixed):
    _, _, extraction = _steal(mixed, "top-down")
    model = extraction.model
    assert isinstance(model, StolenTree)
    rules = model.rules().splitlines()
    assert len(rules) == model.n_leaves and any("colour = green" in rule for rule in rules)
    steps = extraction.info["steps"]
    assert [step["leaf"] for step in steps] == list(range(model.n_leaves))
    assert [step["queries"] for step in steps] == sorted(step["queries"] for step in steps)
    assert steps[-1]["queries"] <= extraction.queries

    target, _, extraction = _steal(moons, "bottom-up", max_depth=3)
    plot = kit.plot_boundaries(target, extraction.model, moons, resolution=50)
    ax = plot_leaves(extraction.model, ax=plot.ax, n_leaves=3)
    assert len(ax.patches) == 3
    with pytest.raises(ValueError, match="2 continuous features"):
        plot_leaves(model)
    plt.close("all")


def test_plot_leaves_draws_leaves_that_leave_a_feature_free():
    circles = kit.load_dataset("circles")
    tree = kit.train_target(circles, "tree", max_depth=3)
    stolen = path_finding(kit.PredictionAPI(tree, circles.features, output="leaf")).model
    assert any(None in leaf.region for leaf in stolen.leaves)
    ax = plot_leaves(stolen)
    assert len(ax.patches) == stolen.n_leaves
    plt.close(ax.figure)
