"""The data sets of the paper's Table 3, preprocessed as the paper did (section 3).

Synthetic sets are generated with the paper's parameters; Iris, Digits and the
*diagnostic* Breast Cancer set (not the paper's) ship with scikit-learn; the others, the
paper's *original* Breast Cancer among them, are fetched from their public source on
first use and cached under ``data/`` (or read from the folder ``KIT_DATA_DIR`` names).
Continuous features are scaled to ``[-1, 1]``; categorical ones are kept as codes and
one-hot encoded by the models (see :mod:`kit.features`); 70% trains, 30% tests.
"""

from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets as skdatasets
from sklearn.model_selection import train_test_split

from .features import CATEGORICAL, Feature, encoded_width

CACHE_DIR = Path(__file__).resolve().parent.parent / "data"

SYNTHETIC = ("circles", "moons", "blobs", "5-class")
BUNDLED = ("iris", "digits", "breast-cancer-diagnostic")
FETCHED = ("adult-income", "adult-race", "steak", "gss", "breast-cancer", "mushrooms", "diabetes")
DATASETS = SYNTHETIC + BUNDLED + FETCHED
"""Names accepted by :func:`load_dataset`: the 13 sets of the paper's Table 3, and scikit-learn's
diagnostic breast cancer set (``breast-cancer-diagnostic``, 569 x 30, not in the paper)."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set split for an experiment.

    Attributes
    ----------
    name : str
    X_train, X_test : ndarray of shape (n, len(features))
        Raw inputs: continuous values in ``[-1, 1]``, categorical codes.
    y_train, y_test : ndarray
        Labels (strings or integers, as in ``classes``).
    features : tuple of Feature
        The public description of the inputs.
    classes : tuple
        The class labels, sorted.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    features: tuple
    classes: tuple

    @property
    def n_features(self) -> int:
        """Number of raw features (the API's input width)."""
        return len(self.features)

    @property
    def n_encoded(self) -> int:
        """Number of features after one-hot encoding (the paper's d)."""
        return encoded_width(self.features)

    def __repr__(self):
        return (
            f"Dataset({self.name!r}: {len(self.X_train)} train / {len(self.X_test)} test rows, "
            f"{self.n_features} features ({self.n_encoded} encoded), {len(self.classes)} classes)"
        )


class DataUnavailable(RuntimeError):
    """A fetched data set is neither cached nor downloadable."""


def load_dataset(name, *, random_state=0) -> Dataset:
    """Load one of :data:`DATASETS`, preprocessed and split 70/30.

    Parameters
    ----------
    name : str
        A name from :data:`DATASETS`, for instance ``"moons"`` or ``"adult-income"``.
    random_state : int
        Seeds the synthetic generators and the split: the same seed, the same data.

    Returns
    -------
    Dataset
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}")
    X, y, features = _LOADERS[name](random_state)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=random_state, stratify=y
    )
    return Dataset(name, X_train, y_train, X_test, y_test, tuple(features), tuple(np.unique(y).tolist()))


# --- preprocessing shared by all sets ------------------------------------------------


def _scale(values, low=None, high=None) -> np.ndarray:
    """Map values linearly onto [-1, 1] (a constant column maps to 0)."""
    values = np.asarray(values, dtype=float)
    low = values.min() if low is None else low
    high = values.max() if high is None else high
    if high == low:
        return np.zeros_like(values)
    return 2 * (values - low) / (high - low) - 1


def _numeric(X, names=None, low=None, high=None):
    """All-continuous data scaled to [-1, 1], column by column."""
    X = np.column_stack([_scale(column, low, high) for column in np.asarray(X, dtype=float).T])
    names = names if names is not None else [f"x{j + 1}" for j in range(X.shape[1])]
    return X, [Feature(str(name)) for name in names]


def _from_frame(frame: pd.DataFrame, target: str, continuous=()):
    """Raw inputs and schema from a table: the named columns continuous, the rest categorical."""
    y = frame[target].to_numpy()
    columns, features = [], []
    for name in frame.columns.drop(target):
        if name in continuous:
            columns.append(_scale(frame[name]))
            features.append(Feature(name))
        else:
            values = frame[name].astype(str)
            categories = tuple(sorted(values.unique()))
            columns.append(pd.Categorical(values, categories=categories).codes.astype(float))
            features.append(Feature(name, CATEGORICAL, categories=categories))
    return np.column_stack(columns), y, features


# --- synthetic and bundled sets --------------------------------------------------------


_GENERATORS = {
    "circles": lambda rs: skdatasets.make_circles(5000, factor=0.5, noise=0.05, random_state=rs),
    "moons": lambda rs: skdatasets.make_moons(5000, noise=0.25, random_state=rs),
    "blobs": lambda rs: skdatasets.make_blobs(5000, cluster_std=0.5, random_state=rs),
    "5-class": lambda rs: skdatasets.make_classification(
        1000, n_classes=5, n_informative=4, random_state=rs
    ),
}


def _synthetic(name):
    def load(rs):
        X, y = _GENERATORS[name](rs)
        X, features = _numeric(X)
        return X, y, features

    return load


def _iris(rs):
    bunch = skdatasets.load_iris()
    X, features = _numeric(bunch.data, bunch.feature_names)
    return X, bunch.target_names[bunch.target], features


def _digits(rs):
    bunch = skdatasets.load_digits()
    X, features = _numeric(bunch.data, [f"pixel_{i // 8}_{i % 8}" for i in range(64)], low=0, high=16)
    return X, bunch.target, features


def _breast_cancer_diagnostic(rs):
    """scikit-learn's Wisconsin *Diagnostic* set: 569 rows, 30 measurements of cell nuclei (not the paper's set)."""
    bunch = skdatasets.load_breast_cancer()
    X, features = _numeric(bunch.data, bunch.feature_names)
    return X, bunch.target_names[bunch.target], features


# --- fetched sets: public source -> local cache (or KIT_DATA_DIR) -> table -------------

UCI_ADULT = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
ADULT_COLUMNS = (
    "age,Workclass,fnlwgt,education,education-num,marital-status,occupation,relationship,"
    "race,sex,capital-gain,capital-loss,hours-per-week,native-country,income"
)
UCI_BREAST_CANCER = (
    "https://archive.ics.uci.edu/ml/machine-learning-databases/breast-cancer-wisconsin/breast-cancer-wisconsin.data"
)
BREAST_CANCER_SCORES = (
    "clump_thickness", "uniformity_cell_size", "uniformity_cell_shape", "marginal_adhesion",
    "single_epithelial_cell_size", "bare_nuclei", "bland_chromatin", "normal_nucleoli", "mitoses",
)
STEAK_URL = "https://raw.githubusercontent.com/fivethirtyeight/data/master/steak-survey/steak-risk-survey.csv"
GSS_URL = "https://raw.githubusercontent.com/ftramer/Steal-ML/master/data/GSShappiness.csv"


def _download(url) -> bytes:
    """Fetch one file with a progress bar (pooch), return its bytes."""
    import pooch  # imported here: only needed on a first download

    path = pooch.retrieve(url, known_hash=None, progressbar=True)
    return Path(path).read_bytes()


def _download_adult() -> bytes:
    """UCI Adult, training and test parts (48,842 rows), as one CSV with a header."""
    train = _download(UCI_ADULT + "adult.data").decode().strip()
    test = _download(UCI_ADULT + "adult.test").decode().strip().split("\n", 1)[1]  # 1st line is a note
    return "\n".join([ADULT_COLUMNS, train, test.replace(".\n", "\n").rstrip(".")]).encode()


def _download_breast_cancer() -> bytes:
    """UCI Breast Cancer Wisconsin (Original), 699 rows, as a CSV with a header (the UCI file has none)."""
    rows = _download(UCI_BREAST_CANCER).decode().strip()
    return "\n".join([",".join(("sample_code", *BREAST_CANCER_SCORES, "class")), rows]).encode()


def _download_openml(data_id):
    def download() -> bytes:
        print(f"Downloading OpenML data set {data_id} ...", flush=True)
        frame = skdatasets.fetch_openml(data_id=data_id, as_frame=True).frame
        return frame.to_csv(index=False).encode()

    return download


_DOWNLOADS = {
    "adult.csv.gz": _download_adult,
    "steak_survey.csv.gz": lambda: _download(STEAK_URL),
    "gss_happiness.csv.gz": lambda: _download(GSS_URL),
    "breast_cancer_wisconsin.csv.gz": _download_breast_cancer,
    "mushrooms.csv.gz": _download_openml(24),
    "diabetes.csv.gz": _download_openml(37),
}


def data_file(filename) -> Path:
    """Path of a fetched data file: in ``KIT_DATA_DIR`` if set, else the cache, downloading it once."""
    folder = os.environ.get("KIT_DATA_DIR")
    if folder:
        path = Path(folder) / filename
        if not path.is_file():
            raise DataUnavailable(
                f"{filename} is not in KIT_DATA_DIR={folder}; put it there, or unset KIT_DATA_DIR "
                f"to download it into {CACHE_DIR}"
            )
        return path
    path = CACHE_DIR / filename
    if not path.is_file():
        try:
            content = _DOWNLOADS[filename]()
        except Exception as error:  # no network, HTTP error, bad file: one message for all
            raise DataUnavailable(
                f"could not download {filename} ({type(error).__name__}: {error}); copy it into "
                f"{CACHE_DIR} or set KIT_DATA_DIR to a folder that holds it"
            ) from None
        CACHE_DIR.mkdir(exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(gzip.compress(content))
        partial.replace(path)
    return path


def _read_csv(filename, **options) -> pd.DataFrame:
    """Read a cached CSV, whatever its line endings (the GSS file uses bare CR)."""
    text = gzip.decompress(data_file(filename).read_bytes()).decode("utf-8", errors="replace")
    return pd.read_csv(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n")), **options)


ADULT_CONTINUOUS = ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week")


def _adult(target):
    def load(rs):
        frame = _read_csv("adult.csv.gz", skipinitialspace=True)
        frame["income"] = frame["income"].str.rstrip(".")
        return _from_frame(frame, target, ADULT_CONTINUOUS)

    return load


def _steak(rs):
    frame = _read_csv("steak_survey.csv.gz", skiprows=[1]).drop(columns="RespondentID").dropna()
    return _from_frame(frame, "How do you like your steak prepared?")


def _gss(rs):
    frame = _read_csv("gss_happiness.csv.gz").drop(columns="id").dropna()
    frame["age"] = frame["age"].astype(str).str.extract(r"(\d+)", expand=False).astype(float)
    return _from_frame(frame, "Happiness level", continuous=("age",))


def _breast_cancer(rs):
    """The paper's Breast Cancer: Wolberg's original Wisconsin set, 683 complete rows x 9 cytology scores.

    Each score (clump thickness, ..., mitoses) is a grade from 1 to 10, kept as a number (continuous) and scaled
    from [1, 10] to [-1, 1]: the grades are ordered, and the paper did the same. Its Table 3 counts 10 features
    because its experiments read LIBSVM's copy (breast-cancer_scale), whose first feature is the sample code
    number scaled like a measurement; one-hot encoding would have given up to 90. The sample code only
    identifies a sample (a model that used it would learn when the sample arrived, not what it shows), so the
    kit drops it: d = 9 here, one fewer than the paper. The 16 rows whose bare_nuclei is missing ('?') are
    dropped (699 - 16 = 683, the paper's count). Classes: 2 -> "benign", 4 -> "malignant".
    """
    frame = _read_csv("breast_cancer_wisconsin.csv.gz", na_values="?").dropna()
    X, features = _numeric(frame[list(BREAST_CANCER_SCORES)], BREAST_CANCER_SCORES, low=1, high=10)
    return X, frame["class"].map({2: "benign", 4: "malignant"}).to_numpy(), features


def _mushrooms(rs):
    return _from_frame(_read_csv("mushrooms.csv.gz"), "class")


def _diabetes(rs):
    frame = _read_csv("diabetes.csv.gz")
    return _from_frame(frame, "class", continuous=tuple(frame.columns.drop("class")))


_LOADERS = {
    **{name: _synthetic(name) for name in SYNTHETIC},
    "iris": _iris,
    "digits": _digits,
    "breast-cancer-diagnostic": _breast_cancer_diagnostic,
    "adult-income": _adult("income"),
    "adult-race": _adult("race"),
    "steak": _steak,
    "gss": _gss,
    "breast-cancer": _breast_cancer,
    "mushrooms": _mushrooms,
    "diabetes": _diabetes,
}
