"""Model inversion on a stolen model: class prototypes for far fewer online queries (paper section 4.1.4).

Fredrikson et al. (CCS 2015) recover what a classifier has learnt of a class (a face, from a
face recogniser) by gradient ascent on the input: start from a blank row and climb the
class's confidence, staying inside the feature box.  Through a black-box API every gradient
costs ``d + 1`` queries (finite differences) per class and step.  Tramèr et al. extract the
model first and invert the copy offline: the only online queries are the extraction's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np

from ..features import CATEGORICAL
from .budget import check_between, check_budget, check_whole


@dataclass
class Inversion:
    """The outcome of a model inversion.

    Attributes
    ----------
    prototypes : ndarray of shape (c, d)
        One raw row per class, in the API's class order: the input the inverted model
        is most confident belongs to that class (up to the norm term).
    classes : ndarray
    queries : int
        Online queries the route paid for: the ascent's own through the API (black box),
        or the extraction's (stolen model, inverted offline).
    cost : float
        What those queries cost, in dollars, at the API's price.
    info : dict
        ``route`` ("black box" or "stolen model"), the ascent's settings and, for the
        stolen model only, ``confidence``: each prototype's confidence for its class as the
        copy answers it (the black box would charge a query for it).
    """

    prototypes: np.ndarray
    classes: np.ndarray
    queries: int
    cost: float
    info: dict = field(default_factory=dict)

    def __repr__(self):
        return f"Inversion({self.info.get('route')}, {len(self.classes)} classes, queries={self.queries:,})"


def log_confidence_gradients(confidences, X, low, high, epsilon):
    """Forward-difference gradients of ``log f_y`` at row ``y`` of ``X``, for every class ``y`` at once.

    Asks ``confidences`` about each row and its ``d`` neighbours ``x + h e_j`` in one batch of
    ``c (d + 1)`` rows; ``h = epsilon``, or ``-epsilon`` where ``x_j + epsilon`` leaves the box.
    Returns the gradients (c x d) and each row's confidence for its class.
    """
    c, d = X.shape
    steps = np.where(X + epsilon <= high, epsilon, -epsilon)
    rows = np.repeat(X[:, None, :], d + 1, axis=1)
    rows[:, 1:, :] += steps[:, :, None] * np.eye(d)  # row j + 1 moves feature j only
    P = np.asarray(confidences(rows.reshape(-1, d)), dtype=float).reshape(c, d + 1, c)
    own = np.log(np.maximum(P[np.arange(c), :, np.arange(c)], 1e-300))  # log f_y at row y and its neighbours
    return (own[:, 1:] - own[:, :1]) / steps, np.exp(own[:, 0])


def roughness_gradient(X, shape):
    """Gradient of half the summed squared differences between neighbouring pixels of each row's image.

    Each row of ``X`` is an image of ``shape``; the gradient at a pixel is its number of
    neighbours times its value minus their sum (the graph Laplacian of the pixel grid).
    """
    images = X.reshape(len(X), *shape)
    gradient = np.zeros_like(images)
    for axis in (1, 2):
        step = np.diff(images, axis=axis)  # pixel minus its neighbour before it along this axis
        before = [(0, 0)] * 3
        before[axis] = (1, 0)
        after = [(0, 0)] * 3
        after[axis] = (0, 1)
        gradient += np.pad(step, before) - np.pad(step, after)
    return gradient.reshape(X.shape)


def _ascend(confidences, low, high, c, steps, step_size, norm, smoothness, shape, epsilon):
    """Projected gradient ascent on the objective of :func:`model_inversion`, from the box's centre, per class."""
    centre = (low + high) / 2
    X = np.tile(centre, (c, 1))
    for _ in range(steps):
        gradients, _ = log_confidence_gradients(confidences, X, low, high, epsilon)
        gradients -= norm * (X - centre)
        if smoothness:
            gradients -= smoothness * roughness_gradient(X, shape)
        X = np.clip(X + step_size * gradients, low, high)
    return X


