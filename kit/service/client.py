"""RemoteAPI: a prediction service reached over HTTP, used exactly like :class:`kit.PredictionAPI`.

An attack written against ``PredictionAPI`` runs unchanged against it: the paper's attacks
ran against real web services (BigML, Amazon).
"""

from __future__ import annotations

import http.client
import json
import threading
import weakref
from urllib.parse import quote, urlsplit

import numpy as np

from ..api import Answer, BudgetExceeded, QueryLog, check_query
from ..defenses import QueryRefused
from ..features import Feature


class ServiceUnreachable(ConnectionError):
    """No answer from the prediction service (not running, wrong address, or too slow)."""


def _node_ids(nodes):
    """Node ids back from JSON: indices stay an int array, BigML's (label, confidence) pairs become tuples."""
    if nodes is None or not any(isinstance(node, list) for node in nodes):
        return None if nodes is None else np.asarray(nodes)
    ids = np.empty(len(nodes), dtype=object)
    for i, node in enumerate(nodes):
        ids[i] = tuple(node)
    return ids


def _close_all(connections):
    while connections:
        connections.pop().close()


class RemoteAPI:
    """A model served by :mod:`kit.service`, with :class:`kit.PredictionAPI`'s interface.

    Parameters
    ----------
    url : str
        The service's address, such as ``http://127.0.0.1:8000``.
    key : str
        Your API key (the teacher makes them: ``python -m kit keys create NAME``).
    model : str or None
        Which served model to query; None when the service serves only one.
    timeout : float
        Seconds to wait for each answer.

    Attributes
    ----------
    queries_used : int
        Inputs this object has had answered (the key's total over all its clients is
        :meth:`usage`).
    log : QueryLog
        Every input answered here and its answer.

    Raises
    ------
    ServiceUnreachable
        The service does not answer.
    PermissionError
        The key is unknown, or the service refuses this address.
    """

    def __init__(self, url, key, *, model=None, timeout=30.0):
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"expected the service's address as http://HOST:PORT, got {url!r}")
        self.url, self.key, self.timeout = url.rstrip("/"), key, timeout
        self._address = (parts.hostname, parts.port or 80)
        self._idle = []  # kept-alive connections not in use; each thread takes one or opens one
        self._lock = threading.Lock()
        self.close = weakref.finalize(self, _close_all, self._idle)
        """Close the connections kept alive (also done when this object is garbage-collected)."""
        names = self._call("GET", "/models")
        if model is None and len(names) != 1:
            raise ValueError(f"this service serves {len(names)} models ({', '.join(names)}); pick one with model=")
        self.model = names[0] if model is None else model
        description = self._call("GET", f"/models/{quote(self.model, safe='')}")
        self.features = tuple(Feature(**{**f, "categories": tuple(f["categories"])}) for f in description["features"])
        self.classes = tuple(description["classes"])
        self.output = description["output"]
        self.price_per_query = description["price_per_query"]
        self.accepts_incomplete = description["accepts_incomplete"]
        self.max_rows = description["max_rows"]
        self.decimals = None  # a remote service does not say whether it rounds
        self.budget = self.usage()["budget"]
        self.queries_used = 0
        self.log = QueryLog()

    @property
    def cost(self) -> float:
        """Dollars this object has spent."""
        return self.queries_used * self.price_per_query

    @property
    def remaining(self):
        """Queries left in the key's budget (None: unlimited), as the service counts them."""
        return self.usage()["remaining"]

    def usage(self) -> dict:
        """The key's usage, as the service's ledger has it: ``name, budget, queries_used, cost, remaining``."""
        return self._call("GET", "/usage")

    def query(self, X) -> Answer:
        """Send rows to the service; the same checks, answer and errors as ``PredictionAPI.query``.

        A batch larger than the service's ``max_rows`` goes as several requests, once the
        key's budget is known to cover all of them.
        """
        X = check_query(self.features, X, allow_missing=self.accepts_incomplete)
        if len(X) > self.max_rows and self.budget is not None and len(X) > self.remaining:
            raise BudgetExceeded(f"query budget of {self.budget} exceeded: {self.budget - self.remaining} used, "
                                 f"this batch asks {len(X)} more; nothing was answered")
        answers = [self._ask(X[start : start + self.max_rows]) for start in range(0, len(X), self.max_rows)]
        answer = answers[0] if len(answers) == 1 else Answer(*[
            None if parts[0] is None else np.concatenate(parts) for parts in zip(*(
                (a.labels, a.proba, a.nodes) for a in answers), strict=True)])
        with self._lock:
            self.queries_used += len(X)
            self.log.append(X, answer)
        return answer

    def _ask(self, X) -> Answer:
        rows = X.tolist()
        if np.isnan(X).any():
            rows = [[None if value != value else value for value in row] for row in rows]  # NaN -> null
        reply = self._call("POST", f"/models/{quote(self.model, safe='')}/batchprediction", {"rows": rows})
        proba = None if reply["proba"] is None else np.asarray(reply["proba"], dtype=float).reshape(len(X), -1)
        return Answer(np.asarray(reply["labels"]), proba, _node_ids(reply["nodes"]))

    def _call(self, method, path, payload=None):
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"X-API-Key": self.key, **({"Content-Type": "application/json"} if body else {})}
        status, data = self._exchange(method, path, body, headers)
        try:
            reply = json.loads(data)
        except ValueError:
            raise ServiceUnreachable(f"{self.url} does not answer like a prediction service") from None
        if status == 402:
            raise BudgetExceeded(reply["error"])
        if status == 429:
            raise QueryRefused(reply["error"])
        if status in (401, 403):
            raise PermissionError(f"the prediction service refused: {reply['error']}")
        if status >= 400:
            raise ValueError(reply.get("error", f"the service answered HTTP {status}"))
        return reply

    def _connect(self):
        connection = http.client.HTTPConnection(*self._address, timeout=self.timeout)
        connection.connect()
        return connection

    def _exchange(self, method, path, body, headers):
        """One request on a kept-alive connection, tried again on a new connection if the service had
        closed the old one while it was idle."""
        with self._lock:
            kept = self._idle.pop() if self._idle else None
        for connection in ([kept] if kept else []) + [None]:
            try:
                connection = connection or self._connect()
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                if connection is not None:
                    connection.close()
                reason = error.strerror or error if isinstance(error, OSError) else error
                if isinstance(error, TimeoutError):
                    break  # the service may still be answering: asking again could pay twice
                continue
            with self._lock:
                self._idle.append(connection)
            return response.status, data
        raise ServiceUnreachable(f"no answer from the prediction service at {self.url}: {reason}")

    def __repr__(self):
        return f"RemoteAPI({self.url}, model {self.model!r}, {self.queries_used} queries used, cost ${self.cost:,.4f})"
