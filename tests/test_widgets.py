"""The panel without a browser: set the controls in Python, check the figure's data and the readout."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import kit
from kit.features import FeatureEncoder
from kit.widgets import DECIMALS, AttackChoice, ExtractionPanel


def uniform_labels(api, kind, budget, random_state):
    """A small labels-only stand-in attack: fit LR on uniformly drawn points."""
    start = api.queries_used
    X = kit.sample_uniform(api.features, budget, random_state)
    model = make_pipeline(FeatureEncoder(api.features), LogisticRegression()).fit(X, api.query(X).labels)
    return kit.Extraction.from_api(model, api, since=start)


@pytest.fixture
def panel():
    return ExtractionPanel(dataset="moons", target="logreg", resolution=60)


def query_count(panel):
    return len(panel.plot.query_marks.get_offsets())


def test_the_panel_has_the_classes_the_browser_tests_look_for(panel):
    assert "kit-panel" in panel._dom_classes
    assert "kit-budget" in panel.budget._dom_classes and not panel.budget.continuous_update
    assert "kit-decimals" in panel.decimals._dom_classes and not panel.decimals.continuous_update
    assert "kit-readout" in panel.readout._dom_classes
    assert panel.decimals.options == ("none", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10) == DECIMALS
    assert [value for _, value in panel.output_kind.options] == ["proba", "label"]


def test_equation_solving_steals_the_line_exactly(panel):
    assert panel.extraction.queries == 20 and panel.result.test == panel.result.uniform == 1.0
    assert "<b>queries used</b> 20" in panel.readout.value and "$0.0020 at Amazon" in panel.readout.value
    assert np.array_equal(panel.plot.stolen_regions, panel.plot.target_regions)
    assert len(panel.figure_view.value) > 1000  # the picture of the figure (non-ipympl backend)


def test_the_budget_slider_reruns_the_attack_and_redraws(panel):
    picture = panel.figure_view.value
    panel.budget.value = 3
    assert query_count(panel) == 3 and panel.extraction.queries == 3
    assert "<b>queries used</b> 3 " in panel.readout.value and "$0.0003" in panel.readout.value
    assert panel.figure_view.value != picture
    panel.budget.value = 2
    assert panel.extraction is None and query_count(panel) == 0
    assert "needs at least 3 queries, budget is 2" in panel.readout.value


def test_rounding_moves_the_stolen_boundary(panel):
    panel.budget.value = 3
    panel.decimals.value = 1
    assert panel.result.test < 1.0
    assert np.any(panel.plot.stolen_regions != panel.plot.target_regions)
    assert "1-R<sub>test</sub></b> 100.00%" not in panel.readout.value
    panel.decimals.value = "none"
    assert panel.result.test == 1.0


def test_labels_only_leaves_equation_solving_nothing_to_solve(panel):
    panel.output_kind.value = "label"
    assert panel.extraction is None and panel.plot.stolen_regions is None
    assert "needs confidence values" in panel.readout.value


def test_a_target_without_confidences_answers_labels_to_labels_only_attacks():
    panel = ExtractionPanel(dataset="moons", target="rbf-svm", attack="Lowd-Meek", resolution=60)
    assert panel.output_kind.disabled and panel.extraction is not None
    assert "labels only" in panel.readout.value
    panel.target_picker.value = "logreg"
    assert not panel.output_kind.disabled


def test_the_price_and_the_query_marks_redraw_without_new_queries(panel):
    extraction = panel.extraction
    panel.service.value = "BigML, dearest plan ($5 per 1,000)"
    assert panel.extraction is extraction and "$0.1000 at BigML, dearest plan" in panel.readout.value
    panel.show_queries.value = False
    assert panel.extraction is extraction and query_count(panel) == 0


def test_a_new_data_set_and_target_retrain_and_redraw(panel):
    moons_regions = panel.plot.target_regions
    panel.dataset_picker.value = "blobs"
    assert panel.extraction is None and "binary logistic regression" in panel.readout.value
    panel.target_picker.value = "softmax"
    assert panel.plot.target_regions.max() == 2 and panel.plot.target_regions.shape == moons_regions.shape
    assert panel.result.test == 1.0


def test_another_attack_brings_its_budget_range(panel):
    attacks = {"equation solving": kit.widgets.ATTACKS["equation solving"],
               "uniform labels": AttackChoice(uniform_labels, (10, 500, 200))}
    panel = ExtractionPanel(attacks=attacks, resolution=60)
    panel.attack_picker.value = "uniform labels"
    assert (panel.budget.min, panel.budget.max, panel.budget.value) == (10, 500, 200)
    assert panel.extraction.queries == 200 and 0.9 < panel.result.test < 1.0


def test_the_sweep_averages_several_runs_per_budget_and_draws_their_spread(panel):
    panel.decimals.value = 0
    points = panel.sweep(n_budgets=3, runs=4)
    assert points == panel.sweep_points and [point.budget for point in points] == [20, 400]  # 1 is too few
    for point in points:
        assert point.runs == 4 and point.queries == point.budget
        assert point.test_range[0] <= point.test <= point.test_range[1]
        assert point.uniform_range[0] <= point.uniform <= point.uniform_range[1]
    assert any(point.test_range[0] < point.test_range[1] for point in points)  # the seeds differ at 0 decimals
    assert list(panel._sweep_test.get_xdata()) == [20, 400]
    assert list(panel._sweep_test.get_ydata()) == [point.test for point in points]
    assert len(panel._sweep_bands) == 2 and "4 runs each" in panel._sweep_key.get_title().get_text()
    assert panel.sweep_ax.get_xscale() == "log" and panel.sweep_ax.get_yscale() == "symlog"
    panel.decimals.value = 2
    assert panel.sweep_points == [] and len(panel._sweep_test.get_xdata()) == 0 and panel._sweep_bands == []


def test_the_sweep_runs_the_attacks_own_number_of_times_unless_told(panel):
    assert {point.runs for point in panel.sweep(n_budgets=2)} == {kit.widgets.ATTACKS["equation solving"].runs} == {5}
    with pytest.raises(ValueError, match="runs must be a positive integer, got 0"):
        panel.sweep(runs=0)


def test_the_readout_says_when_the_stolen_boundary_lies_on_the_targets(panel):
    assert panel.plot.disagreement == 0
    assert "The stolen boundary lies on the target's:</b> they agree on every point" in panel.readout.value
    panel.budget.value = 3
    panel.decimals.value = 0
    assert panel.plot.disagreement > 0 and "lies on the target's" not in panel.readout.value
    differ = int((panel.plot.stolen_regions != panel.plot.target_regions).sum())
    assert f"they disagree</b> on {differ:,} of the picture's 3,600 points" in panel.readout.value


def test_redraw_only_changes_neither_steal_nor_recompute_nor_draw_everything(panel):
    draws = []
    panel.figure.canvas.mpl_connect("draw_event", draws.append)
    extraction, regions, picture = panel.extraction, panel.plot.stolen_regions, panel.figure_view.value
    panel.show_queries.value = False
    assert panel.extraction is extraction and panel.plot.stolen_regions is regions
    assert query_count(panel) == 0 and panel.figure_view.value != picture
    panel.budget.value = 25
    assert draws == []  # both changes repainted only the moving artists over the saved picture
    panel.show_data.value = True
    assert len(draws) == 1 and panel.plot.data_points.get_visible()  # the key changed: a full draw
    assert panel.plot.legend.get_texts()[-1].get_text() == "test rows (true class)"


def test_the_panel_figure_clips_nothing(panel):
    figure = panel.figure
    figure.canvas.draw()
    for ax in figure.axes:
        box = ax.get_tightbbox()
        assert figure.bbox.x0 <= box.x0 and box.x1 <= figure.bbox.x1 and figure.bbox.y0 <= box.y0
        assert box.y1 <= figure.bbox.y1


def test_the_same_seed_gives_the_same_panel():
    first, second = (ExtractionPanel(budget=5, decimals=2, resolution=40) for _ in range(2))
    assert np.array_equal(first.extraction.log.X, second.extraction.log.X)
    assert first.readout.value == second.readout.value


@pytest.mark.parametrize(("argument", "message"), [
    ({"dataset": "adult-income"}, "dataset must be one of circles, moons, blobs; got 'adult-income'"),
    ({"decimals": 11}, "decimals must be one of none, 0, 1"),
    ({"attack": "magic"}, "attack must be one of equation solving, path finding .*; got 'magic'"),
])
def test_bad_settings_are_refused_in_one_line(argument, message):
    with pytest.raises(ValueError, match=message):
        ExtractionPanel(**argument)


@pytest.fixture(scope="module")
def leakage_panel():
    blobs = kit.load_dataset("blobs")
    target = kit.train_target(blobs, "kernel-logreg", n_representers=4, gamma=5.0)
    return kit.widgets.LeakagePanel(blobs, target, gamma=5.0, shape=(1, 2))


def test_the_leakage_panel_steals_at_the_budget_and_shows_what_leaked(leakage_panel):
    panel = leakage_panel
    assert "kit-panel" in panel._dom_classes and "kit-budget" in panel.budget._dom_classes
    assert "kit-readout" in panel.readout._dom_classes and not panel.budget.continuous_update
    unknowns = 4 * (2 + 3) + 3
    assert (panel.budget.min, panel.budget.max) == (12, unknowns)  # 2 equations per answer, at most k
    assert panel.extraction.queries == panel.budget.value == 15
    picture, readout = panel.figure_view.value, panel.readout.value
    panel.budget.value = unknowns
    assert panel.extraction.queries == unknowns and f"<b>queries used</b> {unknowns}" in panel.readout.value
    assert panel.figure_view.value != picture and panel.readout.value != readout
    secret = set(panel.target[-1].representer_index_.tolist())
    assert panel.leaked <= secret  # rows named by the nearest-row lookup that are secret rows
    assert f"<b>training rows leaked</b> {len(panel.leaked)} of 4" in panel.readout.value
    shown = np.array([image.get_array().ravel() for image in panel._images])
    recovered = panel.extraction.info["representers"]
    assert sorted(map(tuple, shown.round(6))) == sorted(map(tuple, recovered.round(6)))  # every stolen one, once
    assert all(plt.figure(number) is not panel.figure for number in plt.get_fignums())  # a later plot won't show it


def test_the_leakage_panel_keeps_each_budget_result(leakage_panel):
    panel = leakage_panel
    panel.budget.value = 15
    first = panel.extraction
    panel.budget.value = 16
    panel.budget.value = 15
    assert panel.extraction is first  # nothing queried again


@pytest.fixture(scope="module")
def defense_panel():
    return kit.widgets.DefensePanel(dataset="moons", target="logreg", attack="equation solving",
                                    defense="Gaussian noise", resolution=40)


def test_the_defense_panel_has_the_classes_the_browser_tests_look_for(defense_panel):
    panel = defense_panel
    assert "kit-panel" in panel._dom_classes and "kit-budget" in panel.budget._dom_classes
    assert "kit-readout" in panel.readout._dom_classes and "kit-strength" in panel.strength._dom_classes
    assert not panel.budget.continuous_update and not panel.strength.continuous_update


def test_the_defense_panel_shows_both_sides_of_a_defence(defense_panel):
    panel = defense_panel
    panel.defense_picker.value = "Gaussian noise"
    panel.strength.value = 0.0
    assert (panel.result.test, panel.honest.top1_kept, panel.honest.max_error) == (1.0, 1.0, 0.0)
    picture, readout = panel.figure_view.value, panel.readout.value
    panel.strength.value = 0.3
    assert panel.result.test < 0.99 and panel.honest.top1_kept < 0.95 and panel.honest.max_error > 0.3
    assert panel.figure_view.value != picture and panel.readout.value != readout
    assert f"label kept {panel.honest.top1_kept:.1%}" in panel.readout.value
    assert f"{panel.result.test:.2%}" in panel.readout.value


def test_the_defense_panel_says_why_a_defence_stopped_the_attack(defense_panel):
    panel = defense_panel
    panel.defense_picker.value = "labels only"
    assert panel.strength.disabled and panel.extraction is None and panel.result is None
    assert "No stolen model" in panel.readout.value and "labels only" in panel.message
    assert panel.honest.top1_kept == 1.0 and panel.honest.mean_error == 1.0  # labels kept, confidences withheld
    panel.defense_picker.value = "query monitor"
    assert not panel.strength.disabled and panel.strength.value == 0.8
    panel.attack_picker.value = "retraining (adaptive)"
    assert panel.extraction is None and "flagged" in panel.message  # the monitor refused it
    panel.attack_picker.value = "equation solving"
    assert panel.extraction.queries == panel.budget.value == 20  # too few queries for the monitor to judge


def test_the_defense_panel_attacks_a_tree_with_path_finding(defense_panel):
    panel = defense_panel
    panel.defense_picker.value = "reverse sigmoid"
    panel.attack_picker.value = "path finding (top-down)"
    assert panel.budget.value == 700 and panel.extraction.queries == 647  # as the defences matrix measured
    assert panel.result.test == 1.0 and panel.honest.top1_kept == 1.0  # node ids are not perturbed
    panel.defense_picker.value = "refuse incomplete"
    assert panel.extraction is None and "incomplete" in panel.message
    panel.attack_picker.value = "equation solving"


@pytest.mark.parametrize(("argument", "message"), [
    ({"defense": "a moat"}, "defense must be one of none, rounding, .*; got 'a moat'"),
    ({"attacks": ("equation solving", "magic")}, "attacks must be one of equation solving, .*; got 'magic'"),
    ({"dataset": "digits"}, "dataset must be one of circles, moons, blobs; got 'digits'"),
])
def test_the_defense_panel_refuses_bad_settings_in_one_line(argument, message):
    with pytest.raises(ValueError, match=message):
        kit.widgets.DefensePanel(**argument)


def test_the_economics_panel_prices_the_chosen_attacks():
    panel = kit.widgets.EconomicsPanel(service="Google ($0.50 per 1,000)", attacks=["Lowd-Meek (LR)"])
    assert "<td>3,242</td><td>$1.62</td><td>3,242</td>" in panel.table.value
    picture = panel.figure_view.value
    panel.service.value = "BigML, dearest plan ($5 per 1,000)"
    assert "<td>$16.21</td>" in panel.table.value and panel.figure_view.value != picture
    panel.attack_picker.value = ()
    assert panel.table.value == "pick at least one attack"
