"""Fitting a model to an API's confidence vectors ("soft labels"): the losses and the optimiser (paper section 4.1).

Equation solving (section 4.1), the network fit (4.1.2) and kernel leakage (4.1.3) all
minimise a distance between the API's confidences and the stolen model's, with L-BFGS.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logsumexp, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data
from threadpoolctl import threadpool_limits

from ..features import validate_rows

_LBFGS = {"ftol": 1e-15, "gtol": 1e-12}
"""Tight tolerances: with exact confidences the minimum is the target itself."""


# --- the losses: how far the model's confidences are from the API's ---------------------


def _with_reference(scores):
    """Binary models have one score z per row; their two classes score (0, z) (sigmoid = softmax of (0, z))."""
    return np.hstack([np.zeros((len(scores), 1)), scores]) if scores.shape[1] == 1 else scores


def _confidences(scores, link):
    """Confidence vectors from scores: softmax, or scikit-learn's one-vs-rest (sigmoids divided by their sum)."""
    scores = _with_reference(scores)
    if link == "softmax":
        return softmax(scores, axis=1)
    sigmoids = expit(scores)
    return sigmoids / sigmoids.sum(axis=1, keepdims=True)


def cross_entropy(scores, P, link):
    """Mean cross-entropy -sum_i p_i log q_i between targets ``P`` and the model's ``q``, and its gradient.

    Returns the loss and d loss / d scores.  For softmax the gradient is the familiar
    ``q * sum(p) - p``; for one-vs-rest, ``q_i = s_i / sum_j s_j`` with ``s = sigmoid(z)``,
    it is ``(1 - s) * (q * sum(p) - p)``.  (``sum(p)`` is 1 unless the API rounds.)
    """
    binary = scores.shape[1] == 1
    scores = _with_reference(scores)
    if link == "softmax":
        log_q = scores - logsumexp(scores, axis=1, keepdims=True)
        gradient = np.exp(log_q) * P.sum(axis=1, keepdims=True) - P
    else:
        log_s = log_expit(scores)
        log_q = log_s - logsumexp(log_s, axis=1, keepdims=True)
        gradient = -np.expm1(log_s) * (np.exp(log_q) * P.sum(axis=1, keepdims=True) - P)
    loss = -np.sum(P * log_q) / len(P)
    gradient /= len(P)
    return loss, gradient[:, 1:] if binary else gradient


def log_ratio_loss(scores, P, link):
    """Mean squared error between the model's and the API's log-ratios log(p_i / p_j), and its gradient.

    The nonlinear version of :func:`solve_log_ratios` (softmax only; ``link`` is not
    used): with both sides' logs centred per row (softmax's shift invariance), the residual of class i is
    ``s_i - log p_i``, each up to its row mean.  Unlike cross-entropy, it weighs the
    classes the API deems unlikely as much as the likely ones, so exact answers are used
    to the last digit.  Confidences of 0 are floored as in :func:`solve_log_ratios`.
    """
    log_p = np.log(np.maximum(P, 0.5 * P[P > 0].min()))
    residual = _with_reference(scores) - log_p
    residual -= residual.mean(axis=1, keepdims=True)
    gradient = 2 * residual / len(P)
    return np.sum(residual**2) / len(P), gradient[:, 1:] if scores.shape[1] == 1 else gradient


LOSSES = {"cross-entropy": cross_entropy, "log-ratio": log_ratio_loss}


class SoftLabelModel(ClassifierMixin, BaseEstimator):
    """A classifier on encoded inputs, fitted to confidence vectors ("soft labels") with L-BFGS.

    Its ``fit(X, y)`` takes encoded inputs ``X`` (``Z``) and ``y`` as confidence vectors (``P``, n x c,
    one column per class of ``classes``) or as class labels (n,), each then the confidence vector with
    1 for its class.
    """

    def _check_fit(self, Z, P):
        """Validated inputs ``Z`` and confidences ``P`` (n x c) to fit; sets ``classes_`` and ``n_features_in_``."""
        Z, P = validate_data(self, Z, P, dtype=np.float64, multi_output=True)
        if P.ndim == 1:  # class labels
            check_classification_targets(P)
            classes = np.unique(P) if self.classes is None else np.asarray(self.classes)
            unknown = ~np.isin(P, classes)
            if unknown.any():
                raise ValueError(f"y holds the label {P[unknown].tolist()[0]!r}, which is not one of classes "
                                 f"{classes.tolist()}")
            P = P[:, None] == classes[None, :]
        else:
            classes = np.arange(P.shape[1]) if self.classes is None else np.asarray(self.classes)
            if P.shape[1] != len(classes):
                raise ValueError(f"P must hold one confidence per class: {len(classes)} columns, got {P.shape[1]}")
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs at least two classes, got one class: {classes.tolist()}")
        self.classes_ = classes
        return Z, P.astype(float)

    def predict_proba(self, Z):
        return _confidences(self._scores(validate_rows(self, Z)), self.link)

    def predict(self, Z):
        likeliest = self.predict_proba(Z).argmax(axis=1)
        return self.classes_[likeliest]

    def _fit_from(self, theta, Z, P, decay=0.0, max_iter=None):
        """Minimise the loss plus ``decay * |theta|^2`` with L-BFGS from the flat parameter vector ``theta``.

        Returns the final value (the loss alone when ``decay`` is 0).
        """
        max_iter = self.max_iter if max_iter is None else max_iter
        options = {**_LBFGS, "maxiter": max_iter, "maxfun": 2 * max_iter}
        with threadpool_limits(limits=1, user_api="blas"):  # small products: extra BLAS threads only slow them
            result = minimize(self._loss, theta, args=(Z, P, decay), jac=True, method="L-BFGS-B", options=options)
        self._set(result.x)
        self.n_iter_ = result.nit
        return result.fun

    def _loss(self, theta, Z, P, decay):
        self._set(theta)
        loss, gradient = self._loss_and_gradient(Z, P)
        return loss + decay * (theta @ theta), gradient + 2 * decay * theta


