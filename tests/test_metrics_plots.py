import io

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
