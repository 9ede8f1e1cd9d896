"""The service's books: API keys, a budget and a bill per key, kept in SQLite so that a restart forgets nothing.

A key is charged *before* its rows are answered (reserve, then answer) in one SQL statement
that also checks the budget, so clients racing at the limit can never overshoot it; a
request that then fails is refunded and costs nothing.  Only a digest of each key is
stored: whoever reads the file learns the names and the bills, not the keys.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from numbers import Integral

from ..api import BudgetExceeded

SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    digest TEXT PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    budget INTEGER,               -- NULL: unlimited
    used INTEGER NOT NULL DEFAULT 0,
    billed REAL NOT NULL DEFAULT 0,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS charges (   -- one line per answered request
    id INTEGER PRIMARY KEY,
    digest TEXT NOT NULL REFERENCES keys(digest),
    model TEXT NOT NULL,
    rows INTEGER NOT NULL,
    cost REAL NOT NULL,
    at TEXT NOT NULL
);
"""


class UnknownKey(LookupError):
    """The request's API key is not in the ledger."""


@dataclass(frozen=True)
class Usage:
    """What one key has spent: ``queries_used`` rows answered, ``cost`` dollars billed."""

    name: str
    budget: int | None
    queries_used: int
    cost: float

    @property
    def remaining(self):
        """Queries left in the budget (None: unlimited)."""
        return None if self.budget is None else self.budget - self.queries_used


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Ledger:
    """API keys with their budgets and bills, in an SQLite file (or in memory).

    Parameters
    ----------
    path : str or path-like
        The database file, created if missing; ``":memory:"`` (the default) keeps
        nothing after the process ends, which suits tests.
    """

    def __init__(self, path=":memory:"):
        self.path = str(path)
        # One connection shared by the server's threads, one statement at a time (the lock);
        # SQLite's own locking keeps other processes (``python -m kit keys``) consistent.
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
        self._lock = threading.Lock()
        with self._lock:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
                self._db.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint, not each charge
            self._db.executescript(SCHEMA)

    def create_key(self, name: str, *, budget: int | None = None) -> str:
        """Make a new API key called ``name`` with a budget of ``budget`` queries (None: unlimited).

        Returns
        -------
        str
            The key, shown only now: the ledger keeps its digest.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a key needs a name (who it is for), got {name!r}")
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, Integral) or budget < 1):
            raise ValueError(f"budget must be None (unlimited) or a positive whole number of queries, got {budget!r}")
        key = secrets.token_urlsafe(18)
        try:
            with self._lock, self._db:
                self._db.execute("INSERT INTO keys (digest, name, budget, created) VALUES (?, ?, ?, ?)",
                                 (_digest(key), name, None if budget is None else int(budget), _now()))
        except sqlite3.IntegrityError:
            raise ValueError(f"there is already a key named {name!r}") from None
        return key

    def usage(self, key: str) -> Usage:
        """The budget and bill of ``key``; :class:`UnknownKey` if there is no such key."""
        with self._lock:
            row = self._db.execute("SELECT name, budget, used, billed FROM keys WHERE digest = ?",
                                   (_digest(key),)).fetchone()
        if row is None:
            raise UnknownKey("unknown API key")
        return Usage(*row)

    def accounts(self) -> list[Usage]:
        """Every key's usage, by name (for the teacher)."""
        with self._lock:
            rows = self._db.execute("SELECT name, budget, used, billed FROM keys ORDER BY name").fetchall()
        return [Usage(*row) for row in rows]

    def charge(self, key: str, model: str, rows: int, price: float) -> tuple[int, Usage]:
        """Reserve ``rows`` queries of ``key``'s budget and bill them.

        Returns
        -------
        charge : int
            The charge's id (for :meth:`refund`).
        usage : Usage
            The key's usage, this charge included.

        Raises
        ------
        UnknownKey
            No such key.
        BudgetExceeded
            The rows would take the key past its budget; nothing is charged.
        """
        digest, cost = _digest(key), rows * price
        with self._lock, self._db:  # one transaction
            charged = self._db.execute(
                "UPDATE keys SET used = used + ?, billed = billed + ? "
                "WHERE digest = ? AND (budget IS NULL OR used + ? <= budget)",
                (rows, cost, digest, rows),
            ).rowcount
            if charged:
                charge = self._db.execute("INSERT INTO charges (digest, model, rows, cost, at) VALUES (?, ?, ?, ?, ?)",
                                          (digest, model, rows, cost, _now())).lastrowid
            row = self._db.execute("SELECT name, budget, used, billed FROM keys WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            raise UnknownKey("unknown API key")
        if charged:
            return charge, Usage(*row)
        _, budget, used, _ = row
        raise BudgetExceeded(f"query budget of {budget} exceeded: {used} used, this batch asks {rows} more; "
                             "nothing was answered")

    def refund(self, charge: int) -> None:
        """Take back a charge whose answer never left the service."""
        with self._lock, self._db:
            digest, rows, cost = self._db.execute("SELECT digest, rows, cost FROM charges WHERE id = ?",
                                                  (charge,)).fetchone()
            self._db.execute("UPDATE keys SET used = used - ?, billed = billed - ? WHERE digest = ?",
                             (rows, cost, digest))
            self._db.execute("DELETE FROM charges WHERE id = ?", (charge,))

    def charges(self, key: str) -> list[tuple[str, int, float]]:
        """``(model, rows, cost)`` of every answered request of ``key``, oldest first."""
        with self._lock:
            return self._db.execute("SELECT model, rows, cost FROM charges WHERE digest = ? ORDER BY id",
                                    (_digest(key),)).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __repr__(self):
        return f"Ledger({self.path!r}, {len(self.accounts())} keys)"
