"""The capstone: a target drawn from a seed, hidden behind its API, scored into grade lines a leaderboard ranks."""

import copy
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import BaseEstimator

import kit
from kit import capstone, check
from kit.attacks import retraining
from kit.defenses import Defense

HIDDEN = (BaseEstimator, kit.PredictionAPI, kit.Dataset, Defense)


@pytest.fixture(scope="module")
def moons_challenge():
    return capstone.challenge(4)  # moons, an MLP with confidences, a budget of 100


def attribute(parent, name):
    """``getattr``, or None where reading the attribute fails (a closed database, say)."""
    try:
        return getattr(parent, name)
    except Exception:
        return None


def reachable(root, depth=3):
    """Every object reached from ``root`` by at most ``depth`` steps: an attribute (dunders included) or an item."""
    seen, frontier, found = {id(root)}, [root], []
    for _ in range(depth):
        children = []
        for parent in frontier:
            values = [attribute(parent, name) for name in dir(parent)]
            if isinstance(parent, tuple | list):
                values += list(parent)
            if isinstance(parent, dict):
                values += list(parent.values())
            for value in values:
                if id(value) not in seen:
                    seen.add(id(value))
                    children.append(value)
        found += children
        frontier = children
    return found


def test_the_same_seed_draws_the_same_target_and_grades_the_same_stolen_model_alike():
    lines = []
    for _ in range(2):
        challenge = capstone.challenge(4)
        stolen = retraining(challenge.api, strategy="uniform", model="rbf-svm", budget=40)
        lines.append(challenge.score(stolen, student="alice"))
    assert lines[0] == lines[1]
    assert lines[0].startswith("CAPSTONE seed=4 student=alice agreement_test=") and "queries=40 budget=100" in lines[0]
    assert capstone.challenge(4).brief == capstone.challenge(4).brief


def test_different_seeds_draw_different_hidden_settings():
    drawn = [capstone._draw(seed) for seed in range(30)]
    for setting in ("dataset", "kind", "output", "decimals", "perturbation", "monitor", "budget", "price"):
        assert len({getattr(settings, setting) for settings in drawn}) > 1, setting
    assert len({settings for settings in drawn}) >= 25
    assert all(50 <= settings.budget <= capstone.MOST_QUERIES for settings in drawn)
    with pytest.raises(ValueError, match="seed must be a whole number >= 0, got -1"):
        capstone.challenge(-1)


def test_the_brief_tells_the_output_budget_and_price_but_not_the_data_set(moons_challenge):
    brief = moons_challenge.brief
    assert "confidence of every class" in brief and "Budget: 100 queries at $0.0001 each" in brief
    assert "moons" not in brief and "mlp" not in brief and "The model family is not published." in brief


def test_the_search_of_attribute_paths_finds_the_model_of_a_plain_prediction_api():
    moons = kit.load_dataset("moons")
    plain = kit.PredictionAPI(kit.train_target(moons, "logreg"), moons.features)
    assert any(isinstance(value, BaseEstimator) for value in reachable(plain, depth=1))


@pytest.mark.parametrize("name", ["api", "challenge"])
def test_no_attribute_path_of_depth_3_reaches_the_hidden_target(moons_challenge, name):
    root = moons_challenge if name == "challenge" else moons_challenge.api
    leaks = [type(value).__name__ for value in reachable(root) if isinstance(value, HIDDEN)]
    assert leaks == []
    with pytest.raises(TypeError):
        vars(root)
    assert "Pipeline" not in repr(root) and "MLP" not in repr(root)


def secrets(challenge):
    """The hidden objects, dug out of the challenge's closures as a cheater would: the target, its steps, its API,
    its data set and its defences."""
    cells = [cell.cell_contents for cell in challenge._teacher.__closure__ + challenge.api._door.__closure__]
    hidden = [value for value in cells if isinstance(value, HIDDEN)]
    hidden += [step for value in hidden if hasattr(value, "steps") for _, step in value.steps]
    hidden += [defense for value in hidden if isinstance(value, kit.PredictionAPI) for defense in value.defenses]
    assert any(isinstance(value, kit.PredictionAPI) for value in hidden) and len(hidden) >= 4
    return {id(value) for value in hidden}


def test_neither_an_extraction_nor_the_service_reaches_the_hidden_target():
    challenge = capstone.challenge(30)  # a monitor among the defences
    hidden = secrets(challenge)
    stolen = retraining(challenge.api, strategy="adaptive", model="rbf-svm", budget=30)
    with challenge.serve() as service:
        for root in (challenge, challenge.api, stolen, service):
            assert not hidden & {id(value) for value in reachable(root)}


@pytest.mark.parametrize("copier", [pickle.dumps, copy.copy, copy.deepcopy], ids=lambda f: f.__name__)
def test_the_api_and_the_challenge_refuse_to_be_pickled_or_copied(moons_challenge, copier):
    for root in (moons_challenge, moons_challenge.api):
        with pytest.raises(TypeError, match="cannot be pickled or copied"):
            copier(root)


def test_the_sealed_api_attacks_like_a_prediction_api_and_counts_every_attempt():
    challenge = capstone.challenge(4)
    api = challenge.api
    answer = api.query([[0.0, 0.5]])
    assert answer.proba.shape == (1, 2) and api.queries_used == 1 and len(api.log) == 1
    assert api.remaining == 99 and api.cost == pytest.approx(0.0001)
    with pytest.raises(kit.BudgetExceeded):
        api.query([[0.0, 0.0]] * 100)
    with pytest.raises(AttributeError):
        api.model = "mine"
    stolen = retraining(api, strategy="uniform", model="logreg", budget=20)
    assert "queries=21 budget=100" in challenge.score(stolen, student="bob")


