"""The public description of a model's inputs, and what can be done with it alone.

A prediction service publishes the schema of its inputs: each feature's name, whether
it is continuous (with its range) or categorical (with its categories).  Attackers and
owners both work from this schema, so everything here needs nothing but it.

Categorical values travel as integer codes (``0 .. len(categories) - 1``); models see
them one-hot encoded (paper section 3: "features one-hot encoded and scaled to [-1, 1]").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

CONTINUOUS = "continuous"
CATEGORICAL = "categorical"


@dataclass(frozen=True)
class Feature:
    """One input of a model, as the API's public schema describes it.

    Parameters
    ----------
    name : str
        The feature's name.
    kind : {"continuous", "categorical"}
        Continuous values are reals in ``[low, high]``; categorical ones are integer
        codes into ``categories``.
    low, high : float
        The range of a continuous feature (after scaling: ``[-1, 1]``).
    categories : tuple of str
        The values of a categorical feature, in code order.
    """

    name: str
    kind: str = CONTINUOUS
    low: float = -1.0
    high: float = 1.0
    categories: tuple = ()

    def __post_init__(self):
        if self.kind not in (CONTINUOUS, CATEGORICAL):
            raise ValueError(f"feature kind must be 'continuous' or 'categorical', got {self.kind!r}")
        if self.kind == CATEGORICAL and len(self.categories) < 1:
            raise ValueError(f"categorical feature {self.name!r} needs at least one category")

    @property
    def width(self) -> int:
        """Number of columns this feature takes once encoded."""
        return len(self.categories) if self.kind == CATEGORICAL else 1

    def describe(self) -> str:
        """One line for people: ``age: continuous in [-1, 1]``."""
        if self.kind == CATEGORICAL:
            shown = ", ".join(self.categories[:4]) + (", ..." if len(self.categories) > 4 else "")
            return f"{self.name}: categorical, {len(self.categories)} values ({shown})"
        return f"{self.name}: continuous in [{self.low:g}, {self.high:g}]"


def encoded_width(features) -> int:
    """Number of columns of the one-hot encoded input (the paper's d)."""
    return sum(feature.width for feature in features)


def encoded_columns(features) -> np.ndarray:
    """For each encoded column, the index of the feature it comes from."""
    return np.repeat(np.arange(len(features)), [feature.width for feature in features])


def encode(features, X) -> np.ndarray:
    """One-hot encode the categorical columns of ``X``; continuous ones pass through.

    A missing categorical value (NaN) encodes as all zeros.
    """
    X = np.asarray(X, dtype=float)
    columns = []
    for j, feature in enumerate(features):
        if feature.kind == CATEGORICAL:
            codes = X[:, j]
            columns.append(codes[:, None] == np.arange(feature.width)[None, :])
        else:
            columns.append(X[:, j : j + 1])
    if not columns:
        return np.empty((len(X), 0))
    return np.hstack(columns).astype(float)


def validate_rows(estimator, X, *, allow_nan=False) -> np.ndarray:
    """``X`` checked by scikit-learn's ``validate_data`` for a fitted ``estimator``: 2-D, ``n_features_in_`` wide.

    One 1-D row gets a one-line error saying the shape needed (scikit-learn's spans three lines and prints the row).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        The estimator is not fitted.
    ValueError
        ``X`` is not a 2-D array of numbers with the width the estimator was fitted to.
    """
    check_is_fitted(estimator)
    if np.asarray(X).ndim == 1:
        name, width = type(estimator).__name__, estimator.n_features_in_
        raise ValueError(f"{name} takes a 2-D array of rows, shape (n_rows, {width}), got a 1-D array. "
                         "Reshape your data: [row] or row.reshape(1, -1)")
    return validate_data(estimator, X, reset=False, ensure_all_finite="allow-nan" if allow_nan else True)


class FeatureEncoder(TransformerMixin, BaseEstimator):
    """The public encoding as a scikit-learn transformer (first step of every target).

    The schema fixes the width: rows must have one column per feature (a missing
    categorical value, NaN, encodes as zeros), or :meth:`transform` refuses them.

    Parameters
    ----------
    features : sequence of Feature
        The input schema.

    Attributes
    ----------
    n_features_in_ : int
        ``len(features)``: the width of the raw rows.
    """

    def __init__(self, features=()):
        self.features = features

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X=None, y=None):
        """Nothing to learn: the schema says the width; rows ``X``, if given, must have it."""
        self.n_features_in_ = len(self.features)
        if X is not None:
            validate_rows(self, X, allow_nan=True)
        return self

    def transform(self, X):
        """One-hot encode the rows ``X``, of shape (n, ``len(features)``)."""
        return encode(self.features, validate_rows(self, X, allow_nan=True))


