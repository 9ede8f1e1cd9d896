"""The exercises' self-checks: right answers pass, wrong ones get a hint, none crash, solutions pass."""

import ast
import importlib
import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest

import kit
from kit import check

from . import exercises

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("*.py"))


def run_solution(path, namespace):
    """Execute a solution file like a notebook cell; return the value of its last line (the check's verdict)."""
    module = ast.parse(path.read_text(encoding="utf-8"))
    *body, last = module.body
    exec(compile(ast.Module(body, type_ignores=[]), str(path), "exec"), namespace)
    return eval(compile(ast.Expression(last.value), str(path), "eval"), namespace)


MODULES = {path.stem[2:]: importlib.import_module(f"tests.exercises.{path.stem}")
           for path in sorted(Path(exercises.__file__).parent.glob("nb*.py"))}
CASES = {name: cases for module in MODULES.values() for name, cases in module.CASES.items()}
PUBLIC_CHECKS = sorted(name for name, value in vars(check).items()
                       if inspect.isfunction(value) and value.__module__ == check.__name__ and not name.startswith("_"))


def test_every_public_check_is_tried_with_a_right_and_a_wrong_answer():
    assert sorted(CASES) == PUBLIC_CHECKS


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_check_accepts_a_right_answer_and_rejects_a_wrong_one(name):
    right, wrong = CASES[name]
    accepted, rejected = right(), wrong()
    assert isinstance(accepted, check.Verdict) and accepted.ok is True, accepted
    assert isinstance(rejected, check.Verdict) and rejected.ok is False, rejected


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda path: path.name)
def test_every_solution_passes_its_check(path):
    verdict = run_solution(path, dict(MODULES[path.name[:2]].state()))
    assert isinstance(verdict, check.Verdict) and verdict.ok is True, verdict


def test_every_notebook_after_00_has_three_exercises_and_its_solutions_exist():
    numbered = sorted(path for path in NOTEBOOKS.glob("0*.ipynb") if not path.name.startswith("00"))
    assert len(numbered) >= 6
    for path in numbered:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        code = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
        assert len(re.findall(r"^check\.\w+\(", code, flags=re.MULTILINE)) >= 3, path.name
        loads = re.findall(r"%load (solutions/\w+\.py)", path.read_text(encoding="utf-8"))
        assert all((NOTEBOOKS / name).exists() for name in loads), loads


@pytest.mark.parametrize("verdict", [
    check.logit(None), check.logit_weights(None, None), check.d_plus_one(None),
    check.unknowns(None, "softmax", 2, 3), check.softmax_differences(None, None), check.threshold_search(None),
    check.leaf_count(None, None), check.labels_budget(None, 10, 2), check.boundary_point(None),
    check.rounding_payback(None), check.choice_rounding(None), check.choice_labels_budget(None),
    check.panel_rounding_budget(None), check.choice_agreement_gap(None), check.leaked_rows_prediction(None, None, None),
    check.leaked_rows(None, None), check.inversion_ratio(None, 20, 10, 64, 65),
], ids=lambda verdict: verdict.message[:30])
def test_unanswered_exercises_say_so_without_failing(verdict):
    assert verdict.ok is None and not verdict
    assert repr(verdict).startswith("Not answered yet: replace None with")
    assert "Not answered yet:" in verdict._repr_html_()


def test_wrong_values_get_a_hint():
    verdict = check.unknowns(2, "softmax", d=2, c=3)
    assert verdict.ok is False and repr(verdict).startswith("Not yet. Hint: one weight vector")
    assert check.unknowns(9, "softmax", d=2, c=3).ok is True
    assert check.unknowns(9, "mlp", d=2, c=3).ok is False
    assert check.labels_budget("lots", 10, 2).message.startswith("expected a number, got 'lots'")


def test_functions_that_raise_or_miss_are_wrong_not_errors():
    assert check.logit(lambda p: 1 / 0).message == "your function raised ZeroDivisionError: division by zero"
    assert check.logit(np.log).ok is False
    assert check.logit(3).message == "expected a function, got int"
    assert check.threshold_search(lambda ask, low, high, eps: 0.0).ok is False


def test_a_slow_search_is_told_to_halve():
    def scan(ask, low, high, epsilon):
        x, first = low, ask(low)
        while ask(x) == first:
            x += epsilon / 2
        return x

    verdict = check.threshold_search(scan)
    assert verdict.ok is False and "halve the interval" in verdict.message


def test_wrong_weights_and_rows(moons_logreg):
    assert check.logit_weights((np.zeros(2), 0.0), moons_logreg).ok is False
    assert check.logit_weights("w and b", moons_logreg).message.startswith("expected a pair (w, b)")
    with pytest.raises(ValueError, match="kind must be 'softmax', 'ovr' or 'mlp', got 'tree'"):
        check.unknowns(1, "tree", 2, 2)


def test_leaked_rows_wants_most_of_the_secret_rows(moons):
    target = kit.train_target(moons, "kernel-logreg", n_representers=6)
    rows = target.steps[-1][1].representer_index_
    assert check.leaked_rows(rows[::-1].tolist(), target).ok is True
    assert check.leaked_rows(rows[:4], target).ok is True
    verdict = check.leaked_rows(rows[:3], target)
    assert verdict.ok is False and "3 of 6 found, in 3 rows" in verdict.message
    assert check.leaked_rows(list(range(len(moons.X_train))), target).ok is False


def test_a_choice_explains_the_letter_given():
    options = {"a": (False, "no: the bias is an unknown too."), "b": (True, "yes: d weights and a bias.")}
    assert check._choice(None, options).ok is None
    assert repr(check._choice(" A ", options)) == "Not yet. (a) no: the bias is an unknown too."
    assert check._choice("b", options).ok is True
    assert check._choice("z", options).message == "expected one of 'a', 'b', got 'z'"


def test_a_prediction_runs_the_experiment_only_once_committed():
    runs = []

    def run():
        runs.append(1)
        return 40.0

    def ask(predicted):
        return check._prediction(predicted, run, close=lambda p, m: abs(p - m) <= 5, explain=lambda m: "Because.")

    assert ask(None).ok is None and ask("many").ok is False and runs == []
    assert ask(38).ok is True and ask(10).message == "you predicted 10, the experiment gave 40. Because."
