import io

import matplotlib
import matplotlib.layout_engine
import matplotlib.pyplot as plt
import numpy as np
import pytest

import kit


def test_a_model_agrees_with_itself_perfectly(moons, moons_logreg):
    result = kit.agreement(moons_logreg, moons_logreg, moons, n_uniform=2000)
    assert (result.test, result.uniform, result.tv_test, result.tv_uniform) == (1.0, 1.0, 0.0, 0.0)
    assert str(result) == "1-R_test 100.00% | 1-R_unif 100.00% | TV_test 0 | TV_unif 0"


def test_agreement_counts_disagreements_exactly(moons, moons_logreg):
    class Flipped:
        classes_ = np.array([0, 1])

        def predict(self, X):
            return 1 - moons_logreg.predict(X)

        def predict_proba(self, X):
            return moons_logreg.predict_proba(X)[:, ::-1]

    result = kit.agreement(moons_logreg, Flipped(), moons, n_uniform=500)
    assert result.test == 0.0 and result.uniform == 0.0
    expected_tv = np.abs(2 * moons_logreg.predict_proba(moons.X_test)[:, 1] - 1).mean()
    assert result.tv_test == pytest.approx(expected_tv)


def test_labels_only_models_have_no_tv(moons, moons_logreg):
    svm = kit.train_target(moons, "rbf-svm")
    result = kit.agreement(moons_logreg, svm, moons, n_uniform=500)
    assert np.isnan(result.tv_test) and 0.5 < result.test < 1
    assert str(result).endswith("TV_test n/a (labels only) | TV_unif n/a (labels only)")


def test_n_uniform_is_checked(moons, moons_logreg):
    with pytest.raises(ValueError, match="n_uniform must be a positive integer, got 0"):
        kit.agreement(moons_logreg, moons_logreg, moons, n_uniform=0)


@pytest.mark.parametrize("kind", [kind for kind in kit.TARGET_KINDS if kind != "regression-tree"])
def test_every_classifier_kind_trains_and_is_seeded(blobs, moons, kind):
    dataset = moons if kind == "logreg" else blobs
    first, second = kit.train_target(dataset, kind, random_state=1), kit.train_target(dataset, kind, random_state=1)
    assert np.array_equal(first.predict(dataset.X_test), second.predict(dataset.X_test))
    assert np.mean(first.predict(dataset.X_test) == dataset.y_test) > 0.8


def test_unknown_target_kind_lists_the_valid_ones(moons):
    with pytest.raises(ValueError, match="unknown target kind 'svm'; choose one of: logreg, softmax"):
        kit.train_target(moons, "svm")
    with pytest.raises(ValueError, match="'logreg' is binary .* 3 classes"):
        kit.train_target(kit.load_dataset("blobs"), "logreg")


def test_extraction_record_from_api(moons, moons_logreg):
    api = kit.PredictionAPI(moons_logreg, moons.features, price_per_query=0.25)
    api.query(moons.X_test[:3])
    start = api.queries_used
    api.query(moons.X_test[3:7])
    result = kit.Extraction.from_api(moons_logreg, api, since=start, method="demo")
    assert (result.queries, result.cost, len(result.log), result.info) == (4, 1.0, 4, {"method": "demo"})
    assert np.array_equal(result.log.X, moons.X_test[3:7])


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _boundary_png(seed):
    dataset = kit.load_dataset("moons", random_state=seed)
    target = kit.train_target(dataset, "logreg", random_state=seed)
    stolen = kit.train_target(dataset, "tree", max_depth=3, random_state=seed)
    plot = kit.plot_boundaries(target, stolen, dataset, queries=dataset.X_train[:30])
    return _png(plot.figure)


def test_same_seed_same_picture():
    assert _boundary_png(0) == _boundary_png(0)
    assert _boundary_png(0) != _boundary_png(1)


def test_plot_shows_disagreement_and_updates_in_place(moons, moons_logreg):
    tree = kit.train_target(moons, "tree", max_depth=2)
    plot = kit.plot_boundaries(moons_logreg, None, moons, resolution=50)
    assert np.isnan(plot.update(None)) and plot.stolen_regions is None
    assert np.isfinite(plot.disagreement_shading.get_array().data).all()  # a masked image still gets normalised
    share = plot.update(tree, moons.X_train[:7])
    assert 0 < share < 0.5
    assert plot.query_marks.get_offsets().shape == (7, 2)
    axes_children = len(plot.ax.get_children())
    assert plot.update(moons_logreg, np.empty((0, 2))) == 0.0
    assert len(plot.ax.get_children()) == axes_children  # artists replaced, not piled up
    plt.close(plot.figure)


def test_plot_refuses_data_that_is_not_2d(blobs, moons_logreg):
    five = kit.load_dataset("5-class")
    target = kit.train_target(five, "softmax")
    with pytest.raises(ValueError, match="2 continuous features .* '5-class' has 20"):
        kit.plot_boundaries(target, None, five)


@pytest.fixture
def exact_copy(moons, moons_logreg):
    """The target's boundary stolen exactly: the case where the two lines lie on each other."""
    api = kit.PredictionAPI(moons_logreg, moons.features)
    return kit.attacks.equation_solving(api, model="logreg", budget=20)


