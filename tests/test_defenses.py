"""The defences of kit.defenses: what they do to answers, to honest users, to attacks, and to counts."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, logit

import kit
from kit.attacks import lowd_meek, path_finding, retraining
from kit.defenses import (
    ClientFlagged,
    GaussianNoise,
    LabelsOnly,
    QueryMonitor,
    QueryRefused,
    RefuseIncomplete,
    ReverseSigmoid,
    Rounding,
    honest_loss,
)


@pytest.fixture(scope="module")
def blobs_softmax(blobs):
    return kit.train_target(blobs, "softmax")


@pytest.fixture(scope="module")
def moons_tree(moons):
    return kit.train_target(moons, "tree", max_depth=5)


def test_noise_perturbs_seeded_and_keeps_counts_exact(moons_logreg, moons):
    rows = moons.X_test[:200]
    api = kit.PredictionAPI(moons_logreg, moons.features, defenses=[GaussianNoise(0.1, random_state=3)],
                            price_per_query=0.01)
    answer = api.query(rows)
    again = kit.PredictionAPI(moons_logreg, moons.features, defenses=[GaussianNoise(0.1, random_state=3)]).query(rows)
    exact = moons_logreg.predict_proba(rows)
    assert np.array_equal(answer.proba, again.proba)
    assert np.allclose(answer.proba.sum(axis=1), 1) and answer.proba.min() >= 0
    assert 0.02 < np.abs(answer.proba - exact).mean() < 0.1
    assert np.array_equal(answer.labels, np.array(api.classes)[answer.proba.argmax(axis=1)])
    api.query(rows[:5])
    assert api.queries_used == len(api.log) == 205 and api.cost == pytest.approx(2.05)
    assert np.array_equal(api.log.X, np.vstack([rows, rows[:5]]))


def test_noise_of_zero_changes_nothing(moons_logreg, moons):
    answer = kit.PredictionAPI(moons_logreg, moons.features, defenses=[GaussianNoise(0)]).query(moons.X_test)
    assert np.array_equal(answer.proba, moons_logreg.predict_proba(moons.X_test))


def test_noise_moves_labels_too_when_the_api_answers_labels_only(moons_logreg, moons):
    api = kit.PredictionAPI(moons_logreg, moons.features, defenses=[LabelsOnly(), GaussianNoise(0.5)])
    answer = api.query(moons.X_test)
    assert answer.proba is None and api.output == "label"
    assert 0 < np.mean(answer.labels != moons_logreg.predict(moons.X_test)) < 0.5


def test_reverse_sigmoid_is_lee_et_al_formula(blobs_softmax, blobs):
    beta, gamma = 0.6, 1.2
    answer = kit.PredictionAPI(blobs_softmax, blobs.features, defenses=[ReverseSigmoid(beta, gamma)]).query(
        blobs.X_test)
    p = blobs_softmax.predict_proba(blobs.X_test)
    expected = np.clip(p - beta * (expit(gamma * logit(np.clip(p, 1e-9, 1 - 1e-9))) - 0.5), 0, 1)
    assert np.allclose(answer.proba, expected / expected.sum(axis=1, keepdims=True))
    assert np.abs(answer.proba - p).max() > 0.05


def test_defences_apply_in_order_and_rounding_last(moons_logreg, moons):
    noise, sigmoid = GaussianNoise(0.05, random_state=1), ReverseSigmoid(0.4, 1.0)
    api = kit.PredictionAPI(moons_logreg, moons.features, defenses=[Rounding(2), noise, sigmoid])
    answer = api.query(moons.X_test[:50])
    expected = ReverseSigmoid(0.4, 1.0).perturb(
        GaussianNoise(0.05, random_state=1).perturb(moons_logreg.predict_proba(moons.X_test[:50])))
    assert api.decimals == 2 and np.array_equal(answer.proba, np.round(expected, 2))


def test_paper_countermeasures_are_the_apis_own_settings(moons_logreg, moons, moons_tree):
    assert kit.PredictionAPI(moons_logreg, moons.features, defenses=[Rounding(3)]).decimals == 3
    assert kit.PredictionAPI(moons_logreg, moons.features, defenses=[LabelsOnly()]).query(moons.X_test).proba is None
    api = kit.PredictionAPI(moons_tree, moons.features, output="leaf", defenses=[RefuseIncomplete()])
    with pytest.raises(ValueError, match="this API answers complete queries only"):
        api.query([[np.nan, 0.0]])
    assert api.queries_used == len(api.log) == 0


BINARY_KEEPERS = [Rounding(0), Rounding(4), LabelsOnly(), RefuseIncomplete(), GaussianNoise(0),
                  ReverseSigmoid(0.9, 0.5), ReverseSigmoid(0.5, 1.5), QueryMonitor(action="flag")]


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(st.floats(-1, 1), st.floats(-1, 1)), min_size=1, max_size=30))
def test_an_honest_user_keeps_the_label_under_every_defence_that_promises_it(moons_logreg, blobs_softmax, moons,
                                                                              blobs, rows):
    for target, dataset in ((moons_logreg, moons), (blobs_softmax, blobs)):
        for defense in BINARY_KEEPERS:
            if not defense.keeps_top1(len(dataset.classes)):
                continue
            answer = kit.PredictionAPI(target, dataset.features, defenses=[defense]).query(rows, client="honest")
            assert np.array_equal(answer.labels, target.predict(np.array(rows))), defense
            if answer.proba is not None:
                error = np.abs(answer.proba - target.predict_proba(np.array(rows))).max()
                assert error <= defense.max_error(len(dataset.classes)) + 1e-12, defense


@settings(max_examples=200, deadline=None)
@given(beta=st.floats(0.01, 3), gamma=st.floats(0.01, 3), n_classes=st.integers(2, 6),
       weights=st.lists(st.floats(1e-6, 1), min_size=6, max_size=6))
def test_reverse_sigmoid_keeps_the_top_class_where_it_promises(beta, gamma, n_classes, weights):
    defense = ReverseSigmoid(beta, gamma)
    proba = np.array(weights[:n_classes])[None, :] / sum(weights[:n_classes])
    if defense.keeps_top1(n_classes) and np.sort(proba[0])[-2] < proba[0].max() - 1e-9:
        answered = defense.perturb(proba)
        assert answered.argmax() == proba.argmax()
        assert np.abs(answered - proba).max() <= defense.max_error(n_classes) + 1e-12


def test_the_promises_say_what_an_honest_user_loses():
    assert Rounding(2).max_error(3) == 0.005 and LabelsOnly().max_error(2) == 1.0
    assert not GaussianNoise(0.01).keeps_top1(2)
    assert ReverseSigmoid(0.5, 1.5).keeps_top1(5) and not ReverseSigmoid(1.0, 0.1).keeps_top1(3)
    assert ReverseSigmoid(0.9, 0.5).keeps_top1(2) and ReverseSigmoid(0.9, 0.5).max_error(2) == 0.45
    assert not ReverseSigmoid(2.0, 2.0).keeps_top1(2)


def test_honest_loss_measures_the_cost(moons_logreg, moons):
    assert honest_loss(moons_logreg, moons.features, moons.X_test, [Rounding(1)]).max_error <= 0.05
    noisy = honest_loss(moons_logreg, moons.features, moons.X_test, [GaussianNoise(0.2)])
    assert 0.8 < noisy.top1_kept < 1 and noisy.mean_error > 0.05
    assert honest_loss(moons_logreg, moons.features, moons.X_test, [LabelsOnly()]).top1_kept == 1.0


def benign_traffic(dataset, n, seed, jitter=0.05):
    """Rows of the data set, none twice, each feature jittered by 5% of its spread."""
    rng = np.random.default_rng(seed)
    rows = np.vstack([dataset.X_train, dataset.X_test])
    X = rows[rng.permutation(len(rows))[:n]]
    return np.clip(X + rng.normal(0, jitter, X.shape) * rows.std(axis=0), -1, 1)


def test_monitor_flags_attacks_and_spares_benign_traffic(moons, moons_logreg, moons_tree):
    # Measured (action "flag"): path finding (top-down) flagged at query 51 of 647; adaptive retraining at 51
    # of 150; Lowd-Meek on breast-cancer-diagnostic at 292 of 1,320; benign clients of 300 rows: 0 of 40 flagged
    # here (0 of 240 over six data sets in the reproduction's defences matrix).
    breast = kit.load_dataset("breast-cancer-diagnostic")
    attacks = {
        "path finding": lambda: path_finding(kit.PredictionAPI(moons_tree, moons.features, output="leaf",
                                                               defenses=[QueryMonitor()])),
        "retraining": lambda: retraining(kit.PredictionAPI(moons_logreg, moons.features, defenses=[QueryMonitor()]),
                                         strategy="adaptive", model="logreg", budget=150),
        "lowd-meek": lambda: lowd_meek(kit.PredictionAPI(kit.train_target(breast, "logreg"), breast.features,
                                                         output="label", defenses=[QueryMonitor()])),
    }
    refused = []
    for family, attack in attacks.items():
        try:
            attack()
        except ClientFlagged:
            refused.append(family)
    assert len(refused) >= 2, refused
    flagged = 0
    for dataset in (moons, breast):
        monitor = QueryMonitor(action="flag")
        for client in range(20):
            monitor.admit(benign_traffic(dataset, 300, client), dataset.features, client)
        flagged += len(monitor.flagged)
    assert flagged / 40 < 0.05


def test_a_refused_client_costs_nothing_and_others_are_served(moons_logreg, moons):
    monitor = QueryMonitor(min_queries=10)
    api = kit.PredictionAPI(moons_logreg, moons.features, defenses=[monitor], price_per_query=0.1)
    line = np.column_stack([np.linspace(-1, 1, 8), np.zeros(8)])
    api.query(line, client="mallory")
    with pytest.raises(ClientFlagged, match="client 'mallory' was flagged .* after 1[0-9] queries; nothing was"):
        api.query(np.column_stack([0.3 + 1e-6 * np.arange(8), np.zeros(8)]), client="mallory")
    assert api.queries_used == len(api.log) == 8 and api.cost == pytest.approx(0.8)
    with pytest.raises(QueryRefused):
        api.query(moons.X_test[:3], client="mallory")
    assert api.queries_used == 8 and "mallory" in monitor.flagged
    api.query(moons.X_test[:3], client="alice")
    assert api.queries_used == len(api.log) == 11 and monitor.queries_seen("alice") == 3


def test_a_throttled_client_waits_and_is_answered(moons_logreg, moons):
    monitor = QueryMonitor(min_queries=10, action="throttle", delay=0.02)
    api = kit.PredictionAPI(moons_logreg, moons.features, defenses=[monitor])
    api.query(np.column_stack([0.3 + 1e-6 * np.arange(20), np.zeros(20)]))
    assert None in monitor.flagged
    start = time.perf_counter()
    api.query(moons.X_test[:10])
    assert time.perf_counter() - start >= 0.2 and api.queries_used == 30


@pytest.mark.parametrize("make, message", [
    (lambda: GaussianNoise(-0.1), "GaussianNoise scale must be a finite number >= 0, got -0.1"),
    (lambda: GaussianNoise(float("nan")), "GaussianNoise scale must be a finite number"),
    (lambda: ReverseSigmoid(beta=0), "ReverseSigmoid beta must be a finite number > 0, got 0"),
    (lambda: ReverseSigmoid(gamma=-1), "ReverseSigmoid gamma must be a finite number > 0"),
    (lambda: Rounding(-1), "Rounding takes an integer number of decimals from 0 to 15, got -1"),
    (lambda: QueryMonitor(action="ban"), "unknown QueryMonitor action 'ban'; choose one of: flag, throttle, refuse"),
    (lambda: QueryMonitor(threshold=1.5), r"threshold is a Shapiro-Wilk W in \(0, 1\), got 1.5"),
    (lambda: QueryMonitor(min_queries=2), "QueryMonitor min_queries must be a whole number >= 3, got 2"),
])
def test_bad_settings_raise_one_line_at_construction(make, message):
    with pytest.raises(ValueError, match=message) as error:
        make()
    assert "\n" not in str(error.value)


def test_bad_api_defences_raise_before_any_query(moons_logreg, moons, moons_tree):
    with pytest.raises(ValueError, match="defenses must be kit.defenses objects .* got 'noise'"):
        kit.PredictionAPI(moons_logreg, moons.features, defenses=["noise"])
    with pytest.raises(ValueError, match=r"Rounding\(decimals=2\) sets decimals=2, but decimals=3 was given too"):
        kit.PredictionAPI(moons_logreg, moons.features, decimals=3, defenses=[Rounding(2)])
    with pytest.raises(ValueError, match="LabelsOnly.* sets output='label', but output='leaf' was given too"):
        kit.PredictionAPI(moons_tree, moons.features, output="leaf", defenses=[LabelsOnly()])
    svm = kit.train_target(moons, "rbf-svm")
    with pytest.raises(ValueError, match="SVC gives no confidences to perturb"):
        kit.PredictionAPI(svm, moons.features, output="label", defenses=[GaussianNoise(0.1)])