def sample_uniform(features, n, random_state=None) -> np.ndarray:
    """Draw ``n`` points uniformly from the feature space.

    Continuous features are uniform on ``[low, high]``, categorical ones uniform over
    their codes.  This is the distribution behind the paper's R_unif (section 3).
    """
    rng = check_random_state(random_state)
    X = np.empty((n, len(features)))
    for j, feature in enumerate(features):
        if feature.kind == CATEGORICAL:
            X[:, j] = rng.randint(feature.width, size=n)
        else:
            X[:, j] = rng.uniform(feature.low, feature.high, size=n)
    return X


def check_rows(features, X, *, allow_missing=False) -> np.ndarray:
    """Validate query rows against the schema; return them as a 2-D float array.

    Raises
    ------
    ValueError
        With a one-line message naming what was expected.
    """
    try:
        raw = np.asarray(X)
        if raw.dtype.kind in "bUS" or (raw.dtype.kind == "O" and any(isinstance(v, (str, bytes, bool))
                                                                     for v in raw.flat)):
            raise TypeError  # not numbers, even "0.5" and True
        X = raw.astype(float)
    except (TypeError, ValueError):
        raise ValueError("queries must be numbers: one row of feature values, or a 2-D batch of rows "
                         "of equal length") from None
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2:
        raise ValueError(f"queries must be one row or a 2-D batch of rows, got an array with {X.ndim} dimensions")
    if X.shape[1] != len(features):
        raise ValueError(f"expected {len(features)} features per row, got {X.shape[1]}")
    missing = np.isnan(X)
    if missing.any() and not allow_missing:
        row, col = np.argwhere(missing)[0]
        raise ValueError(
            f"row {row} has a missing value (NaN/None) for {features[col].name!r}; "
            "this API answers complete queries only"
        )
    if np.isinf(X).any():
        raise ValueError("queries must be finite; got an infinite value")
    for j, feature in enumerate(features):
        if feature.kind != CATEGORICAL:
            continue
        codes = X[~missing[:, j], j]
        bad = (codes != np.round(codes)) | (codes < 0) | (codes >= feature.width)
        if bad.any():
            raise ValueError(
                f"feature {feature.name!r} is categorical: expected an integer code "
                f"0..{feature.width - 1}, got {codes[bad][0]:g}"
            )
    return X


OUT_OF_RANGE = ("refuse", "clip", "answer")
"""What a service may do with a continuous value outside its feature's published range."""


def check_ranges(features, X, policy="refuse") -> np.ndarray:
    """Apply an out-of-range policy to checked rows (missing values pass).

    Parameters
    ----------
    features : sequence of Feature
    X : ndarray of shape (n, len(features))
        Rows already checked by :func:`check_rows`.
    policy : {"refuse", "clip", "answer"}
        Refuse the rows with a ValueError, clip each value to its range, or answer
        them as they are (what BigML and Amazon did in 2016).

    Returns
    -------
    ndarray
        The rows to answer.
    """
    if policy not in OUT_OF_RANGE:
        raise ValueError(f"unknown out-of-range policy {policy!r}; choose one of: {', '.join(OUT_OF_RANGE)}")
    continuous = [j for j, feature in enumerate(features) if feature.kind != CATEGORICAL]
    if policy == "answer" or not continuous:
        return X
    low = np.array([features[j].low for j in continuous])
    high = np.array([features[j].high for j in continuous])
    if policy == "clip":
        X = X.copy()
        X[:, continuous] = np.clip(X[:, continuous], low, high)  # NaN (missing) stays NaN
        return X
    outside = (X[:, continuous] < low) | (X[:, continuous] > high)  # False for NaN (missing)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        feature = features[continuous[col]]
        raise ValueError(f"row {row}: {feature.name!r} is {X[row, continuous[col]]:g}, outside its range "
                         f"[{feature.low:g}, {feature.high:g}]")
    return X


def continuous_mask(features) -> np.ndarray:
    """Mask of the raw columns that hold continuous features."""
    return np.array([feature.kind != CATEGORICAL for feature in features])
