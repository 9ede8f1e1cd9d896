"""Service-side feature extraction: what Amazon ML did to the inputs before its model saw them (paper section 5).

In 2016 Amazon Machine Learning ran every input through a "recipe" the model owner chose and
the people querying the model never saw: categorical features one-hot encoded, numeric features
cut into quantile bins, each bin one-hot encoded in turn.  The attacker knows only the raw inputs
(the API's ``features``); the representation the model works on is secret and has to be
reverse-engineered first (:func:`kit.attacks.online_extraction`).

How a recipe treats values it has no column for:

- an **omitted** feature (NaN: an incomplete query) encodes as zeros: all-zero one-hot columns, and 0
  for a numeric feature left unbinned, so it adds nothing to a linear model's score (paper section 5:
  "omitted features count as 0", which is what makes single-feature queries one-unknown equations);
- a category code that never occurs in the training data (**unseen**) encodes like an omitted value:
  the model has no column, hence no weight, for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .features import CATEGORICAL, validate_rows

DEFAULT_BINS = 10
"""Quantile bins per numeric feature unless the owner says otherwise."""


@dataclass(frozen=True)
class Step:
    """What a recipe does to one raw feature.

    Attributes
    ----------
    kind : {"one-hot", "bins", "numeric"}
        One column per category code in ``values``; one column per bin, the bins cut at the
        edges in ``values`` (a bin holds ``edges[k - 1] < x <= edges[k]``); or the value itself.
    values : tuple of float
        The category codes that get a column, or the bin edges in increasing order (empty for numeric).
    """

    kind: str
    values: tuple = ()

    @property
    def width(self) -> int:
        """Number of columns this feature takes once encoded."""
        return {"one-hot": len(self.values), "bins": len(self.values) + 1, "numeric": 1}[self.kind]

    def encode(self, x) -> np.ndarray:
        """The columns of one raw feature ``x`` (NaN: omitted, encoded as zeros)."""
        missing = np.isnan(x)
        if self.kind == "numeric":
            return np.where(missing, 0.0, x)[:, None]
        if self.kind == "bins":
            x, slots = np.searchsorted(self.values, x, side="left"), np.arange(self.width)
        else:
            slots = np.asarray(self.values)
        return ((x[:, None] == slots[None, :]) & ~missing[:, None]).astype(float)


def quantile_edges(values, bins) -> np.ndarray:
    """Bin edges of one numeric feature from its training values: the quantiles at 1/bins, ..., (bins-1)/bins.

    Each edge sits halfway between the two distinct training values around its quantile (where a
    tree puts its thresholds), so no training value lies on an edge; equal edges merge, so a
    feature with few distinct values gets fewer bins.
    """
    values = np.asarray(values, dtype=float)
    distinct = np.unique(values)
    quantiles = np.quantile(values, np.arange(1, bins) / bins)
    above = np.searchsorted(distinct, quantiles, side="right")
    # np.quantile's interpolation can land a hair below the training value it falls on: that value counts as reached
    reached = np.isclose(distinct[np.minimum(above, len(distinct) - 1)], quantiles, rtol=1e-12, atol=1e-12)
    above = above + (reached & (above < len(distinct)))
    above = np.unique(above[above < len(distinct)])  # a quantile at the largest value cuts nothing off
    return (distinct[above - 1] + distinct[above]) / 2


class Recipe(TransformerMixin, BaseEstimator):
    """Amazon-style feature extraction: one-hot categories, quantile bins for numeric features.

    Parameters
    ----------
    features : sequence of Feature
        The raw inputs (the API's public schema).
    bins : int
        Quantile bins per binned feature (at least 2; fewer where the training data has fewer
        distinct values, see :func:`quantile_edges`).
    binned : None or collection of str
        Names of the continuous features to bin; None bins them all (Amazon's default), ``()``
        none (continuous values then reach the model as they are).

    Attributes
    ----------
    steps_ : tuple of Step
        What the fitted recipe does to each feature: the secret an attacker has to recover.
    n_features_in_ : int
        ``len(features)``: rows must have one column per feature (NaN: omitted).
    """

    takes_missing = True
    """An API serving a model behind a recipe can answer incomplete queries (omitted features encode as zeros)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def __init__(self, features=(), bins=DEFAULT_BINS, binned=None):
        self.features = features
        self.bins = bins
        self.binned = binned

    @classmethod
    def from_steps(cls, features, steps):
        """A recipe already fitted to the given steps (what an attacker rebuilds from its queries)."""
        recipe = cls(features)
        recipe.steps_ = tuple(steps)
        recipe.n_features_in_ = len(recipe.steps_)
        return recipe

    def _binned_names(self):
        continuous = [feature.name for feature in self.features if feature.kind != CATEGORICAL]
        if self.binned is None:
            return set(continuous)
        unknown = sorted(set(self.binned) - set(continuous))
        if unknown or isinstance(self.binned, str):
            raise ValueError(f"binned must name continuous features ({', '.join(continuous) or 'none'}), "
                             f"got {self.binned!r}")
        return set(self.binned)

    def fit(self, X, y=None):
        """Find each binned feature's edges and each categorical feature's seen codes in the training rows ``X``."""
        if isinstance(self.bins, bool) or not isinstance(self.bins, Integral) or self.bins < 2:
            raise ValueError(f"bins must be a whole number of quantile bins >= 2, got {self.bins!r}")
        binned = self._binned_names()
        self.n_features_in_ = len(self.features)
        X = validate_rows(self, X, allow_nan=True)
        steps = []
        for feature, column in zip(self.features, X.T, strict=True):
            seen = column[~np.isnan(column)]
            if feature.kind == CATEGORICAL:
                steps.append(Step("one-hot", tuple(np.unique(seen).tolist())))
            elif feature.name in binned:
                steps.append(Step("bins", tuple(quantile_edges(seen, self.bins).tolist())))
            else:
                steps.append(Step("numeric"))
        self.steps_ = tuple(steps)
        return self

    def transform(self, X):
        """Encode raw rows (NaN: an omitted feature) as the model sees them."""
        check_is_fitted(self, "steps_")
        X = validate_rows(self, X, allow_nan=True)
        columns = [step.encode(X[:, j]) for j, step in enumerate(self.steps_)]
        return np.hstack(columns) if columns else np.empty((len(X), 0))

    def describe(self) -> str:
        """One line per feature: what the recipe does to it."""
        lines = []
        for feature, step in zip(self.features, self.steps_, strict=True):
            if step.kind == "bins":
                edges = ", ".join(f"{edge:.4g}" for edge in step.values)
                lines.append(f"{feature.name}: {step.width} quantile bins, edges {edges}")
            elif step.kind == "one-hot":
                lines.append(f"{feature.name}: one-hot, {step.width} columns")
            else:
                lines.append(f"{feature.name}: numeric, as is")
        return "\n".join(lines)
