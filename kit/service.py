"""The prediction API over HTTP, and a client with the same face as :class:`kit.PredictionAPI`.

An attack written against ``PredictionAPI`` runs unchanged against :class:`RemoteAPI`:
that is the point of the paper, whose attacks ran against real web services.

Endpoints (JSON in, JSON out):

* ``GET /schema``: the public description: features, classes, output kind, price, budget;
* ``POST /query`` with ``{"rows": [[...], ...]}`` (``null`` for a missing feature): the answer;
* ``GET /usage``: queries used and cost so far.

Every refusal is one JSON line ``{"error": "..."}`` with status 400 (bad request), 402 (budget
exhausted), 404 (no such endpoint), 411/413 (body missing or too large); nothing refused is counted.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from .api import Answer, BudgetExceeded, QueryLog
from .features import Feature, check_rows

MAX_BODY_BYTES = 16 * 1024 * 1024


def _jsonable(values):
    return None if values is None else np.asarray(values, dtype=object).tolist()


def _node_ids(nodes):
    """Node ids back from JSON: indices stay an int array, BigML's (label, confidence) pairs become tuples."""
    if nodes is None or not any(isinstance(node, list) for node in nodes):
        return None if nodes is None else np.asarray(nodes)
    ids = np.empty(len(nodes), dtype=object)
    for i, node in enumerate(nodes):
        ids[i] = tuple(node)
    return ids


class _Handler(BaseHTTPRequestHandler):
    api = None  # set per server by serve()
    lock = None

    def log_message(self, *args):  # keep test and notebook output quiet
        pass

    def _send(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        api = self.api
        if self.path == "/schema":
            self._send(200, {
                "features": [asdict(feature) for feature in api.features], "classes": list(api.classes),
                "output": api.output, "price_per_query": api.price_per_query, "budget": api.budget,
                "accepts_incomplete": api.accepts_incomplete,
            })
        elif self.path == "/usage":
            self._send(200, {"queries_used": api.queries_used, "cost": api.cost})
        else:
            self._send(404, {"error": f"no endpoint {self.path}; use GET /schema, GET /usage or POST /query"})

    def do_POST(self):
        if self.path != "/query":
            return self._send(404, {"error": f"no endpoint {self.path}; use POST /query"})
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return self._send(411, {"error": "a query needs a Content-Length header"})
        if int(length) > MAX_BODY_BYTES:
            return self._send(413, {"error": f"request body over {MAX_BODY_BYTES} bytes; send smaller batches"})
        try:
            request = json.loads(self.rfile.read(int(length)))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return self._send(400, {"error": f"request body is not valid JSON ({error.msg})"})
        if not isinstance(request, dict) or not isinstance(request.get("rows"), list):
            return self._send(400, {"error": 'expected a JSON object {"rows": [[feature values], ...]}'})
        rows = [[np.nan if v is None else v for v in row] if isinstance(row, list) else row for row in request["rows"]]
        try:
            with self.lock:
                answer = self.api.query(rows)
                used = self.api.queries_used
        except BudgetExceeded as error:
            return self._send(402, {"error": str(error)})
        except ValueError as error:
            return self._send(400, {"error": str(error)})
        self._send(200, {"labels": _jsonable(answer.labels), "proba": _jsonable(answer.proba),
                         "nodes": _jsonable(answer.nodes), "queries_used": used})


def serve(api, *, host="127.0.0.1", port=0):
    """Serve ``api`` over HTTP in a background thread.

    Parameters
    ----------
    api : PredictionAPI
    host : str
        Address to listen on (loopback by default).
    port : int
        0 picks a free port.

    Returns
    -------
    ThreadingHTTPServer
        ``server.url`` is its address; ``server.shutdown()`` then ``server.server_close()`` stop it.
    """
    handler = type("Handler", (_Handler,), {"api": api, "lock": threading.Lock()})
    server = ThreadingHTTPServer((host, port), handler)
    server.url = f"http://{host}:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class RemoteAPI:
    """A prediction API reached over HTTP, used exactly like :class:`kit.PredictionAPI`.

    Parameters
    ----------
    url : str
        Base address of a server started by :func:`serve` (or ``python -m kit serve``).
    timeout : float
        Seconds to wait for each answer.
    """

    def __init__(self, url, *, timeout=30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        schema = self._call("GET", "/schema")
        self.features = tuple(Feature(**{**f, "categories": tuple(f["categories"])}) for f in schema["features"])
        self.classes = tuple(schema["classes"])
        self.output = schema["output"]
        self.price_per_query = schema["price_per_query"]
        self.budget = schema["budget"]
        self.accepts_incomplete = schema["accepts_incomplete"]
        self.decimals = None  # a remote service does not say whether it rounds
        self.queries_used = 0
        self.log = QueryLog()

    @property
    def cost(self):
        return self.queries_used * self.price_per_query

    @property
    def remaining(self):
        return None if self.budget is None else self.budget - self._call("GET", "/usage")["queries_used"]

    def _call(self, method, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            message = json.loads(error.read()).get("error", error.reason)
            raise (BudgetExceeded if error.code == 402 else ValueError)(message) from None

    def query(self, X) -> Answer:
        """Send rows to the service; same checks, answer and errors as ``PredictionAPI.query``."""
        X = check_rows(self.features, X, allow_missing=self.accepts_incomplete)
        rows = [[None if np.isnan(v) else float(v) for v in row] for row in X]
        reply = self._call("POST", "/query", {"rows": rows})
        proba = None if reply["proba"] is None else np.asarray(reply["proba"], dtype=float).reshape(len(X), -1)
        answer = Answer(np.asarray(reply["labels"]), proba, _node_ids(reply["nodes"]))
        self.queries_used += len(X)
        self.log.append(X, answer)
        return answer

    def __repr__(self):
        return f"RemoteAPI({self.url}, {self.queries_used} queries used, cost ${self.cost:,.4f})"
