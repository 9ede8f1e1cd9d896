"""The secret models: what a model owner trains and puts behind a prediction API.

Every target is a scikit-learn pipeline: a feature extraction followed by the model, so it
takes the same raw rows the API accepts.  The extraction is the public one-hot encoding of the
inputs (:class:`kit.features.FeatureEncoder`), or with ``extraction="amazon"`` a secret one as
Amazon ML applied in 2016 (:class:`kit.recipes.Recipe`: one-hot categories, quantile bins).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from .features import FeatureEncoder, validate_rows
from .recipes import DEFAULT_BINS, Recipe

TARGET_KINDS = ("logreg", "softmax", "ovr", "mlp", "tree", "rbf-svm", "poly-svm", "kernel-logreg",
                "regression-tree")
"""Model kinds :func:`train_target` knows."""

EXTRACTIONS = ("public", "amazon")
AMAZON_KINDS = ("logreg", "softmax")
"""What Amazon ML served behind its feature extraction: logistic regression (paper Table 2)."""


class KernelLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression on RBF features ``K(x, r_i)`` of a few training points.

    The paper's kernel LR (section 4.1.3): ``f(x) = softmax(alpha K(R, x) + beta)``
    with representers ``R`` drawn from the training data, which is why extracting
    them leaks training data.

    Parameters
    ----------
    n_representers : int
        Number of training points kept as representers.
    gamma : float
        RBF kernel width: ``K(x, r) = exp(-gamma ||x - r||^2)``.
    C : float
        Inverse regularisation of the logistic regression.
    random_state : int or None
        Seeds the choice of representers.
    """

    def __init__(self, n_representers=20, gamma=0.05, C=100.0, random_state=None):
        self.n_representers = n_representers
        self.gamma = gamma
        self.C = C
        self.random_state = random_state

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        rng = check_random_state(self.random_state)
        chosen = rng.choice(len(X), size=min(self.n_representers, len(X)), replace=False)
        self.representers_ = X[chosen]
        self.representer_index_ = chosen
        self.linear_ = LogisticRegression(C=self.C, max_iter=5000).fit(self._kernel(X), y)
        self.classes_ = self.linear_.classes_
        return self

    def _kernel(self, X):
        return rbf_kernel(X, self.representers_, gamma=self.gamma)

    def decision_function(self, X):
        kernel = self._kernel(validate_rows(self, X))
        return self.linear_.decision_function(kernel)

    def predict_proba(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = expit(scores)
            return np.column_stack([1 - positive, positive])
        return softmax(scores, axis=1)

    def predict(self, X):
        likeliest = self.predict_proba(X).argmax(axis=1)
        return self.classes_[likeliest]


def _model(kind, n_classes, random_state, params):
    if kind == "logreg":
        if n_classes != 2:
            raise ValueError(f"'logreg' is binary logistic regression; this data set has {n_classes} classes "
                             "(use 'softmax' or 'ovr')")
        return LogisticRegression(**{"max_iter": 5000, **params})
    if kind == "softmax":
        return LogisticRegression(**{"max_iter": 5000, **params})
    if kind == "ovr":
        return OneVsRestClassifier(LogisticRegression(**{"max_iter": 5000, **params}))
    if kind == "mlp":
        defaults = {"hidden_layer_sizes": (20,), "activation": "tanh", "max_iter": 2000}
        return MLPClassifier(**{**defaults, **params, "random_state": random_state})
    if kind == "tree":
        return DecisionTreeClassifier(**{**params, "random_state": random_state})
    if kind == "regression-tree":
        if n_classes:
            raise ValueError("'regression-tree' needs a data set with numeric targets (classes=()); "
                             f"this one has {n_classes} classes (use 'tree')")
        return DecisionTreeRegressor(**{**params, "random_state": random_state})
    if kind == "rbf-svm":
        return SVC(**{"kernel": "rbf", **params, "random_state": random_state})
    if kind == "poly-svm":  # K(x, y) = (gamma x . y + 1)^2, gamma = 1 / (d Var(x)) ("scale")
        return SVC(**{"kernel": "poly", "degree": 2, "coef0": 1.0, "gamma": "scale", **params,
                      "random_state": random_state})
    return KernelLogisticRegression(**{**params, "random_state": random_state})


def _extraction(dataset, kind, extraction, bins, binned):
    """The pipeline's first step: the public encoding or an Amazon-style recipe (not yet fitted)."""
    if extraction not in EXTRACTIONS:
        raise ValueError(f"unknown extraction {extraction!r}; choose one of: {', '.join(EXTRACTIONS)}")
    if extraction == "public":
        if bins is not None or binned is not None:
            raise ValueError("bins and binned configure extraction='amazon'; the public encoding has no bins")
        return FeatureEncoder(dataset.features)
    if kind not in AMAZON_KINDS:
        raise ValueError(f"extraction='amazon' serves {' or '.join(AMAZON_KINDS)} (Amazon's logistic regression), "
                         f"not {kind!r}")
    return Recipe(dataset.features, DEFAULT_BINS if bins is None else bins, binned)


def train_target(dataset, kind, *, random_state=0, extraction="public", bins=None, binned=None, **params):
    """Train a secret model on the data set's training part.

    Parameters
    ----------
    dataset : Dataset
    kind : str
        One of :data:`TARGET_KINDS`: ``"logreg"`` (binary), ``"softmax"``, ``"ovr"``
        (one-vs-rest LR), ``"mlp"`` (one hidden layer of 20 tanh units), ``"tree"``,
        ``"rbf-svm"``, ``"poly-svm"`` (polynomial kernel, degree 2 unless ``degree=`` says
        otherwise), ``"kernel-logreg"``, ``"regression-tree"`` (a data set with numeric
        targets and ``classes=()``).
    random_state : int
        Seeds the training: the same seed gives the same model.
    extraction : {"public", "amazon"}
        What the service does to the raw inputs before the model sees them: the kit's public
        one-hot encoding, or a secret Amazon-style recipe (paper section 5) for ``"logreg"`` and
        ``"softmax"``: categories one-hot encoded, continuous features cut into quantile bins of
        the training data, each bin one-hot encoded (see :class:`kit.recipes.Recipe`).
    bins : int or None
        ``extraction="amazon"``: quantile bins per binned feature (default 10).
    binned : None or collection of str
        ``extraction="amazon"``: names of the continuous features to bin; None (default) bins
        them all, ``()`` none.
    **params
        Passed to the scikit-learn model (for instance ``max_depth=5`` for a tree).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Feature extraction then model; takes raw rows like the API.
    """
    if kind not in TARGET_KINDS:
        raise ValueError(f"unknown target kind {kind!r}; choose one of: {', '.join(TARGET_KINDS)}")
    first = _extraction(dataset, kind, extraction, bins, binned)
    model = _model(kind, len(dataset.classes), random_state, params)
    target = make_pipeline(first, model)
    return target.fit(dataset.X_train, dataset.y_train)