def model_inversion(
    api, *, stolen=None, steps=20, step_size=0.5, norm=0.1, smoothness=0.0, shape=None, epsilon=1e-3, budget=None
) -> Inversion:
    """Recover one prototype per class by gradient ascent on the input (Fredrikson et al.; section 4.1.4).

    From the centre of the feature box, each class's row climbs

    ``log f_y(x) - norm |x - centre|^2 / 2 - smoothness * roughness(x)``,

    projected back into the box after every step.  The norm term keeps features no class
    cares about at the centre; the roughness (half the summed squared differences of
    neighbouring pixels, for rows that are images) is public knowledge of the input space,
    like Fredrikson et al.'s denoising.  Only ``f_y`` costs queries: its gradient comes from
    forward differences; the other terms are computed by the attacker.

    Parameters
    ----------
    api : PredictionAPI
        The target's API (confidences); its schema gives the box and the classes.  Every
        feature must be continuous (a row of pixels, not categories).
    stolen : Extraction or None
        None: black-box inversion through ``api``, ``steps * c * (d + 1)`` queries, all
        counted.  An Extraction (for instance :func:`equation_solving`'s softmax): its
        model is inverted offline with the same ascent; ``api`` is not queried, and the
        queries reported are the extraction's.
    steps : int
        Gradient steps per class.
    step_size : float
        The ascent's step (features are in units of the box, [-1, 1] for Digits).
    norm : float
        Weight of the norm term ``|x - centre|^2 / 2``; 0 for none.
    smoothness : float
        Weight of the roughness term; 0 (default) for none, else ``shape`` is needed.
    shape : tuple of int or None
        The image shape of a row (Digits: ``(8, 8)``), for the roughness term.
    epsilon : float
        Finite-difference step, less than half the narrowest feature's range.
    budget : int or None
        Black box only: the queries allowed; the ascent needs ``steps * c * (d + 1)`` and
        refuses a smaller budget before its first query.

    Returns
    -------
    Inversion
    """
    steps = check_whole("steps", steps)
    step_size = check_between("step_size", step_size, 0, math.inf)
    if norm != 0:
        norm = check_between("norm", norm, 0, math.inf)
    if any(feature.kind == CATEGORICAL for feature in api.features):
        raise ValueError("model inversion climbs continuous features; this API has categorical ones")
    low = np.array([feature.low for feature in api.features], dtype=float)
    high = np.array([feature.high for feature in api.features], dtype=float)
    epsilon = check_between("epsilon", epsilon, 0, np.min(high - low) / 2)
    c, d = len(api.classes), len(api.features)
    if smoothness != 0:
        smoothness = check_between("smoothness", smoothness, 0, math.inf)
        if shape is None or len(shape) != 2 or math.prod(shape) != d:
            raise ValueError(f"smoothness needs the image shape (rows, columns) of a row of {d} features, "
                             f"got shape={shape!r}")
    settings = {"steps": steps, "step_size": step_size, "norm": norm, "smoothness": smoothness, "shape": shape,
                "epsilon": epsilon}
    if stolen is not None:
        if budget is not None:
            raise ValueError("budget is for the black-box route; inverting a stolen model asks no queries")
        if not hasattr(stolen.model, "predict_proba"):
            raise ValueError("stolen must be an Extraction whose model gives confidences (predict_proba)")
        prototypes = _ascend(stolen.model.predict_proba, low, high, c, **settings)
        confidence = stolen.model.predict_proba(prototypes)[np.arange(c), np.arange(c)]
        return Inversion(prototypes, np.asarray(api.classes), stolen.queries, stolen.cost,
                         {"route": "stolen model", "confidence": confidence, **settings})
    if api.output == "label":
        raise ValueError("black-box model inversion needs confidence values; this API answers labels only")
    required = steps * c * (d + 1)
    check_budget(api, required if budget is None else budget, least=required,
                 what=f"black-box inversion ({steps} steps of c (d + 1) = {c * (d + 1)} rows)")
    start = api.queries_used
    prototypes = _ascend(lambda X: api.query(X).proba, low, high, c, **settings)
    queries = api.queries_used - start
    return Inversion(prototypes, np.asarray(api.classes), queries, queries * api.price_per_query,
                     {"route": "black box", **settings})


def prototype_similarity(first, second):
    """Per class, the cosine similarity and the root-mean-square difference of two sets of prototypes."""
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    cosine = (a * b).sum(axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-300)
    return {"cosine": cosine, "rms": np.sqrt(((a - b) ** 2).mean(axis=1))}


def plot_prototypes(inversions, *, shape=(8, 8), axes=None):
    """Show each inversion's prototypes as one row of images, labelled with its online queries.

    ``inversions`` maps a row label to an :class:`Inversion`.  Grey is the box's centre; the
    contrast is stretched so that the largest departure from it, over all images, is white
    or black (darker: larger values, as in Digits).
    """
    rows = list(inversions.items())
    classes = rows[0][1].classes
    scale = max(np.abs(inversion.prototypes).max() for _, inversion in rows)
    if axes is None:
        _, axes = plt.subplots(len(rows), len(classes), figsize=(0.8 * len(classes), 1.0 * len(rows) + 0.3),
                               squeeze=False)
    for i, (label, inversion) in enumerate(rows):
        for j, (name, image) in enumerate(zip(classes, inversion.prototypes, strict=True)):
            axes[i, j].imshow(np.reshape(image, shape), cmap="gray_r", vmin=-scale, vmax=scale)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            if i == 0:
                axes[i, j].set_title(str(name), fontsize=8)
        axes[i, 0].set_ylabel(f"{label}\n{inversion.queries:,} q", fontsize=7)
    return axes