def test_score_refuses_bad_names_models_and_counts(moons_challenge):
    with pytest.raises(ValueError, match="student must be a name"):
        moons_challenge.score(None, student="alice smith")
    with pytest.raises(ValueError, match="expected an Extraction or a fitted model with predict"):
        moons_challenge.score("my model", student="alice")
    with pytest.raises(ValueError, match="queries must be a whole number from 0 to the budget 100"):
        moons_challenge.score(kit.train_target(kit.load_dataset("moons"), "logreg"), student="alice", queries=101)


def test_the_served_target_answers_a_key_and_the_teacher_scores_with_the_ledger():
    challenge = capstone.challenge(4)
    with challenge.serve() as service:
        key = service.create_key("carol", budget=challenge.budget)
        remote = kit.RemoteAPI(service.url, key)
        stolen = retraining(remote, strategy="uniform", model="rbf-svm", budget=40)
        line = challenge.score(stolen, student="carol", queries=service.ledger.usage(key).queries_used)
    assert "queries=40 budget=100" in line and challenge.api.queries_used == 0
    local = capstone.challenge(4)
    assert line == local.score(retraining(local.api, strategy="uniform", model="rbf-svm", budget=40), student="carol")


@pytest.mark.parametrize(("test", "uniform", "queries", "flagged", "expected"), [
    (99.5, 96.0, 50, False, "A+"), (99.5, 96.0, 51, False, "A"), (99.5, 94.0, 10, False, "B+"),
    (95.0, 50.0, 100, False, "B"), (92.0, 99.0, 100, False, "C"), (80.0, 0.0, 100, False, "D"),
    (74.99, 99.0, 1, False, "F"), (99.5, 96.0, 50, True, "B+"), (80.0, 80.0, 100, True, "F"),
])
def test_grades_follow_agreement_thrift_and_the_monitor(test, uniform, queries, flagged, expected):
    assert capstone.grade(test, uniform, queries, 100, flagged=flagged) == expected


percent = st.floats(0, 100)


@given(percent, percent, st.integers(0, 100), st.booleans(), percent, percent, st.integers(0, 100))
def test_a_better_theft_never_gets_a_worse_grade(test, uniform, queries, flagged, more_test, more_uniform, fewer):
    better = (max(test, more_test), max(uniform, more_uniform), min(queries, fewer))
    rank = capstone.GRADES.index
    assert rank(capstone.grade(*better, 100, flagged=False)) <= rank(capstone.grade(test, uniform, queries, 100,
                                                                                     flagged=flagged))


def test_the_served_monitor_flags_a_key_and_costs_it_a_letter():
    challenge = capstone.challenge(30)  # a network on circles behind a query monitor, 300 queries
    with challenge.serve() as service:
        key = service.create_key("erin", budget=challenge.budget)
        stolen = retraining(kit.RemoteAPI(service.url, key), strategy="adaptive", model="rbf-svm", budget=300)
        line = challenge.score(stolen, student="erin", queries=300)
        assert challenge.score(stolen, student="other", queries=300).endswith("flagged=no grade=A")
    assert line.endswith("flagged=yes grade=B") and challenge.api.queries_used == 0


LINES = [
    "CAPSTONE seed=7 student=alice agreement_test=99.12 agreement_uniform=98.70 queries=412 budget=500 "
    "cost=0.0412 flagged=no grade=A",
    "CAPSTONE seed=7 student=bob agreement_test=99.50 agreement_uniform=99.00 queries=200 budget=500 "
    "cost=0.0200 flagged=no grade=A+",
    "CAPSTONE seed=7 student=carol agreement_test=96.00 agreement_uniform=90.00 queries=100 budget=500 "
    "cost=0.0100 flagged=no grade=B+",
    "CAPSTONE seed=7 student=alice agreement_test=90.00 agreement_uniform=90.00 queries=500 budget=500 "
    "cost=0.0500 flagged=no grade=C",
]


def test_the_leaderboard_ranks_the_best_line_of_each_student():
    table = capstone.leaderboard(LINES)
    assert table["student"].tolist() == ["bob", "alice", "carol"]
    assert table.index.tolist() == [1, 2, 3] and table.loc[2, "grade"] == "A" and table.loc[1, "queries"] == 200


@pytest.mark.parametrize(("lines", "message"), [
    (["CAPSTONE seed=7 student=eve grade=A+"], "line 1 is not a capstone grade line"),
    ([LINES[0], LINES[1].replace("student=bob", "student=bob smith")], "line 2 is not a capstone grade line"),
    ([LINES[0].replace("grade=A", "grade=A+")], "line 1 (alice): its figures give grade A, not A+"),
    ([LINES[0], LINES[1].replace("seed=7", "seed=8")], r"the lines come from several seeds \(\[7, 8\]\)"),
])
def test_the_leaderboard_rejects_malformed_forged_and_mixed_lines(lines, message):
    with pytest.raises(ValueError, match=message.replace("(alice)", r"\(alice\)")):
        capstone.leaderboard(lines)


def test_the_exercises_wait_for_an_answer_and_explain_every_choice():
    for exercise in (check.capstone_attack, check.capstone_mlp_queries, check.capstone_reverse_sigmoid):
        assert exercise(None).ok is None
    assert check.capstone_attack("e").message == "expected one of 'a', 'b', 'c', 'd', got 'e'"
    assert [check.capstone_reverse_sigmoid(letter).ok for letter in "abcd"] == [False, True, False, False]
