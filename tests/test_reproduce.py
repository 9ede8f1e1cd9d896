"""``python -m kit reproduce``: the comparison with the paper (ratio, marks, limit), the report, and a quick run."""

import importlib.machinery
import re
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path

import pytest

import kit
from kit.__main__ import main as kit_main
from kit.attacks import UncertifiedWarning
from kit.reproduce import EXPERIMENTS, Config, peers, reproduce, run_experiment
from kit.reproduce.core import (
    ABOVE_LIMIT,
    SHORT_OF_PAPER,
    UNAVAILABLE,
    Job,
    Section,
    Table,
    above_limit,
    falls_short,
    marks,
    ratio,
    times,
)
from kit.reproduce.report import BEGIN, END, count_marks, rewrite_readme, section_markdown

ROOT = Path(__file__).resolve().parents[1]
QUICK_REPORT = ROOT / "reproduction" / "quick"


# --- the comparison with the paper and with the information limit -----------------------------------------------


def test_ratio_is_kit_over_paper_and_undefined_without_a_paper_figure():
    assert ratio(3, 2) == 1.5
    assert ratio(1.0, 0.0) is None and ratio(None, 2) is None and ratio(2, None) is None
    assert ratio(float("nan"), 1) is None
    assert times(ratio(1112, 557)) == "x2" and times(None) == "-"


@pytest.mark.parametrize(("kit_value", "paper", "better", "short"), [
    (0.0, 0.0, "lower", False),  # both exact
    (0.0002, 0.0, "lower", True),  # two rows in 10,000 where the paper is exact
    (0.00005, 0.0, "lower", False),  # within the 1e-4 slack
    (0.0105, 0.01, "lower", False),  # within 10%
    (0.0125, 0.01, "lower", True),
    (1112, 557, "lower", True),  # queries
    (1.0, 0.9817, "higher", False),  # agreement above the paper's
    (0.7204, 0.9817, "higher", True),
    (0.9988, 1.0, "higher", True),  # 0.12% of disagreement where the paper has none
    (None, 0.5, "lower", False),  # nothing to compare
    (0.5, None, "higher", False),
])
def test_the_kit_falls_short_when_its_error_exceeds_the_papers_beyond_the_slack(kit_value, paper, better, short):
    assert falls_short(kit_value, paper, better) is short


def test_falls_short_refuses_an_unknown_direction():
    with pytest.raises(ValueError, match="better must be"):
        falls_short(1, 2, "up")


def test_limit_and_marks():
    assert above_limit(1112, 557) and not above_limit(557, 557) and not above_limit(None, 557)
    assert marks((True, SHORT_OF_PAPER), (True, ABOVE_LIMIT)) == f"{SHORT_OF_PAPER} {ABOVE_LIMIT}"
    assert marks((False, SHORT_OF_PAPER), (True, ABOVE_LIMIT)) == ABOVE_LIMIT
    assert marks((False, SHORT_OF_PAPER)) == ""


def test_a_table_checks_its_rows_and_says_when_data_is_unavailable():
    table = Table("t", ["data set", "model", "queries", "mark"])
    table.add("moons", "logreg", 3, "")
    table.unavailable("adult-income", "logreg")
    with pytest.raises(ValueError, match="needs 4 cells, got 2"):
        table.add("moons", 3)
    assert table.markdown().splitlines() == ["| data set | model | queries | mark |", "|---|---|---|---|",
                                             "| moons | logreg | 3 |  |",
                                             f"| adult-income | logreg | {UNAVAILABLE} |  |"]
    section = Section("s", "S", "", [Table("u", ["a", "mark"], [["x", SHORT_OF_PAPER], ["y", ""]])])
    assert count_marks(section) == {SHORT_OF_PAPER: 1, ABOVE_LIMIT: 0}


