"""Line searches that ask an API only for labels: bisection towards the decision boundary (paper section 6)."""

from __future__ import annotations

import numpy as np

from ..features import (
    continuous_mask,
)


class LineSearcher:
    """Bisection on segments of rows, asking the API only for labels; shares one query budget."""

    def __init__(self, api, budget, steps):
        self.api, self.steps, self.budget = api, steps, budget
        self.positive = api.classes[1]
        self.stop = None if budget is None else api.queries_used + budget

    def is_positive(self, X):
        X = np.atleast_2d(X)
        if not len(X):  # nothing left to ask (an API refuses empty batches)
            return np.zeros(0, dtype=bool)
        if self.stop is not None and self.api.queries_used + len(X) > self.stop:
            raise ValueError(f"budget of {self.budget} queries is too small for Lowd-Meek on this schema")
        return self.api.query(X).labels == self.positive

    def crossing(self, start, end, searches_left):
        """Where the label turns positive on ``start -> end`` (rows with the same categories).

        Returns ``(t, found)``: ``start + t (end - start)`` is within ``2**-steps`` of the
        boundary; when both ends have the same label there is no crossing, and ``t`` is
        the end it lies beyond (0 if both are positive, 1 if both negative).
        """
        steps = self.steps
        if self.stop is not None:  # share what is left of the budget among the searches to come
            steps = min(steps, (self.stop - self.api.queries_used) // searches_left - 2)
        if steps < 1:
            raise ValueError(f"budget of {self.budget} queries is too small for Lowd-Meek: each of the "
                             f"{searches_left} line searches left needs at least 3 queries")
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