def _pixels_of(figure, colour):
    """How many pixels of the rendered figure have (nearly) ``colour``."""
    figure.canvas.draw()
    rgb = np.asarray(figure.canvas.buffer_rgba())[..., :3].astype(int)
    wanted = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb - wanted).sum(axis=-1) < 30).sum())


def test_an_exact_copy_stays_visible_on_the_target_boundary(moons, moons_logreg, exact_copy):
    plot = kit.plot_boundaries(moons_logreg, exact_copy.model, moons, queries=exact_copy.log)
    target, stolen = plot.target_boundary, plot.stolen_boundary
    assert plot.disagreement == 0.0 and np.array_equal(plot.stolen_regions, plot.target_regions)
    assert not np.allclose(target.get_edgecolor()[0], stolen.get_edgecolor()[0])  # another colour
    assert stolen.get_linestyle()[0][1] is not None and target.get_linestyle()[0][1] is None  # dashed over solid
    assert stolen.get_zorder() > target.get_zorder()  # drawn on top
    on_the_line = _pixels_of(plot.figure, kit.plots.STOLEN_COLOUR)
    plot.update(None)
    key_only = _pixels_of(plot.figure, kit.plots.STOLEN_COLOUR)
    assert on_the_line > key_only + 300  # the yellow dashes show along the whole dark line
    plt.close(plot.figure)


def test_the_key_names_every_class_and_mark(blobs):
    target = kit.train_target(blobs, "softmax")
    plot = kit.plot_boundaries(target, None, blobs, resolution=40)
    names = [text.get_text() for text in plot.legend.get_texts()]
    assert names == ["class 0", "class 1", "class 2", "target boundary", "stolen boundary", "they disagree",
                     "queries"]
    plot.show_data(True)
    assert [text.get_text() for text in plot.legend.get_texts()][-1] == "test rows (true class)"
    plt.close(plot.figure)


def test_the_data_points_are_a_sample_of_test_rows_in_their_class_colour(moons, moons_logreg):
    hidden = kit.plot_boundaries(moons_logreg, None, moons, resolution=40)
    assert not hidden.data_points.get_visible()
    plot = kit.plot_boundaries(moons_logreg, None, moons, resolution=40, data=True)
    points, colours = plot.data_points.get_offsets(), plot.data_points.get_facecolors()
    assert plot.data_points.get_visible() and len(points) == kit.plots.DATA_SHOWN
    rows = [np.flatnonzero((moons.X_test == point).all(axis=1))[0] for point in np.asarray(points)]
    expected = [matplotlib.colors.to_rgba(kit.plots.OKABE_ITO[label]) for label in moons.y_test[rows]]
    assert np.allclose(colours, expected)
    plt.close(hidden.figure)
    plt.close(plot.figure)


def test_nothing_is_clipped(moons, moons_logreg):
    plot = kit.plot_boundaries(moons_logreg, None, moons, resolution=40, data=True)
    figure = plot.figure
    assert isinstance(figure.get_layout_engine(), matplotlib.layout_engine.ConstrainedLayoutEngine)
    figure.canvas.draw()
    inside = figure.bbox
    boxes = {"x label": plot.ax.xaxis.label.get_window_extent(), "y label": plot.ax.yaxis.label.get_window_extent(),
             "key": plot.legend.get_window_extent(), "all the axes draws": plot.ax.get_tightbbox()}
    for name, box in boxes.items():
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1, name
    plt.close(figure)


def test_query_marks_change_without_recomputing_the_stolen_regions(moons, moons_logreg, exact_copy):
    plot = kit.plot_boundaries(moons_logreg, exact_copy.model, moons, resolution=40)
    regions = plot.stolen_regions
    plot.set_queries(exact_copy.log)
    assert plot.stolen_regions is regions and len(plot.query_marks.get_offsets()) == 20
    plot.set_stolen(None)
    assert plot.stolen_regions is None and np.isnan(plot.disagreement)
    assert not plot.disagreement_shading.get_visible() and len(plot.stolen_boundary.get_segments()) == 0
    plt.close(plot.figure)


def test_a_live_figure_redraws_the_moving_artists_to_the_same_pixels_as_a_full_draw():
    figure, ax = plt.subplots(figsize=(3, 2), layout="constrained")
    ax.plot([0, 1], [0, 1], color="0.5")
    ax.set(xlim=(0, 1), ylim=(0, 1))
    (moving,) = ax.plot([0, 1], [1, 0], color="#0072B2", lw=3)
    live = kit.plots.LiveFigure(figure, [moving])
    assert live.needs_full_draw
    live.show()  # the first time: a full draw, which saves the picture behind the moving line
    assert not live.needs_full_draw
    before = np.asarray(figure.canvas.buffer_rgba()).copy()
    draws = []
    figure.canvas.mpl_connect("draw_event", draws.append)
    moving.set_ydata([0.5, 0.2])
    live.show()
    blitted = np.asarray(figure.canvas.buffer_rgba()).copy()
    assert draws == [] and not np.array_equal(blitted, before)  # new pixels without a full draw
    live.show(full=True)
    assert len(draws) == 1 and np.array_equal(np.asarray(figure.canvas.buffer_rgba()), blitted)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="rgba", dpi=figure.dpi)  # saving paints the moving line too, in z-order
    saved = np.frombuffer(buffer.getvalue(), np.uint8).reshape(blitted.shape)
    assert (saved != blitted).any(axis=-1).mean() < 0.001  # only where the spines cross the line
    plt.close(figure)
