import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kit
from kit.features import CATEGORICAL, Feature


@pytest.fixture
def api(moons_logreg, moons):
    return kit.PredictionAPI(moons_logreg, moons.features, budget=20, price_per_query=0.0001)


def test_answers_labels_and_confidences_like_the_model(api, moons_logreg, moons):
    answer = api.query(moons.X_test[:5])
    assert np.array_equal(answer.labels, moons_logreg.predict(moons.X_test[:5]))
    assert np.allclose(answer.proba, moons_logreg.predict_proba(moons.X_test[:5]))
    assert answer.nodes is None
    assert api.classes == (0, 1)


def test_one_row_is_a_batch_of_one(api, moons):
    assert len(api.query(moons.X_test[0])) == 1
    assert api.queries_used == 1


def test_counts_cost_and_log_are_exact(api, moons):
    api.query(moons.X_test[:3])
    api.query(moons.X_test[3:10])
    assert api.queries_used == len(api.log) == 10
    assert api.cost == pytest.approx(0.001)
    assert np.array_equal(api.log.X, moons.X_test[:10])
    assert len(api.log[2:5]) == 3 and np.array_equal(api.log[4].X, moons.X_test[4:5])
    assert api.remaining == 10


def test_budget_refuses_the_whole_batch_and_changes_nothing(api, moons):
    api.query(moons.X_test[:18])
    with pytest.raises(kit.BudgetExceeded, match="query budget of 20 exceeded: 18 used, this batch asks 3 more"):
        api.query(moons.X_test[18:21])
    assert api.queries_used == len(api.log) == 18
    api.query(moons.X_test[18:20])
    assert api.queries_used == 20


def test_labels_only_hides_confidences(moons_logreg, moons):
    answer = kit.PredictionAPI(moons_logreg, moons.features, output="label").query(moons.X_test[:4])
    assert answer.proba is None and len(answer.labels) == 4


@pytest.mark.parametrize("decimals", [0, 2, 5])
def test_decimals_round_every_confidence(moons_logreg, moons, decimals):
    proba = kit.PredictionAPI(moons_logreg, moons.features, decimals=decimals).query(moons.X_test[:50]).proba
    assert np.array_equal(proba, np.round(proba, decimals))
    assert np.abs(proba - moons_logreg.predict_proba(moons.X_test[:50])).max() <= 0.5 * 10.0**-decimals + 1e-12


BAD_ROWS = [
    ([[0.1, 0.2, 0.3]], "expected 2 features per row, got 3"),
    ([[0.1, np.nan]], "missing value .* this API answers complete queries only"),
    ([[0.1, None]], "missing value"),
    ([[0.1, np.inf]], "finite"),
    ([["a", "b"]], "queries must be numbers"),
    (np.zeros((2, 2, 2)), "2-D batch"),
    (np.empty((0, 2)), "a query needs at least one row; got an empty batch"),
]


@pytest.mark.parametrize("rows, message", BAD_ROWS)
def test_bad_rows_get_one_line_and_cost_nothing(api, rows, message):
    api.query([[0.0, 0.0]])
    with pytest.raises(ValueError, match=message) as error:
        api.query(rows)
    assert "\n" not in str(error.value)
    assert api.queries_used == len(api.log) == 1


BAD_SETTINGS = [
    ({"budget": 0}, "budget must be None .* got 0"),
    ({"budget": -3}, "budget must be None .* got -3"),
    ({"budget": 2.5}, "budget must be"),
    ({"budget": True}, "budget must be"),
    ({"decimals": -1}, "decimals must be None .* from 0 to 15, got -1"),
    ({"decimals": 16}, "decimals must be"),
    ({"decimals": 1.5}, "decimals must be"),
    ({"output": "probabilities"}, "unknown output kind 'probabilities'; choose one of: label, proba, leaf"),
    ({"output": "leaf"}, "output='leaf' needs a decision tree target; this one is LogisticRegression"),
    ({"price_per_query": -0.1}, "price_per_query must be"),
    ({"price_per_query": float("nan")}, "price_per_query must be"),
]


