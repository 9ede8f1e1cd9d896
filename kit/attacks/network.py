"""The stolen neural network: a one-hidden-layer tanh network fitted to confidences (paper section 4.1.2).

The equations a network's answers give are not linear in its weights; the attacker fits
them with L-BFGS from several random starts, one of them along a decreasing weight decay.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
from sklearn.utils import check_random_state

from .softlabels import LOSSES, SoftLabelModel

WEIGHT_DECAY_PATH = 10.0 ** -np.arange(2, 7.5, 0.5)
"""The weight decays a network's fit passes through before the plain loss, relative to the zero network's loss."""

_PATH_STEP_ITERATIONS = 1000
"""Most L-BFGS iterations per weight decay: each step only needs to bring the fit close to the path."""



class SoftLabelNetwork(SoftLabelModel):
    """Logistic regression (``hidden=0``) or a one-hidden-layer tanh network, fitted to confidences.

    The stolen model of :func:`equation_solving`.  Scores are ``W2 tanh(W1 z + b1) + b2``
    (or ``W z + b`` without a hidden layer) on the one-hot encoded input ``z``; a binary
    model has one score per row, like scikit-learn's.

    Parameters
    ----------
    classes : sequence or None
        The class labels, in the API's order (the columns of the confidences :meth:`fit`
        takes); None: the sorted labels of ``y``, or ``0 .. c - 1`` for c columns.
    hidden : int
        Hidden tanh units; 0 for a linear model.
    link : {"softmax", "ovr"}
        How scores become confidences: softmax (multinomial LR, MLP) or scikit-learn's
        one-vs-rest normalisation ``sigmoid(z_i) / sum_j sigmoid(z_j)``.
    loss : {"cross-entropy", "log-ratio"}
        What :meth:`fit` minimises: the paper's cross-entropy to the confidences, or the
        squared error of the log-ratios (softmax only).
    max_iter : int
        Most L-BFGS iterations per fit (for a network, in its last, plain fit; each weight
        decay on its path takes at most 1,000).
    restarts : int
        Random starting points tried by :meth:`fit` (networks only); the lowest loss wins.
    random_state : int or None
        Seeds the starting points.
    decay : float
        Weight decay of a linear model's fit (``decay * |theta|^2`` added to the loss).
    """

    def __init__(self, classes=None, hidden=0, link="softmax", loss="cross-entropy", restarts=1,
                 max_iter=5000, random_state=None, decay=0.0):
        self.classes = classes
        self.decay = decay
        self.hidden = hidden
        self.link = link
        self.loss = loss
        self.max_iter = max_iter
        self.restarts = restarts
        self.random_state = random_state

    def _shapes(self, d):
        outputs = 1 if len(self.classes_) == 2 else len(self.classes_)
        widths = [d, self.hidden, outputs] if self.hidden else [d, outputs]
        return [shape for fan_in, fan_out in pairwise(widths) for shape in ((fan_out, fan_in), (fan_out,))]

    def _set(self, theta):
        arrays, start = [], 0
        for shape in self._shapes(self.n_features_in_):
            size = math.prod(shape)
            arrays.append(theta[start : start + size].reshape(shape))
            start += size
        self.coefs_, self.intercepts_ = arrays[0::2], arrays[1::2]

    def set_weights(self, coefs, intercepts):
        """Use given weights instead of fitting (the linear solve's result); returns self."""
        outputs = len(intercepts[-1])
        self.classes_ = np.arange(max(outputs, 2)) if self.classes is None else np.asarray(self.classes)
        self.n_features_in_ = coefs[0].shape[1]
        self.coefs_, self.intercepts_ = list(coefs), list(intercepts)
        return self

    def _scores(self, Z):
        for W, b in zip(self.coefs_[:-1], self.intercepts_[:-1], strict=True):
            Z = np.tanh(Z @ W.T + b)
        return Z @ self.coefs_[-1].T + self.intercepts_[-1]

    def _loss_and_gradient(self, Z, P):
        hidden = [np.tanh(Z @ W.T + b) for W, b in zip(self.coefs_[:-1], self.intercepts_[:-1], strict=True)]
        inputs = [Z, *hidden]
        loss, G = LOSSES[self.loss](inputs[-1] @ self.coefs_[-1].T + self.intercepts_[-1], P, self.link)
        gradient = [G.T @ inputs[-1], G.sum(axis=0)]
        if hidden:  # backpropagate through tanh: d tanh(a) / da = 1 - tanh(a)^2
            G = (G @ self.coefs_[-1]) * (1 - hidden[0] ** 2)
            gradient = [G.T @ Z, G.sum(axis=0), *gradient]
        return loss, np.concatenate([g.ravel() for g in gradient])

    def fit(self, X, y):
        """Fit the model's confidences to the API's answers ``y`` on encoded inputs ``X`` (``Z``, n x d).

        ``y`` is the confidence vectors (``P``, n x c) or class labels (n,), each then the
        confidence vector with 1 for its class.

        A linear model starts from zero weights (the loss is convex for softmax).  A network
        starts ``restarts`` times from random draws of scikit-learn's Glorot-uniform
        initialisation, alternately following a weight-decay path (:meth:`_fit_along_path`)
        and fitting the plain loss directly: neither finds the target on every problem (the
        path does on Adult Race at k/2 queries, the plain fit on Moons).  The lowest loss
        wins; a start that matches the log-ratios to 0.1% of their root mean square (the loss
        is then 1e-6 times the zero network's) ends the search.
        """
        Z, P = self._check_fit(X, y)
        shapes = self._shapes(Z.shape[1])
        zeros = np.zeros(sum(math.prod(shape) for shape in shapes))
        if not self.hidden:
            self._fit_from(zeros, Z, P, self.decay)
            return self
        rng = check_random_state(self.random_state)
        zero_network_loss = self._loss(zeros, Z, P, 0.0)[0]
        best_loss, best_theta = np.inf, None
        for start in range(self.restarts):
            decays = zero_network_loss * WEIGHT_DECAY_PATH if start % 2 == 0 else []
            loss = self._fit_along_path(_glorot_uniform(shapes, rng), Z, P, decays)
            if loss < best_loss:
                best_loss, best_theta = loss, self._theta()
            if self.loss == "log-ratio" and best_loss < 1e-6 * zero_network_loss:
                break
        self._set(best_theta)
        return self

    def _fit_along_path(self, theta, Z, P, decays):
        """Fit a network from ``theta`` through decreasing weight ``decays``, then without; return the final loss.

        With few queries (k/2 for Adult Race) the log-ratio equations (section 4.1) have
        poor local minima, reached by letting some weights grow until their tanh units
        saturate.  A strong decay makes the problem nearly convex, so every start reaches
        the same small-weight solution; lowering the decay step by step (:data:`WEIGHT_DECAY_PATH`
        times the zero network's loss) tracks that solution as the weights grow to the
        target's, and the last, plain fit lands in the target's basin.
        """
        for decay in decays:
            self._fit_from(theta, Z, P, decay, min(self.max_iter, _PATH_STEP_ITERATIONS))
            theta = self._theta()
        return self._fit_from(theta, Z, P)

    def _theta(self):
        return np.concatenate([a.ravel() for pair in zip(self.coefs_, self.intercepts_, strict=True) for a in pair])


def _glorot_uniform(shapes, rng):
    """Random weights and biases as scikit-learn's MLP draws them: uniform in +-sqrt(6 / (fan_in + fan_out))."""
    draws = []
    for weight_shape, bias_shape in zip(shapes[0::2], shapes[1::2], strict=True):
        bound = np.sqrt(6 / sum(weight_shape))
        draws += [rng.uniform(-bound, bound, math.prod(weight_shape)), rng.uniform(-bound, bound, bias_shape)]
    return np.concatenate(draws)


