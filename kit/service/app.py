"""The web application: secret models behind a JSON API, described by OpenAPI (``GET /openapi.json``).

The rows of a request are checked before anything is charged, the key is charged before
the model answers (:meth:`Ledger.charge`), and an answer that fails is refunded: a refused
request costs nothing.  Every refusal is a status 4xx with one JSON line ``{"error": "..."}``.
"""

from typing import Annotated
from urllib.parse import urlsplit

import anyio
import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..api import BudgetExceeded, PredictionAPI
from ..defenses import QueryRefused
from ..features import OUT_OF_RANGE, check_ranges
from .ledger import Ledger, UnknownKey

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_ROWS = 10_000
MAX_BODY_BYTES = 16 * 1024 * 1024
READ_TIMEOUT = 10.0
"""Seconds a client has to send a request's body."""

# What travels: a feature value is a JSON number or null (a missing feature); never a string or a boolean.
Value = Annotated[float, Field(strict=True, allow_inf_nan=False)] | None
Label = str | int | float
BigMLId = Annotated[list[Label], Field(min_length=2, max_length=2, description="BigML's pair (label, confidence)")]
"""A tuple would be described with the array form of ``items``, which OpenAPI 3.1 does not allow."""


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid", title='{"row": [value, ...]}')
    row: list[Value] = Field(description="one value per feature, in the order of the description")


class Rows(BaseModel):
    model_config = ConfigDict(extra="forbid", title='{"rows": [[value, ...], ...]}')
    rows: list[list[Value]] = Field(min_length=1, description="rows of feature values")


class FeatureInfo(BaseModel):
    name: str
    kind: str
    low: float
    high: float
    categories: list[str]


class Description(BaseModel):
    name: str
    features: list[FeatureInfo]
    classes: list[Label]
    output: str
    price_per_query: float
    accepts_incomplete: bool
    max_rows: int
    out_of_range: str


class Prediction(BaseModel):
    label: Label
    proba: list[float] | None
    node: int | BigMLId | None
    queries_used: int = Field(description="queries this key has used, this one included")
    cost: float = Field(description="dollars billed to this key so far")


class Predictions(BaseModel):
    labels: list[Label]
    proba: list[list[float]] | None
    nodes: list[int | BigMLId] | None
    queries_used: int
    cost: float


class UsageInfo(BaseModel):
    name: str
    budget: int | None
    queries_used: int
    cost: float
    remaining: int | None


class Error(BaseModel):
    error: str


REFUSALS = {status: {"model": Error, "description": why} for status, why in {
    400: "malformed request, or rows that do not fit the model's description",
    401: "missing or unknown API key",
    402: "the key's budget is spent",
    403: "a Host or Origin that is not this machine",
    404: "no such model",
    408: "the body came too slowly",
    413: "too many rows or too large a body",
    429: "a defence of the model (a query monitor) refuses this key's queries",
    415: "a body that is not application/json",
}.items()}


def _refuse(status: int, message: str):
    raise HTTPException(status, " ".join(message.split()))  # one line


def _one_line(errors) -> str:
    """The first of pydantic's errors, as ``rows[0][1]: Input should be a valid number``."""
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in errors[0]["loc"]).lstrip(".")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'body'}: {errors[0]['msg']}{more}"


