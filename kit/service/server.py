"""Running the service: uvicorn on a socket of our own, in the foreground or on a background thread."""

from __future__ import annotations

import socket
import threading
import time
import warnings

import uvicorn

from .app import LOOPBACK, create_app
from .ledger import Ledger


def bind(host="127.0.0.1", port=0) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one); warns unless ``host`` is loopback.

    Raises
    ------
    OSError
        With one line saying why the address cannot be used (a port in use, say).
    """
    if host not in LOOPBACK:
        warnings.warn(f"serving on {host}, not loopback: other machines may reach the secret models and "
                      "spend the keys' budgets", stacklevel=2)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP named: asyncio then sets TCP_NODELAY
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # reuse a port left in TIME_WAIT, never a live one
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


def _uvicorn(app, **options) -> uvicorn.Server:
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, lifespan="off",
                            ws="none", timeout_keep_alive=5, **options)
    return uvicorn.Server(config)


def _names(host):
    """The Host names to accept: loopback's, the address served, or any for a wildcard address (warned)."""
    if host in ("0.0.0.0", "::", ""):
        return None
    return LOOPBACK if host in LOOPBACK else (*LOOPBACK, host)


class Service:
    """A prediction service running on a background thread (for notebooks and tests).

    Use :func:`start` to make one; ``with start(...) as service:`` stops it at the end.

    Attributes
    ----------
    url : str
        Where it listens, such as ``http://127.0.0.1:53211``.
    ledger : Ledger
        Its keys and bills (closed when the service stops, if :func:`start` opened it).
    app : fastapi.FastAPI
        The application it serves.
    """

    def __init__(self, app, ledger, sock, *, close_ledger=False):
        self.app, self.ledger, self._close_ledger = app, ledger, close_ledger
        host, port = sock.getsockname()[:2]
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        self._server = _uvicorn(app)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True,
                                        name=f"prediction service {self.url}")
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the prediction service at {self.url} did not start")
            time.sleep(0.01)

    def create_key(self, name, *, budget=None) -> str:
        """A new API key for ``name`` (see :meth:`Ledger.create_key`)."""
        return self.ledger.create_key(name, budget=budget)

    def stop(self) -> None:
        """Finish the requests under way, then stop listening."""
        self._server.should_exit = True
        self._thread.join(timeout=30)
        if self._close_ledger:
            self.ledger.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        state = "running" if self._thread.is_alive() else "stopped"
        return f"Service({self.url}, {state})"


def start(models, *, ledger=None, host="127.0.0.1", port=0, **settings) -> Service:
    """Serve ``models`` on a background thread; return the running :class:`Service`.

    Parameters
    ----------
    models : PredictionAPI or mapping of str to PredictionAPI
        The secret models, by name (one API alone is called ``"model"``).
    ledger : Ledger, str, path-like or None
        The keys and bills: a :class:`Ledger`, the path of its SQLite file, or None for
        one in memory (forgotten when the process ends).
    host : str
        The address to listen on; loopback unless you mean to serve other machines.
    port : int
        0 picks a free port.
    **settings
        ``max_rows``, ``max_body_bytes``, ``out_of_range``, ``read_timeout``: see
        :func:`kit.service.create_app`.
    """
    made_here = not isinstance(ledger, Ledger)
    ledger = Ledger(":memory:" if ledger is None else ledger) if made_here else ledger
    app = create_app(models, ledger, hosts=_names(host), **settings)
    return Service(app, ledger, bind(host, port), close_ledger=made_here)


def run(models, *, ledger, host="127.0.0.1", port=8000, announce=print, **settings) -> None:
    """Serve ``models`` in the foreground until Ctrl-C (what ``python -m kit serve`` does)."""
    app = create_app(models, ledger, hosts=_names(host), **settings)
    sock = bind(host, port)
    host, port = sock.getsockname()[:2]
    announce(f"http://{f'[{host}]' if ':' in host else host}:{port}")
    _uvicorn(app).run(sockets=[sock])
