"""How close a stolen model is to its target (paper section 3, "error measures")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import sample_uniform


@dataclass(frozen=True)
class Agreement:
    """Agreement between a target f and a stolen model f^.

    Attributes
    ----------
    test : float
        1 - R_test: fraction of the test set on which both predict the same label.
    uniform : float
        1 - R_unif: the same on points drawn uniformly from the feature space.
    tv_test, tv_uniform : float
        Mean total-variation distance between the two confidence vectors on those
        points (NaN when either model gives labels only).
    n_test, n_uniform : int
        Number of points behind each figure.
    """

    test: float
    uniform: float
    tv_test: float
    tv_uniform: float
    n_test: int
    n_uniform: int

    def __str__(self):
        def tv(value):
            return "n/a (labels only)" if np.isnan(value) else f"{value:.2g}"

        return (
            f"1-R_test {self.test:.2%} | 1-R_unif {self.uniform:.2%} | "
            f"TV_test {tv(self.tv_test)} | TV_unif {tv(self.tv_uniform)}"
        )


def _aligned_proba(model, X, classes):
    """Confidences of ``model`` on ``X`` in the column order of ``classes`` (None if it has none)."""
    if not hasattr(model, "predict_proba"):
        return None
    proba = model.predict_proba(X)
    aligned = np.zeros((len(X), len(classes)))
    position = {label: j for j, label in enumerate(classes)}
    for column, label in enumerate(model.classes_.tolist()):
        aligned[:, position[label]] = proba[:, column]
    return aligned


def _compare(target, stolen, X, classes):
    same = np.mean(target.predict(X) == stolen.predict(X))
    p, q = _aligned_proba(target, X, classes), _aligned_proba(stolen, X, classes)
    tv = np.nan if p is None or q is None else 0.5 * np.abs(p - q).sum(axis=1).mean()
    return float(same), float(tv)


def agreement(target, stolen, dataset, *, n_uniform=10_000, random_state=0) -> Agreement:
    """Measure 1-R_test, 1-R_unif and their total-variation versions.

    Parameters
    ----------
    target, stolen : fitted estimators
        Both take raw rows (``predict``; ``predict_proba`` for the TV distances).
    dataset : Dataset
        Its test part and its feature space.
    n_uniform : int
        Points drawn uniformly from the feature space (paper: 10,000).
    random_state : int
        Seeds the uniform points.
    """
    if not isinstance(n_uniform, int) or n_uniform < 1:
        raise ValueError(f"n_uniform must be a positive integer, got {n_uniform!r}")
    classes = list(dataset.classes)
    uniform_points = sample_uniform(dataset.features, n_uniform, random_state)
    test, tv_test = _compare(target, stolen, dataset.X_test, classes)
    uniform, tv_uniform = _compare(target, stolen, uniform_points, classes)
    return Agreement(test, uniform, tv_test, tv_uniform, len(dataset.X_test), n_uniform)
