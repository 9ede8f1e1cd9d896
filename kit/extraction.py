"""What every attack returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Extraction:
    """The outcome of an attack.

    Attributes
    ----------
    model : estimator
        The stolen model, scikit-learn style (``predict``, and ``predict_proba`` where
        the attack recovers confidences); it takes the same raw rows as the API.
    queries : int
        Number of inputs the attack had answered.
    cost : float
        What those queries cost, in dollars, at the API's price.
    log : QueryLog
        What the attack asked and what it was told, in order.
    info : dict
        Attack-specific extras (method used, warnings, steps for teaching views).
    """

    model: object
    queries: int
    cost: float
    log: object
    info: dict = field(default_factory=dict)

    @classmethod
    def from_api(cls, model, api, *, since=0, **info):
        """Record an attack's result from the API's counters since query number ``since``."""
        queries = api.queries_used - since
        return cls(model, queries, queries * api.price_per_query, api.log[since:], info)

    def __repr__(self):
        return f"Extraction({type(self.model).__name__}, queries={self.queries}, cost=${self.cost:,.4f})"