def test_the_readme_gets_its_marked_sections_rewritten_and_keeps_the_rest(tmp_path):
    readme = tmp_path / "README.md"
    old = f"{BEGIN.format('trees')}\nold table\n{END.format('trees')}"
    readme.write_text(f"# Benchmarks\n\nprose before\n\n{old}\n\nprose after\n")
    trees = Table("unique ids", ["tree", "queries"], [["iris", "9"]])
    sections = [Section("trees", "Table 6", "what it runs", [trees]),
                Section("amazon", "Amazon", "online", [Table("paper's setting", ["data set"], [["circles"]])])]
    rewrite_readme(readme, sections, Config.default(quick=True))
    text = readme.read_text()
    assert "old table" not in text and "prose before" in text and "prose after" in text
    assert text.index("| iris | 9 |") < text.index("prose after") < text.index("| circles |")  # amazon appended
    assert text.count(BEGIN.format("trees")) == 1 and text.count(END.format("amazon")) == 1
    rewrite_readme(readme, sections, Config.default(quick=True))
    assert readme.read_text() == text  # rewriting again changes nothing


def test_reproduce_refuses_an_unknown_experiment_and_bad_seeds(tmp_path):
    with pytest.raises(ValueError, match="unknown experiment 'table9'; choose among equations"):
        reproduce(Config.default(quick=True), only=["table9"], out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="seeds must be whole numbers"):
        reproduce(Config(True, (-1,)), only=["amazon"], out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="--readme must name an existing file"):
        reproduce(Config.default(quick=True), only=["amazon"], out=tmp_path, readme=tmp_path / "no.md", progress=False)
    assert not list(tmp_path.iterdir())


