"""Line searches that ask an API only for labels: bisection towards the decision boundary (paper section 6)."""

from __future__ import annotations

import numpy as np

from ..api import BudgetExceeded
from ..features import continuous_mask, sample_uniform


class LineSearcher:
    """Bisection on segments of rows, asking the API only for labels; shares one query budget.

    ``budget`` None takes what the API has left (``api.remaining``, None: no limit).  Asking
    past the budget raises :class:`~kit.api.BudgetExceeded` before anything is sent, so the
    attack can stop and return what it has.
    """

    def __init__(self, api, budget, steps):
        self.api, self.steps = api, steps
        self.positive = api.classes[1]
        self.budget = api.remaining if budget is None else budget
        self.stop = None if self.budget is None else api.queries_used + self.budget

    @property
    def left(self):
        """Queries left in the budget (None: no limit)."""
        return None if self.stop is None else self.stop - self.api.queries_used

    def is_positive(self, X):
        X = np.atleast_2d(X)
        if not len(X):  # nothing left to ask (an API refuses empty batches)
            return np.zeros(0, dtype=bool)
        if self.left is not None and len(X) > self.left:
            raise BudgetExceeded(f"the budget of {self.budget} queries is spent")
        return self.api.query(X).labels == self.positive

    def crossing(self, start, end, searches_left):
        """Where the label turns positive on ``start -> end`` (rows with the same categories).

        Returns ``(t, found)``: ``start + t (end - start)`` is within ``2**-steps`` of the
        boundary; when both ends have the same label there is no crossing, and ``t`` is
        the end it lies beyond (0 if both are positive, 1 if both negative).  The steps
        shrink so that every search to come still gets 3 queries (2 ends and a step).
        """
        steps = self.steps
        if self.stop is not None:  # share what is left of the budget among the searches to come
            steps = min(steps, self.left // searches_left - 2)
        if steps < 1:
            raise BudgetExceeded(f"the budget of {self.budget} queries is spent")
        start_positive, end_positive = self.is_positive(np.vstack([start, end]))
        if start_positive == end_positive:
            return float(not start_positive), False
        low, high = 0.0, 1.0  # invariant: label(low) == label(start) != label(high)
        for _ in range(steps):
            middle = (low + high) / 2
            if self.is_positive(start + middle * (end - start))[0] == start_positive:
                low = middle
            else:
                high = middle
        return (low + high) / 2, True


def box_segment(features, x, u):
    """The longest segment ``x + t u`` inside the continuous ranges: its two end rows and the t of each."""
    moving = continuous_mask(features) & (u != 0)
    to_low = (np.array([f.low for f in features])[moving] - x[moving]) / u[moving]
    to_high = (np.array([f.high for f in features])[moving] - x[moving]) / u[moving]
    t_min, t_max = np.minimum(to_low, to_high).max(), np.maximum(to_low, to_high).min()
    return x + t_min * u, x + t_max * u, t_min, t_max


def on_path(features, start, end, t, switch):
    """Rows on the paths ``start -> end`` at ``t`` in [0, 1] (one path per row of ``start``, ``end``, ``t``).

    Continuous features move linearly; each categorical feature switches from ``start``'s
    value to ``end``'s once ``t`` passes its ``switch``, so every row on a path is a valid row.
    """
    t = np.asarray(t, dtype=float)[:, None]
    return np.where(continuous_mask(features), start + t * (end - start), np.where(t < switch, start, end))


def bisect_paths(on_start_side, features, start, end, switch, steps):
    """Bisect every path ``start -> end`` (:func:`on_path`) at once, ``steps`` times; return the rows in the middle.

    ``on_start_side(rows)`` tells, for one row per path, whether it is on its start's
    side of the boundary; after the last step each returned row is within
    ``2**-(steps + 1)`` of its path's crossing.
    """
    low, high = np.zeros(len(start)), np.ones(len(start))  # invariant: start's side at low, the other at high
    for _ in range(steps):
        middle = (low + high) / 2
        same = on_start_side(on_path(features, start, end, middle, switch))
        low, high = np.where(same, middle, low), np.where(same, high, middle)
    return on_path(features, start, end, (low + high) / 2, switch)


# --- Rows that look for a rare class -------------------------------------------------------------------------


def _corners(features, n, rng):
    """``n`` random corners of the feature box: continuous features at their low or high end, categories at random.

    For a linear boundary ``w . x + b = 0`` on ``[-1, 1]^d``, ``w . s`` over the corners
    ``s`` has three times the variance of ``w . x`` over uniform rows, so corners reach
    a class that holds only a far corner of the box much more often than uniform rows.
    """
    X = sample_uniform(features, n, rng)
    for j in np.flatnonzero(continuous_mask(features)):
        X[:, j] = np.where(rng.uniform(size=n) < 0.5, features[j].low, features[j].high)
    return X


def _diagonal(features, n, rng):
    """``n`` random rows on the box's main diagonal: all continuous features at one random fraction of their range.

    Real features tend to rise together (sizes, counts, ages) and to crowd one end of
    their range, so the data, and the class its owner cares about, often lies along the
    line from the all-low row to the all-high row, in a part of the box too small for
    uniform rows (or corners) to find.
    """
    X = sample_uniform(features, n, rng)
    fraction = rng.uniform(size=n)
    for j in np.flatnonzero(continuous_mask(features)):
        X[:, j] = features[j].low + fraction * (features[j].high - features[j].low)
    return X


def _search_rows(features, n, rng):
    """``n`` rows that look for a rare class where uniform rows hardly go: half corners, half on the diagonal."""
    return np.vstack([_corners(features, n - n // 2, rng), _diagonal(features, n // 2, rng)])
