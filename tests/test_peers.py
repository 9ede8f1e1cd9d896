"""kit.peers.art: ART's extraction attacks through a kit API, counted by the kit, and the peers table."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

import kit
from kit.features import CATEGORICAL, Feature, FeatureEncoder

peers = pytest.importorskip("kit.peers.art", reason="ART is not installed (pip install -e .[peers])")
from art.attacks.extraction import CopycatCNN, FunctionallyEquivalentExtraction, KnockoffNets  # noqa: E402
from art.estimators.classification import BlackBoxClassifier  # noqa: E402


@pytest.fixture
def api(moons, moons_logreg):
    return kit.PredictionAPI(moons_logreg, moons.features)


def test_the_three_line_example_steals_moons(moons, moons_logreg, api):
    stolen = peers.extract(KnockoffNets, api, nb_stolen=300)
    assert isinstance(stolen, kit.Extraction) and stolen.queries == api.queries_used == len(stolen.log) == 300
    assert stolen.info == {"peer": "KnockoffNets", "nb_stolen": 300, "complete": True}
    assert kit.agreement(moons_logreg, stolen.model, moons).test >= 0.95


def test_the_victim_is_a_black_box_whose_every_row_is_a_counted_query(api, moons):
    victim = peers.victim(api)
    assert isinstance(victim, BlackBoxClassifier)
    answers = victim.predict(moons.X_test[:7], batch_size=2)  # ART's batches do not change the count
    assert api.queries_used == 7 and answers.dtype == np.float64
    assert np.array_equal(answers, api.log.proba)


def test_a_labels_only_api_answers_one_hot(moons, moons_logreg):
    api = kit.PredictionAPI(moons_logreg, moons.features, output="label")
    answers = peers.victim(api).predict(moons.X_test[:20])
    expected = moons_logreg.predict(moons.X_test[:20])
    assert np.array_equal(np.asarray(api.classes)[answers.argmax(axis=1)], expected)
    assert np.array_equal(answers.sum(axis=1), np.ones(20))
    with pytest.raises(ValueError, match="labels only"):
        peers.victim(api, logits=True)


def test_logits_are_float64_centred_log_confidences(api, moons):
    logits = peers.victim(api, logits=True).predict(moons.X_test[:5])
    log_p = np.log(api.log.proba)
    assert logits.dtype == np.float64
    np.testing.assert_array_equal(logits, log_p - log_p.mean(axis=1, keepdims=True))  # float32 would not be equal


def test_the_api_count_is_reported_not_arts_cap(api, moons):
    stolen = peers.extract(CopycatCNN, api, pool=moons.X_test[:40], nb_stolen=300)
    assert stolen.queries == api.queries_used == 40 and stolen.info["nb_stolen"] == 300


def test_art_draws_are_seeded_and_the_global_state_is_given_back(moons, moons_logreg):
    logs = []
    for _ in range(2):
        np.random.seed(123)  # noqa: NPY002 - the legacy global generator is what ART draws from
        before = np.random.get_state()[1].copy()  # noqa: NPY002
        api = kit.PredictionAPI(moons_logreg, moons.features)
        peers.extract(KnockoffNets, api, pool=200, nb_stolen=50, random_state=5)
        assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
        logs.append(api.log.X)
    assert np.array_equal(*logs)
    other = kit.PredictionAPI(moons_logreg, moons.features)
    peers.extract(KnockoffNets, other, pool=200, nb_stolen=50, random_state=6)
    assert not np.array_equal(other.log.X, logs[0])


def test_the_thief_drops_network_arguments_and_encodes_categories():
    rng = np.random.RandomState(0)
    features = (Feature("x1"), Feature("colour", CATEGORICAL, categories=("r", "g", "b")))
    X = kit.sample_uniform(features, 600, rng)
    y = (X[:, 0] + np.choose(X[:, 1].astype(int), [0.8, -0.8, 0.0]) > 0).astype(int)
    dataset = kit.Dataset("toy", X[:400], y[:400], X[400:], y[400:], features, (0, 1))
    target = kit.train_target(dataset, "logreg")
    api = kit.PredictionAPI(target, features, output="label")
    thief = peers.make_thief(api)
    thief.fit(X[:5], np.eye(2)[y[:5]], batch_size=1, nb_epochs=10, verbose=False)  # what ART 1.20 passes
    stolen = peers.extract(KnockoffNets, api, thief=thief, nb_stolen=300)
    assert isinstance(stolen.model.estimator.model[0], FeatureEncoder)
    assert stolen.model.estimator.model[-1].coef_.shape == (1, 4)  # x1 and three one-hot columns
    assert kit.agreement(target, stolen.model, dataset).test >= 0.95


def test_a_thief_that_saw_one_class_predicts_it(api, moons):
    thief = peers.make_thief(api)
    thief.fit(moons.X_test[:3], np.array([[0.0, 1.0]] * 3))
    assert np.array_equal(thief.predict(moons.X_test[:4]), np.array([[0.0, 1.0]] * 4))


def test_rows_outside_the_box_are_refused_clipped_or_answered(api):
    outside = np.array([[3.0, 0.5]])
    with pytest.raises(ValueError, match="outside its range"):
        peers.victim(api).predict(outside)
    assert api.queries_used == 0
    peers.victim(api, out_of_range="clip").predict(outside)
    peers.victim(api, out_of_range="answer").predict(outside)
    assert api.queries_used == 2 and np.array_equal(api.log.X, [[1.0, 0.5], [3.0, 0.5]])


def test_a_nan_row_from_arts_line_search_is_refused_before_it_is_charged(moons):
    target = kit.train_target(moons, "mlp", activation="relu", hidden_layer_sizes=(4,))
    api = kit.PredictionAPI(target, moons.features)
    with pytest.raises(ValueError, match="NaN"):  # its confidences saturate far outside the box
        peers.extract(FunctionallyEquivalentExtraction, api, pool=10, out_of_range="answer", num_neurons=4)
    assert 0 < api.queries_used == len(api.log) and not np.isnan(api.log.X).any()
    fresh = kit.PredictionAPI(target, moons.features)
    with pytest.raises(ValueError, match="outside its range"):  # by default the victim keeps to the box
        peers.extract(FunctionallyEquivalentExtraction, fresh, pool=10, num_neurons=4)
    assert fresh.queries_used == 0


def test_settings_and_budget_are_checked_before_the_first_query(moons, moons_logreg):
    api = kit.PredictionAPI(moons_logreg, moons.features, budget=100)
    for bad, match in [({"attack": "KnockoffNets"}, "ART extraction attack class"),
                       ({"nb_stolen": 300}, "more than the API has left"),
                       ({"random_state": -1}, "random_state"),
                       ({"pool": 0}, "pool"),
                       ({"out_of_range": "wrap"}, "out-of-range")]:
        with pytest.raises(ValueError, match=match):
            peers.extract(**{"attack": KnockoffNets, "api": api, "nb_stolen": 50, **bad})
    assert api.queries_used == 0
    with pytest.raises(ValueError, match="quick"):
        peers.compare(quick="yes")


def test_compare_quick_gives_well_formed_rows():
    rows = peers.compare(quick=True)
    keys = ["target", "answers", "peer", "budget", "kit_attack", "kit_queries", "kit_test", "kit_uniform",
            "peer_queries", "peer_test", "peer_uniform", "peer_queries_to_match", "note"]
    assert rows and all(list(row) == keys for row in rows)
    assert {row["target"] for row in rows} == {"moons logreg", "iris softmax"}
    for row in rows:
        assert row["answers"] == "confidences" and row["peer"] in ("KnockoffNets", "CopycatCNN")
        assert row["budget"] == row["kit_queries"] == row["peer_queries"]
        assert all(0 <= row[key] <= 1 for key in ("kit_test", "kit_uniform", "peer_test", "peer_uniform"))
        match = row["peer_queries_to_match"]
        assert match is None or row["budget"] <= match <= peers.MATCH_CAP[True]
    assert rows[0]["kit_test"] == 1.0  # equation solving is exact on moons


def test_compare_is_deterministic_for_a_seed(monkeypatch):
    monkeypatch.setattr(peers, "CASES", peers.CASES[:1])
    monkeypatch.setattr(peers, "MATCH_CAP", {True: 24, False: 24})
    assert peers.compare(quick=True) == peers.compare(quick=True)


def test_a_network_thief_is_a_scikit_learn_network(api):
    thief = peers.make_thief(api, MLPClassifier(hidden_layer_sizes=(3,), max_iter=50))
    assert thief.model[-1].hidden_layer_sizes == (3,) and thief.nb_classes == 2


def test_rows_reach_the_api_in_float64(api):
    row = np.array([[0.1 + 1e-12, -0.3]])
    peers.victim(api).predict(row)
    assert np.array_equal(api.log.X, row)  # float32 would have rounded it
