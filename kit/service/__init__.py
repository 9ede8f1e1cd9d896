"""The prediction API as a web service, and :class:`RemoteAPI`, its client with :class:`kit.PredictionAPI`'s face.

The service (FastAPI, served by uvicorn) puts one or more secret models behind JSON endpoints,
in the style of BigML (2016); ``GET /openapi.json`` describes them all:

* ``GET /models``: the names of the models served;
* ``GET /models/{name}``: a model's public description: features, classes, output kind, price;
* ``POST /models/{name}/prediction`` with ``{"row": [...]}``: the answer for one row;
* ``POST /models/{name}/batchprediction`` with ``{"rows": [[...], ...]}``: answers for many;
* ``GET /usage``: what the caller's key has used and been billed.

Values are JSON numbers (``null`` for a missing feature, where the model accepts it).
Predictions and usage need an API key in the ``X-API-Key`` header; each key has a budget
and a bill in a :class:`Ledger` (SQLite) that survives a restart.  Refusals are one JSON line
``{"error": "..."}`` with a status 4xx, and cost nothing.

From a notebook::

    with kit.service.start({"moons": api}) as service:
        key = service.create_key("alice", budget=1000)
        remote = kit.RemoteAPI(service.url, key)
        stolen = kit.attacks.equation_solving(remote, model="logreg")
"""

from .app import LOOPBACK, MAX_BODY_BYTES, MAX_ROWS, create_app
from .client import RemoteAPI, ServiceUnreachable
from .ledger import Ledger, UnknownKey, Usage
from .server import Service, bind, run, start

__all__ = ["LOOPBACK", "MAX_BODY_BYTES", "MAX_ROWS", "Ledger", "RemoteAPI", "Service", "ServiceUnreachable",
           "UnknownKey", "Usage", "bind", "create_app", "run", "start"]