def test_the_command_line_refuses_an_unknown_experiment_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        kit_main(["reproduce", "--quick", "--only", "table9"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        "python -m kit: error: unknown experiment 'table9'")


# --- the peers table, with a stand-in for ART and its adapter ----------------------------------------------------

PEER_ROW = {"target": "moons logreg", "answers": "confidences", "peer": "KnockoffNets", "budget": 300,
            "kit_attack": "equation solving", "kit_queries": 3, "kit_test": 1.0, "kit_uniform": 1.0,
            "peer_queries": 300, "peer_test": 0.986, "peer_uniform": 0.976, "peer_queries_to_match": None}


def _module(name, **attributes):
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    module.__dict__.update(attributes)
    return module


def test_the_peers_table_renders_what_the_adapter_compares(monkeypatch):
    calls = []

    def compare(*, quick=False, random_state=1):
        calls.append((quick, random_state))
        return [PEER_ROW, {**PEER_ROW, "peer": "CopycatCNN", "peer_queries_to_match": 30, "note": "a note"}]

    monkeypatch.setitem(sys.modules, "art", _module("art"))
    monkeypatch.setitem(sys.modules, "kit.peers", _module("kit.peers"))
    monkeypatch.setitem(sys.modules, "kit.peers.art", _module("kit.peers.art", compare=compare))
    section = run_experiment(peers, Config.default(quick=True), progress=False)
    assert calls == [(True, 1)]
    rows = section.tables[0].rows
    assert rows[0][:3] == ["moons logreg", "confidences", "KnockoffNets"] and rows[0][-3:] == ["never", "-", ""]
    assert rows[1][-3:] == ["30", "x10", "a note"]


def test_warnings_of_a_run_go_into_its_section_named_by_the_run():
    def uncertified():
        warnings.warn("not certified", UncertifiedWarning, stacklevel=2)
        return {}

    def plan(config):
        return [Job(("moons", seed), uncertified) for seed in (1, 2)]

    experiment = types.SimpleNamespace(NAME="x", plan=plan, build=lambda config, results: Section("x", "X", "", []))
    section = run_experiment(experiment, Config.default(quick=True), progress=False)
    assert section.warnings == ["moons 1: UncertifiedWarning: not certified"]
    assert "- moons 1: UncertifiedWarning: not certified" in section_markdown(section)


def test_without_art_the_report_says_so_instead_of_a_peers_table(monkeypatch):
    monkeypatch.setattr(peers, "available", lambda: False)
    section = run_experiment(peers, Config.default(quick=True), progress=False)
    assert section.tables == [] and "not installed" in section.intro


# --- the quick reproduction, left in the clone -------------------------------------------------------------------

ROWS = {
    # attack function -> (experiment, first cells of a row that must be filled)
    "equation_solving": [("equations", ["moons", "logreg", "log-ratio"]), ("equations", ["iris", "softmax",
                                                                                         "cross-entropy"]),
                         ("equations", ["iris", "ovr", "cross-entropy"]), ("equations", ["iris", "mlp", "log-ratio"]),
                         ("rounding", ["cross-entropy", "1"])],
    "kernel_leakage": [("equations", ["digits", "kernel LR", "gamma known"])],
    "model_inversion": [("inversion", ["extract (d + 1), then invert offline"])],
    "path_finding": [("trees", ["iris", "bottom-up", "0.001"]), ("trees", ["moons", "top-down", "0.001"]),
                     ("trees", ["iris", "top-down", "2"])],
    "online_extraction": [("amazon", ["circles", "yes"]), ("amazon", ["iris", "complete queries"])],
    "lowd_meek": [("labels", ["10", "lowd-meek"]), ("labels", ["moons", "lowd-meek"])],
    "lowd_meek_poly": [("labels", ["circles", "2"])],
    "retraining": [("labels", ["10", strategy]) for strategy in ("uniform (baseline)", "line-search", "adaptive")]
    + [("defenses", ["retraining, uniform", "moons", "10"])],
}
"""Every attack of kit.attacks, and rows of the quick report that show it ran."""
NOT_ATTACKS = {"budget_for", "information_limit", "n_parameters", "n_unknowns", "plot_representers", "plot_leaves",
               "StolenTree", "UncertifiedWarning", "Inversion", "plot_prototypes", "prototype_similarity"}
LIMIT_COLUMNS = ("unknowns k", "outputs / query", "information limit", "queries", "queries / limit")


def _tables(markdown):
    """{experiment: [(column names, rows of cells)]} of a report."""
    tables, experiment, lines = {}, None, markdown.splitlines()
    for number, line in enumerate(lines):
        heading = re.match(r"## (.*)", line)
        if heading:
            experiment = next(name for name, module in EXPERIMENTS.items() if module.TITLE == heading.group(1))
        if line.startswith("|---"):
            body = []
            for row in lines[number + 1:]:
                if not row.startswith("|"):
                    break
                body.append([cell.strip() for cell in row.strip("|").split("|")])
            tables.setdefault(experiment, []).append((lines[number - 1].strip("| ").split(" | "), body))
    return tables


@pytest.fixture(scope="module")
def quick_report():
    """The quick reproduction, run as a learner runs it; the report stays in reproduction/quick/."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kit", "reproduce", "--quick", "--out", str(QUICK_REPORT)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "warning" not in done.stderr.lower(), done.stderr[-3000:]  # in the report
    return (QUICK_REPORT / "report.md").read_text(), time.perf_counter() - start, done.stdout


def test_the_quick_run_reports_a_filled_row_for_every_attack(quick_report, report):
    markdown, seconds, stdout = quick_report
    report(f"python -m kit reproduce --quick: {seconds:.0f} s")
    assert "Report written to" in stdout and "quick run, held-out seed 1 " in markdown
    attacks = {name for name in kit.attacks.__all__ if name not in NOT_ATTACKS}
    assert attacks <= set(ROWS), f"no reproduction row checks {sorted(attacks - set(ROWS))}"
    tables = _tables(markdown)
    assert set(tables) >= set(EXPERIMENTS) - {"peers"}
    for attack, rows in ROWS.items():
        for experiment, first in rows:
            found = [row for _, body in tables[experiment] for row in body if row[:len(first)] == first]
            assert found, f"{attack}: no row {first} in {experiment}"
            assert UNAVAILABLE not in found[0] and any(re.search(r"\d", cell) for cell in found[0][len(first):])


def test_every_equation_solving_row_has_the_limit_columns(quick_report):
    tables = _tables(quick_report[0])["equations"]
    assert len(tables) == 3
    for columns, body in tables:
        assert all(column in columns for column in LIMIT_COLUMNS)
        positions = [columns.index(column) for column in LIMIT_COLUMNS]
        for row in body:
            if UNAVAILABLE not in row:
                assert all(re.fullmatch(r"x?[\d.,]+", row[j]) for j in positions), row
    moons = next(row for columns, body in tables for row in body if row[:2] == ["moons", "logreg"])
    assert moons[3:8] == ["3", "1", "3", "3", "x1"]  # d + 1 = 3 unknowns, 1 output per query: the limit is met


def test_the_quick_run_writes_the_plots(quick_report):
    for name in ("figure4_test", "figure4_uniform", "figure5_test", "figure6_uniform", "figure7_rounding"):
        png = QUICK_REPORT / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"]({name}.png)" in quick_report[0]
