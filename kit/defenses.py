"""What a prediction API can hide, perturb or refuse (paper section 7, and two defences since).

Every defence is a setting of :class:`kit.PredictionAPI`, given in its ``defenses=`` list::

    api = PredictionAPI(target, features, defenses=[GaussianNoise(0.05), Rounding(2), QueryMonitor()])

- :class:`Rounding`, :class:`LabelsOnly` and :class:`RefuseIncomplete` are the paper's own
  countermeasures; the API folds them into its ``decimals=``, ``output=`` and ``incomplete=`` settings.
- :class:`GaussianNoise` and :class:`ReverseSigmoid` perturb every confidence vector, in the order given,
  after the model and before rounding.  Where a perturbation moves the top-1 class, the answered label
  moves with it: the API never answers a label its confidences contradict.  Node ids (trees) are untouched.
- :class:`QueryMonitor` watches each client's stream of queries (PRADA) and can flag, throttle or refuse a
  client whose queries look like an extraction.  A refused query costs nothing: it is neither answered,
  counted, charged nor logged.

Each defence states what it does to an honest user's answers: ``keeps_top1(n_classes)`` (True: the
answered label is always the model's own) and ``max_error(n_classes)`` (a bound on how far any answered
confidence can be from the model's; 1.0 says there is no useful bound).  :func:`honest_loss` measures both
on real rows.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, logit
from scipy.stats import shapiro

from .features import CATEGORICAL, encode

MAX_DECIMALS = 15
"""The most decimals confidences can be rounded to."""


class QueryRefused(RuntimeError):
    """The API refused a batch of queries; nothing was answered, counted or charged."""


class ClientFlagged(QueryRefused):
    """A query monitor refuses a client whose queries look like an extraction attack."""


def _check_number(name, value, *, positive=False):
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value < 0 or (
        positive and value == 0
    ):
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


class Defense:
    """A setting of the prediction API that hides, perturbs or refuses answers.

    Subclasses say what an honest user loses (:meth:`keeps_top1`, :meth:`max_error`) and
    override :meth:`perturb` (confidence defences), :meth:`admit` (gates) or
    :attr:`api_setting` (the paper's countermeasures the API has built in).
    """

    api_setting: dict = {}
    """Keyword arguments of :class:`kit.PredictionAPI` this defence stands for (folded in by the API)."""
    perturbs = False
    """Whether :meth:`perturb` changes confidences (the API then needs a model that gives them)."""

    def keeps_top1(self, n_classes) -> bool:
        """Whether an honest user always gets the model's own label (and top-1 confidence)."""
        return True

    def max_error(self, n_classes) -> float:
        """Largest possible change of any confidence an honest user is answered (1.0: no bound)."""
        return 0.0

    def perturb(self, proba) -> np.ndarray:
        """The confidence vectors the API answers instead of ``proba`` (rows sum to 1)."""
        return proba

    def admit(self, X, features, client):
        """Called before a batch is answered; may wait, or raise :class:`QueryRefused`."""

    def __repr__(self):
        shown = ", ".join(f"{name}={value!r}" for name, value in vars(self).items() if not name.startswith("_"))
        return f"{type(self).__name__}({shown})"


class Rounding(Defense):
    """Round every confidence to ``decimals`` decimals (paper section 7, Figure 7): the API's ``decimals=``.

    Honest user: keeps the label; each confidence moves by at most half a unit of the last decimal
    (two classes may then tie in the confidences, the label still tells them apart).
    """

    def __init__(self, decimals):
        if isinstance(decimals, bool) or not isinstance(decimals, Integral) or not 0 <= decimals <= MAX_DECIMALS:
            raise ValueError(f"Rounding takes an integer number of decimals from 0 to {MAX_DECIMALS}, got {decimals!r}")
        self.decimals = int(decimals)

    @property
    def api_setting(self):
        return {"decimals": self.decimals}

    def max_error(self, n_classes):
        return 0.5 * 10.0**-self.decimals


class LabelsOnly(Defense):
    """Answer the label alone (paper sections 6 and 7): the API's ``output="label"``.

    Honest user: keeps the label, loses every confidence (``max_error`` 1.0: nothing is told).
    """

    api_setting = {"output": "label"}

    def max_error(self, n_classes):
        return 1.0


class RefuseIncomplete(Defense):
    """Refuse rows that leave features unspecified (paper section 7): the API's ``incomplete=False``.

    Honest user: complete rows are answered exactly; incomplete ones are refused (a ValueError, free).
    """

    api_setting = {"incomplete": False}


class GaussianNoise(Defense):
    """Add Gaussian noise of standard deviation ``scale`` to every confidence, clip to [0, 1], re-normalise.

    Each answer draws fresh noise from a generator seeded by ``random_state`` (so asking the same row
    many times and averaging undoes it).  Honest user: confidences off by about ``scale``; the top-1
    class can change where the model is unsure (within about ``scale`` of a tie), so neither the label
    nor the confidences carry a guarantee.

    Parameters
    ----------
    scale : float
        Standard deviation of the noise, >= 0 (0 changes nothing).
    random_state : int or None
    """

    perturbs = True

    def __init__(self, scale, *, random_state=0):
        self.scale = _check_number("GaussianNoise scale", scale)
        self.random_state = random_state
        self._rng = np.random.default_rng(random_state)

    def keeps_top1(self, n_classes):
        return self.scale == 0

    def max_error(self, n_classes):
        return 0.0 if self.scale == 0 else 1.0

    def perturb(self, proba):
        noisy = proba + self._rng.normal(0.0, self.scale, size=proba.shape)
        clipped = np.clip(noisy, 0.0, 1.0)
        empty = clipped.sum(axis=1) == 0  # every class pushed below 0: answer the noisy top class
        clipped[empty, noisy[empty].argmax(axis=1)] = 1.0
        return clipped / clipped.sum(axis=1, keepdims=True)


class ReverseSigmoid(Defense):
    """The reverse-sigmoid perturbation of Lee et al. (2019), "Defending against NN model stealing attacks
    using deceptive perturbations" (IEEE S&P Workshops; arXiv 1806.00054).

    Each confidence ``y`` becomes ``y - beta (sigmoid(gamma logit(y)) - 1/2)``, clipped to [0, 1], and the
    vector is re-normalised.  Where ``beta * gamma > 1`` the map is not monotone, so the answers cannot be
    inverted to the model's confidences (nor their logits, which equation solving needs).

    Honest user: the top-1 class is guaranteed for any number of classes when ``gamma >= 1`` and
    ``beta * gamma < 1`` (the map is then increasing); for two classes also when ``beta <= 1``,
    ``gamma <= 1`` and ``beta * gamma < 1``.  Two classes: each confidence moves by less than ``beta / 2``.

    Parameters
    ----------
    beta : float
        Magnitude, > 0.
    gamma : float
        Convergence (how fast the perturbation grows away from 1/2), > 0.  The defaults keep every honest
        user's top-1 class.
    """

    perturbs = True

    def __init__(self, beta=0.5, gamma=1.5):
        self.beta = _check_number("ReverseSigmoid beta", beta, positive=True)
        self.gamma = _check_number("ReverseSigmoid gamma", gamma, positive=True)

    def keeps_top1(self, n_classes):
        increasing = self.gamma >= 1 and self.beta * self.gamma < 1
        return increasing or (n_classes == 2 and self.beta <= 1 and self.gamma <= 1 and self.beta * self.gamma < 1)

    def max_error(self, n_classes):
        return min(1.0, self.beta / 2) if n_classes == 2 else 1.0

    def perturb(self, proba):
        y = np.clip(proba, 1e-9, 1 - 1e-9)
        perturbed = np.clip(proba - self.beta * (expit(self.gamma * logit(y)) - 0.5), 0.0, 1.0)
        return perturbed / perturbed.sum(axis=1, keepdims=True)


ACTIONS = ("flag", "throttle", "refuse")


class QueryMonitor(Defense):
    """Flag clients whose queries look like an extraction, in the spirit of PRADA (Juuti et al. 2019,
    "PRADA: protecting against DNN model stealing attacks", IEEE EuroS&P).

    For each client, every new query's distance to the nearest of that client's earlier queries is kept
    (L2, features scaled to [0, 1] and one-hot encoded).  Honest queries, drawn from the data, give
    distances that look normally distributed, as they are (PRADA's images of thousands of pixels; data with
    categories) or after a logarithm (a few continuous features, where nearest-neighbour distances are
    skewed); an attack's line searches (steps of 1e-3 and less), grids and repeats give neither.  Once a
    client has sent ``min_queries`` queries, a Shapiro-Wilk test runs on the distances and on their
    logarithms after every query, and the client is flagged for good when both statistics W fall below
    ``threshold``.

    Honest user: answers unchanged; a falsely flagged honest user is throttled or refused like an attacker.

    Parameters
    ----------
    threshold : float
        Flag when Shapiro-Wilk's W (in (0, 1], 1 for perfectly normal) falls below this.
    min_queries : int
        Queries a client sends before the test starts.
    action : {"flag", "throttle", "refuse"}
        What happens to a flagged client: nothing but the flag (the owner reads :attr:`flagged`), a wait
        of ``delay`` seconds per row, or :class:`ClientFlagged` for every batch from then on (the batch
        that gets a client flagged included).
    delay : float
        Seconds per row a throttled client waits.
    window : int
        The test looks at the most recent ``window`` distances (Shapiro-Wilk is accurate up to 5,000).

    Attributes
    ----------
    flagged : dict
        Client -> the number of its queries seen when it was flagged.
    """

    def __init__(self, *, threshold=0.8, min_queries=50, action="refuse", delay=0.01, window=5000):
        self.threshold = _check_number("QueryMonitor threshold", threshold, positive=True)
        if self.threshold >= 1:
            raise ValueError(f"QueryMonitor threshold is a Shapiro-Wilk W in (0, 1), got {threshold!r}")
        for name, value, least in (("min_queries", min_queries, 3), ("window", window, 3)):
            if isinstance(value, bool) or not isinstance(value, Integral) or value < least:
                raise ValueError(f"QueryMonitor {name} must be a whole number >= {least}, got {value!r}")
        if action not in ACTIONS:
            raise ValueError(f"unknown QueryMonitor action {action!r}; choose one of: {', '.join(ACTIONS)}")
        self.min_queries, self.window, self.action = int(min_queries), int(window), action
        self.delay = _check_number("QueryMonitor delay", delay)
        self.flagged = {}
        self._seen = {}  # client -> scaled rows seen
        self._distances = {}  # client -> distance of each row to the nearest earlier one

    def queries_seen(self, client=None) -> int:
        """How many of ``client``'s queries the monitor has examined."""
        return len(self._distances.get(client, ()))

    def admit(self, X, features, client):
        if client not in self.flagged:
            self._observe(client, _scaled(features, X))
        if client not in self.flagged:
            return
        if self.action == "refuse":
            raise ClientFlagged(
                f"queries refused: client {client!r} was flagged as a likely extraction after "
                f"{self.flagged[client]} queries; nothing was answered or counted"
            )
        if self.action == "throttle":
            time.sleep(self.delay * len(X))

    def _observe(self, client, rows):
        distances = self._distances.setdefault(client, [])
        seen = self._room(client, len(distances) + len(rows), rows.shape[1])
        for row in rows:
            earlier = seen[: len(distances)]
            distances.append(np.sqrt(((earlier - row) ** 2).sum(axis=1).min()) if len(earlier) else np.nan)
            seen[len(distances) - 1] = row
            if len(distances) > self.min_queries and self._looks_like_attack(distances):
                self.flagged[client] = len(distances)
                break

    def _room(self, client, rows, width):
        """The client's array of rows seen, grown (doubling) to hold at least ``rows``."""
        seen = self._seen.get(client, np.empty((0, width)))
        if len(seen) < rows:
            grown = np.empty((max(rows, 2 * len(seen)), width))
            grown[: len(seen)] = seen
            seen = self._seen[client] = grown
        return seen

    def _looks_like_attack(self, distances):
        recent = np.asarray(distances[1:][-self.window :])
        return max(_normality(recent), _normality(np.log(recent + _SMALLEST_DISTANCE))) < self.threshold


def _normality(values):
    """Shapiro-Wilk's W; 0 for values all equal (repeats, a grid: nothing honest does that)."""
    return 0.0 if np.ptp(values) == 0 else shapiro(values).statistic


_SMALLEST_DISTANCE = 1e-12
"""Added to distances before their logarithm, so that a repeated query counts as a tiny distance."""


def _scaled(features, X):
    """Rows one-hot encoded, continuous features scaled to [0, 1], missing values at 0."""
    scaled = np.array(X, dtype=float)
    for j, feature in enumerate(features):
        if feature.kind != CATEGORICAL:
            scaled[:, j] = (scaled[:, j] - feature.low) / (feature.high - feature.low)
    return np.nan_to_num(encode(features, scaled))


_DEFAULTS = {"decimals": None, "output": "proba", "incomplete": True}
"""PredictionAPI's defaults for the settings that defences may fold in."""


def fold(defenses, **settings):
    """Split ``defenses`` into the API's own settings and the defences it applies itself.

    Returns the keyword ``settings`` updated by the :attr:`Defense.api_setting` of each defence, and
    the tuple of the others.  Raises a one-line ValueError for anything that is not a Defense, and
    for a setting given twice with different values.
    """
    applied = []
    for defense in defenses:
        if not isinstance(defense, Defense):
            raise ValueError(f"defenses must be kit.defenses objects (Rounding, GaussianNoise, ...), got {defense!r}")
        for name, value in defense.api_setting.items():
            if settings[name] != _DEFAULTS[name] and settings[name] != value:
                raise ValueError(f"{defense!r} sets {name}={value!r}, but {name}={settings[name]!r} was given too")
            settings[name] = value
        if not defense.api_setting:
            applied.append(defense)
    return settings, tuple(applied)


def perturbed(defenses, labels, proba, classes):
    """Apply the confidence defences in order; the label follows the top-1 class where it moved."""
    perturbing = [defense for defense in defenses if defense.perturbs]
    if not perturbing or proba is None or not len(proba):
        return labels, proba
    answered = proba
    for defense in perturbing:
        answered = defense.perturb(answered)
    moved = answered.argmax(axis=1) != proba.argmax(axis=1)
    labels = np.array(labels)
    labels[moved] = np.asarray(classes)[answered[moved].argmax(axis=1)]
    return labels, answered


@dataclass(frozen=True)
class HonestLoss:
    """What an honest user lost on some rows: the share whose label was kept, and confidence errors."""

    top1_kept: float
    mean_error: float
    max_error: float

    def __str__(self):
        return f"label kept {100 * self.top1_kept:.1f}%, confidence error mean {self.mean_error:.3f} max " \
               f"{self.max_error:.3f}"


def honest_loss(target, features, rows, defenses) -> HonestLoss:
    """Answer ``rows`` with and without ``defenses`` and compare (a fresh API each, so nothing is spent).

    A withheld confidence (labels only) counts as an error of 1.  Rows a monitor refuses count as lost.
    """
    from .api import PredictionAPI  # the API imports this module

    plain = PredictionAPI(target, features).query(rows)
    try:
        answer = PredictionAPI(target, features, defenses=defenses).query(rows)
    except QueryRefused:
        return HonestLoss(0.0, 1.0, 1.0)
    kept = float(np.mean(np.asarray(answer.labels) == np.asarray(plain.labels)))
    if answer.proba is None:
        return HonestLoss(kept, 1.0, 1.0)
    error = np.abs(answer.proba - plain.proba).max(axis=1)
    return HonestLoss(kept, float(error.mean()), float(error.max()))