@pytest.mark.parametrize("settings_, message", BAD_SETTINGS)
def test_bad_settings_get_one_line(moons_logreg, moons, settings_, message):
    with pytest.raises(ValueError, match=message) as error:
        kit.PredictionAPI(moons_logreg, moons.features, **settings_)
    assert "\n" not in str(error.value)


def test_a_model_without_confidences_answers_labels_only(moons):
    svm = kit.train_target(moons, "rbf-svm")
    with pytest.raises(ValueError, match="SVC gives no confidences; use output='label'"):
        kit.PredictionAPI(svm, moons.features)
    assert len(kit.PredictionAPI(svm, moons.features, output="label").query([[0, 0]])) == 1


def test_tree_answers_the_node_where_an_incomplete_query_stops(moons):
    tree = kit.train_target(moons, "tree", max_depth=3)
    api = kit.PredictionAPI(tree, moons.features, output="leaf")
    root_feature = tree[-1].tree_.feature[0]
    row = [0.3, 0.3]
    row[root_feature] = None
    assert api.query([row]).nodes.tolist() == [0]
    complete = api.query(moons.X_test[:20])
    assert np.array_equal(complete.nodes, tree[-1].apply(moons.X_test[:20]))
    assert np.allclose(complete.proba, tree.predict_proba(moons.X_test[:20]))


def test_categorical_codes_are_checked():
    features = (Feature("colour", CATEGORICAL, categories=("red", "blue")), Feature("size"))
    X = np.array([[0, -0.5], [1, 0.5], [1, 0.9], [0, -0.9]])
    model = kit.targets.make_pipeline(kit.features.FeatureEncoder(features), kit.targets.LogisticRegression())
    model.fit(X, [0, 1, 1, 0])
    api = kit.PredictionAPI(model, features)
    with pytest.raises(ValueError, match="'colour' is categorical: expected an integer code 0..1, got 2"):
        api.query([[2, 0.0]])
    with pytest.raises(ValueError, match="got 0.5"):
        api.query([[0.5, 0.0]])
    assert api.queries_used == 0


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(st.integers(min_value=0, max_value=12), max_size=12), budget=st.integers(1, 40))
def test_counts_log_and_budget_agree_for_any_sequence_of_batches(moons_logreg, moons, batches, budget):
    api = kit.PredictionAPI(moons_logreg, moons.features, budget=budget, price_per_query=0.5)
    answered = 0
    for size in batches:
        try:
            answered += len(api.query(moons.X_test[:size]))
        except kit.BudgetExceeded:
            assert answered + size > budget
        except ValueError as error:
            assert size == 0 and "empty batch" in str(error)
        assert api.queries_used == len(api.log) == answered == len(api.log.X) <= budget
        assert api.cost == 0.5 * answered


def test_threads_sharing_one_api_never_overshoot_its_budget(moons_logreg, moons):
    api = kit.PredictionAPI(moons_logreg, moons.features, budget=1000, price_per_query=0.25)
    answered = [0] * 16

    def client(i):
        rng = np.random.default_rng(i)
        size = 5
        while size:
            try:
                answered[i] += len(api.query(moons.X_test[: rng.integers(1, size + 1)]))
            except kit.BudgetExceeded:
                size -= 1  # near the limit: smaller batches until even one row is refused

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(answered) == api.queries_used == len(api.log) == len(api.log.labels) == 1000
    assert api.cost == 250.0


def test_an_answer_that_fails_costs_nothing(moons_logreg, moons, monkeypatch):
    api = kit.PredictionAPI(moons_logreg, moons.features, budget=10, price_per_query=1.0)

    def fail(X, *, client=None):
        raise MemoryError("the model broke")

    monkeypatch.setattr(api, "answer", fail)
    with pytest.raises(MemoryError):
        api.query(moons.X_test[:4])
    assert api.queries_used == len(api.log) == 0 and api.remaining == 10 and api.cost == 0