class SameMachineOnly:
    """ASGI middleware that refuses a request for another Host (DNS rebinding) or from another site's page (Origin).

    ``hosts``: the names the service answers to; None (a service on every address) takes any Host,
    and an Origin of that same Host.
    """

    def __init__(self, app, hosts):
        self.app = app
        self.hosts = None if hosts is None else {host.strip("[]").lower() for host in hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            host = _hostname("//" + headers.get("host", ""))
            if host is None or (self.hosts is not None and host not in self.hosts):
                names = ", ".join(sorted(self.hosts or ["its own address"]))
                return await JSONResponse({"error": f"this service answers to {names} only"}, 403)(scope, receive, send)
            origin = headers.get("origin")
            if origin is not None and _hostname(origin) not in (self.hosts or {host}):
                message = "requests from other sites' pages are refused"
                return await JSONResponse({"error": message}, 403)(scope, receive, send)
        await self.app(scope, receive, send)


def create_app(models, ledger: Ledger, *, max_rows=MAX_ROWS, max_body_bytes=MAX_BODY_BYTES, out_of_range="refuse",
               read_timeout=READ_TIMEOUT, hosts=LOOPBACK) -> FastAPI:
    """The prediction service as an ASGI application (serve it with :func:`kit.service.start`).

    Parameters
    ----------
    models : PredictionAPI or mapping of str to PredictionAPI
        The secret models, by name; each one's output kind, rounding and price say what
        it answers and what a query costs (its own budget and log are not used: keys
        have budgets, and the ledger keeps the bills).
    ledger : Ledger
        The API keys, their budgets and bills.
    max_rows : int
        The most rows one request may ask.
    max_body_bytes : int
        The largest request body read.
    out_of_range : {"refuse", "clip", "answer"}
        What to do with a continuous value outside its feature's published range.
    read_timeout : float
        Seconds a client has to send the body of a request.
    hosts : sequence of str or None
        The names this service answers to, in the Host header and in the Origin a browser
        sends; None (a service on every address) accepts any Host and an Origin of that Host.
    """
    models = {"model": models} if hasattr(models, "answer") else dict(models)
    if not models or not all(hasattr(api, "check") and hasattr(api, "answer") for api in models.values()):
        raise ValueError("models must be a PredictionAPI or a mapping of names to PredictionAPI objects")
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ValueError(f"max_rows must be a positive whole number, got {max_rows!r}")
    if out_of_range not in OUT_OF_RANGE:
        raise ValueError(f"unknown out-of-range policy {out_of_range!r}; choose one of: {', '.join(OUT_OF_RANGE)}")

    app = FastAPI(title="Model Extraction Lab prediction service", version="1",
                  description="Secret models behind a prediction API, in the style of BigML and Amazon ML (2016).",
                  responses={403: REFUSALS[403]})
    app.add_middleware(SameMachineOnly, hosts=hosts)

    @app.exception_handler(StarletteHTTPException)
    async def refusal(request, error):
        message = str(error.detail)
        if error.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; use {error.headers['Allow']}"
        return JSONResponse({"error": message}, error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, error):
        return JSONResponse({"error": _one_line(error.errors())}, 400)

    key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="a key made by the teacher")

    async def known_key(key: Annotated[str | None, Depends(key_header)]) -> str:
        if key is None:
            _refuse(401, "this endpoint needs an API key in the X-API-Key header")
        try:
            ledger.usage(key)
        except UnknownKey:
            _refuse(401, "unknown API key")
        return key

    Key = Annotated[str, Depends(known_key)]
    Name = Annotated[str, Path(description="a model's name", json_schema_extra={"enum": list(models)})]

    def served(name: str) -> PredictionAPI:
        if name not in models:
            _refuse(404, f"no model {name!r}; this service has: {', '.join(models)}")
        return models[name]

    async def read(request: Request, schema):
        """The request's body, read within the limits and parsed strictly into ``schema``."""
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            _refuse(415, "send the body as JSON with Content-Type: application/json")
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > max_body_bytes:
            _refuse(413, f"request body over {max_body_bytes} bytes; send smaller batches")
        body = bytearray()
        try:
            with anyio.fail_after(read_timeout):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > max_body_bytes:
                        _refuse(413, f"request body over {max_body_bytes} bytes; send smaller batches")
        except TimeoutError:
            _refuse(408, f"the request body took more than {read_timeout:g} s to arrive")
        try:
            return schema.model_validate_json(bytes(body))
        except ValidationError as error:
            _refuse(400, f"{_one_line(error.errors())}; expected {schema.model_config['title']}, each value a "
                         "number or null")

    def answer(name, key, rows):
        """Check the rows, charge the key, answer.

        This runs in the event loop, one request at a time: the row cap bounds how long one
        request makes the others wait, and the model's numpy work would hold Python's lock anyway.
        """
        api = models[name]
        if len(rows) > max_rows:
            _refuse(413, f"{len(rows)} rows in one request; the most is {max_rows}")
        try:
            X = check_ranges(api.features, api.check(rows), out_of_range)
        except ValueError as error:
            _refuse(400, str(error))
        try:
            charge, usage = ledger.charge(key, name, len(X), api.price_per_query)
        except BudgetExceeded as error:
            _refuse(402, str(error))
        try:
            return api.answer(X, client=usage.name), usage
        except QueryRefused as error:
            ledger.refund(charge)
            _refuse(429, str(error))
        except BaseException:
            ledger.refund(charge)
            raise

    @app.get("/models", summary="The names of the models served")
    async def list_models() -> list[str]:
        return list(models)

    @app.get("/models/{name}", summary="A model's public description: its inputs and classes",
             responses={404: REFUSALS[404]})
    async def describe(name: Name) -> Description:
        api = served(name)
        features = [FeatureInfo(name=f.name, kind=f.kind, low=f.low, high=f.high, categories=list(f.categories))
                    for f in api.features]
        return Description(name=name, features=features, classes=list(api.classes), output=api.output,
                           price_per_query=api.price_per_query, accepts_incomplete=api.accepts_incomplete,
                           max_rows=max_rows, out_of_range=out_of_range)

    body_of = {schema: {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema.model_json_schema()}}}} for schema in (Row, Rows)}
    refused = {status: REFUSALS[status] for status in (400, 401, 402, 404, 408, 413, 415, 429)}

    @app.post("/models/{name}/prediction", summary="Answer one row", responses=refused, openapi_extra=body_of[Row])
    async def predict(name: Name, request: Request, key: Key) -> Prediction:
        served(name)
        row = (await read(request, Row)).row
        got, usage = answer(name, key, [row])
        return Prediction(label=_plain(got.labels[0]), proba=None if got.proba is None else got.proba[0].tolist(),
                          node=None if got.nodes is None else _plain(got.nodes[0]),
                          queries_used=usage.queries_used, cost=usage.cost)

    @app.post("/models/{name}/batchprediction", summary="Answer a batch of rows", responses=refused,
              openapi_extra=body_of[Rows])
    async def predict_batch(name: Name, request: Request, key: Key) -> Predictions:
        served(name)
        rows = (await read(request, Rows)).rows
        got, usage = answer(name, key, rows)
        return Predictions(labels=got.labels.tolist(), proba=None if got.proba is None else got.proba.tolist(),
                           nodes=None if got.nodes is None else [_plain(node) for node in got.nodes],
                           queries_used=usage.queries_used, cost=usage.cost)

    @app.get("/usage", summary="What this key has used and been billed", responses={401: REFUSALS[401]})
    async def usage(key: Key) -> UsageInfo:
        used = ledger.usage(key)
        return UsageInfo(name=used.name, budget=used.budget, queries_used=used.queries_used, cost=used.cost,
                         remaining=used.remaining)

    return app


def _hostname(url):
    try:
        return urlsplit(url).hostname
    except ValueError:  # a malformed port or address
        return None


def _plain(node):
    """A node id as JSON has it: an index, or BigML's pair (label, confidence)."""
    return node.item() if isinstance(node, np.generic) else node
