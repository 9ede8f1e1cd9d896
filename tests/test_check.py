"""The exercises' self-checks: right answers pass, wrong ones get a hint, none crash, solutions pass."""

import ast
import re
from pathlib import Path

import numpy as np
import pytest

import kit
from kit import check

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("*.py"))


def run_solution(path, namespace):
    """Execute a solution file like a notebook cell; return the value of its last line (the check's verdict)."""
    module = ast.parse(path.read_text(encoding="utf-8"))
    *body, last = module.body
    exec(compile(ast.Module(body, type_ignores=[]), str(path), "exec"), namespace)
    return eval(compile(ast.Expression(last.value), str(path), "eval"), namespace)


@pytest.fixture(scope="module")
def notebook_state(moons, blobs, moons_logreg):
    """The variables the notebooks define before their exercises."""
    tree_data = kit.load_dataset("moons")
    tree = kit.train_target(tree_data, "tree", max_depth=3)
    leaf_api = kit.PredictionAPI(tree, tree_data.features, output="leaf")
    leaf_api.query(kit.sample_uniform(tree_data.features, 400, random_state=0))
    softmax = kit.train_target(blobs, "softmax")
    kernel = kit.train_target(moons, "kernel-logreg", n_representers=6)
    return {
        "01": {"api": kit.PredictionAPI(moons_logreg, moons.features), "target": moons_logreg},
        "02": {"api": kit.PredictionAPI(softmax, blobs.features), "target": softmax},
        "03": {"bottom_up": kit.Extraction.from_api(tree, leaf_api), "target": tree},
        "06": {"extraction": kit.Extraction(None, 0, 0.0, None, {"representers": kernel[-1].representers_}),
               "target": kernel, "digits": moons},
    }


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda path: path.name)
def test_every_solution_passes_its_check(path, notebook_state):
    verdict = run_solution(path, dict(notebook_state.get(path.name[:2], {})))
    assert isinstance(verdict, check.Verdict) and verdict.ok is True, verdict


def test_every_notebook_after_00_has_two_exercises_with_solutions():
    solved = [path.name[:2] for path in SOLUTIONS]
    notebooks = sorted(path.name[:2] for path in NOTEBOOKS.glob("*.ipynb") if not path.name.startswith("00"))
    assert notebooks and all(solved.count(number) >= 2 for number in notebooks)
    for number in notebooks:
        text = next(NOTEBOOKS.glob(f"{number}_*.ipynb")).read_text(encoding="utf-8")
        loads = re.findall(r"%load (solutions/\w+\.py)", text)
        assert len(loads) >= 2 and all((NOTEBOOKS / name).exists() for name in loads), loads


@pytest.mark.parametrize("verdict", [
    check.logit(None), check.logit_weights(None, None), check.queries_for_binary_lr(None, 2),
    check.unknowns(None, "softmax", 2, 3), check.softmax_differences(None, None), check.threshold_search(None),
    check.leaf_count(None, None), check.labels_budget(None, 10, 2), check.boundary_point(None),
    check.rounding_error(None, 2), check.extraction_cost(None, 10, 0.1), check.break_even(None, 10),
    check.kernel_unknowns(None, 20, 64, 10), check.leaked_rows(None, None),
], ids=lambda verdict: verdict.message[:30])
def test_unanswered_exercises_say_so_without_failing(verdict):
    assert verdict.ok is None and not verdict
    assert repr(verdict).startswith("Not answered yet: replace None with")
    assert "Not answered yet:" in verdict._repr_html_()


def test_wrong_values_get_a_hint():
    verdict = check.queries_for_binary_lr(2, d=2)
    assert verdict.ok is False and repr(verdict).startswith("Not yet. Hint: count the unknowns")
    assert check.unknowns(9, "softmax", d=2, c=3).ok is True
    assert check.unknowns(9, "mlp", d=2, c=3).ok is False
    assert check.extraction_cost("lots", 10, 0.1).message.startswith("expected a number, got 'lots'")
    assert check.rounding_error(0.01, decimals=2).ok is False


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
