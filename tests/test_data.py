import gzip

import numpy as np
import pytest

import kit
from kit import data
from kit.features import CATEGORICAL

from .conftest import REAL_DATA, needs_real_data

LOCAL = ("circles", "moons", "blobs", "5-class", "iris", "digits", "breast-cancer-diagnostic")


@pytest.mark.parametrize("name", LOCAL)
def test_local_sets_are_scaled_and_split_70_30(name):
    dataset = kit.load_dataset(name)
    X = np.vstack([dataset.X_train, dataset.X_test])
    assert X.min() >= -1 and X.max() <= 1
    assert abs(len(dataset.X_test) / len(X) - 0.3) < 0.01
    assert len(dataset.features) == X.shape[1] == dataset.n_features
    assert set(np.unique(dataset.y_train)) == set(dataset.classes)


def test_synthetic_sets_follow_the_paper():
    shapes = {name: (kit.load_dataset(name).n_features, len(kit.load_dataset(name).classes)) for name in data.SYNTHETIC}
    assert shapes == {"circles": (2, 2), "moons": (2, 2), "blobs": (2, 3), "5-class": (20, 5)}


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = kit.load_dataset("moons", random_state=3), kit.load_dataset("moons", random_state=3), kit.load_dataset(
        "moons", random_state=4
    )
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown data set 'moon'; choose one of: circles, moons") as error:
        kit.load_dataset("moon")
    assert "\n" not in str(error.value)


@needs_real_data()
@pytest.mark.parametrize(
    "name, encoded, classes",
    [("adult-income", 108, 2), ("adult-race", 105, 5), ("steak", 40, 5), ("gss", 51, 3)],
)
def test_fetched_sets_match_the_paper_dimensions(name, encoded, classes):
    dataset = kit.load_dataset(name)
    assert dataset.n_encoded == encoded
    assert len(dataset.classes) == classes
    categorical = [f for f in dataset.features if f.kind == CATEGORICAL]
    assert categorical and all(len(f.categories) == f.width for f in categorical)


def test_unknown_name_names_both_breast_cancer_sets():
    with pytest.raises(ValueError, match=r"unknown data set 'breast-cancer-original'; choose one of: ") as error:
        kit.load_dataset("breast-cancer-original")
    assert {"breast-cancer", "breast-cancer-diagnostic"} <= set(str(error.value).split(": ")[1].split(", "))


def test_diagnostic_breast_cancer_ships_with_scikit_learn():
    dataset = kit.load_dataset("breast-cancer-diagnostic")
    assert (len(dataset.X_train) + len(dataset.X_test), dataset.n_features) == (569, 30)
    assert dataset.classes == ("benign", "malignant")


@needs_real_data()
def test_breast_cancer_is_the_papers_original_set():
    dataset = kit.load_dataset("breast-cancer")
    X, y = np.vstack([dataset.X_train, dataset.X_test]), np.concatenate([dataset.y_train, dataset.y_test])
    assert X.shape == (683, 9) and dataset.n_encoded == 9  # 699 rows less the 16 without bare_nuclei
    assert [feature.name for feature in dataset.features] == list(data.BREAST_CANCER_SCORES)
    assert dataset.classes == ("benign", "malignant") and np.sum(y == "malignant") == 239
    grades = np.unique(X)  # the scores 1..10, evenly spaced on [-1, 1]
    assert np.allclose(grades, np.linspace(-1, 1, 10))


def test_breast_cancer_downloads_the_uci_file_drops_missing_rows_and_scales(monkeypatch, tmp_path):
    monkeypatch.delenv("KIT_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "CACHE_DIR", tmp_path)
    rng = np.random.default_rng(0)
    scores = rng.integers(1, 11, size=(40, 9))
    classes = np.where(np.arange(40) % 3, 2, 4)
    missing = [0, 7, 21]  # as in the UCI file: '?' for a missing bare_nuclei (the 6th score)
    text = [[str(1000000 + i), *scores[i].astype(str), str(classes[i])] for i in range(40)]
    for i in missing:
        text[i][6] = "?"
    lines = [",".join(row) for row in text]
    urls = []

    def fake_download(url):
        urls.append(url)
        return ("\n".join(lines) + "\n").encode()  # the UCI file has no header

    monkeypatch.setattr(data, "_download", fake_download)
    dataset = kit.load_dataset("breast-cancer")
    assert urls == [data.UCI_BREAST_CANCER] and (tmp_path / "breast_cancer_wisconsin.csv.gz").is_file()
    kept = np.setdiff1d(np.arange(40), missing)
    X, y = np.vstack([dataset.X_train, dataset.X_test]), np.concatenate([dataset.y_train, dataset.y_test])
    assert X.shape == (37, 9)  # the sample code is not a feature
    expected = 2 * (scores[kept] - 1) / 9 - 1
    assert sorted(map(tuple, X)) == sorted(map(tuple, expected))
    assert sorted(y) == sorted(np.where(classes[kept] == 4, "malignant", "benign"))


def test_missing_file_without_network_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("KIT_DATA_DIR", str(tmp_path))
    with pytest.raises(kit.DataUnavailable, match="mushrooms.csv.gz is not in KIT_DATA_DIR") as error:
        kit.load_dataset("mushrooms")
    assert "\n" not in str(error.value)


def test_failed_download_names_the_file_and_the_fix(monkeypatch, tmp_path):
    monkeypatch.delenv("KIT_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "CACHE_DIR", tmp_path)

    def offline():
        raise OSError("network is unreachable")

    monkeypatch.setitem(data._DOWNLOADS, "diabetes.csv.gz", offline)
    with pytest.raises(kit.DataUnavailable, match=r"could not download diabetes.csv.gz .*KIT_DATA_DIR"):
        kit.load_dataset("diabetes")
    assert not list(tmp_path.iterdir())  # nothing half-written in the cache


def test_download_is_cached_once_then_read(monkeypatch, tmp_path):
    monkeypatch.delenv("KIT_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "CACHE_DIR", tmp_path)
    calls = []
    rng = np.random.default_rng(0)
    table = "preg,plas,pres,skin,insu,mass,pedi,age,class\n" + "\n".join(
        ",".join(f"{v:.1f}" for v in rng.uniform(0, 100, 8)) + f",{'tested_positive' if i % 3 else 'tested_negative'}"
        for i in range(60)
    )

    def fake_download():
        calls.append(1)
        return table.encode()

    monkeypatch.setitem(data._DOWNLOADS, "diabetes.csv.gz", fake_download)
    first, second = kit.load_dataset("diabetes"), kit.load_dataset("diabetes")
    assert calls == [1]
    assert first.n_features == 8 and np.array_equal(first.X_train, second.X_train)
    assert gzip.decompress((tmp_path / "diabetes.csv.gz").read_bytes()).decode() == table


@pytest.mark.skipif(not REAL_DATA, reason="needs KIT_DATA_DIR")
def test_gss_file_reads_all_rows():
    assert len(data._read_csv("gss_happiness.csv.gz")) == 51020
