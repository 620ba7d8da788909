"""PostgreSQL access (psycopg2): a small per-process pool and the migrations.

Connections that break (server restarted, network cut) are dropped from the
pool and the error surfaces as :class:`DatabaseUnavailable`, which HTTP
services answer with 503 and consumers treat as transient. A statement that
outlives the pool's ``statement_timeout`` or waits for a lock longer than its
``lock_timeout`` (PostgreSQL's settings of those names, set on each
connection) is cancelled and its transaction rolled back:
:class:`DatabaseBusy`, which HTTP services answer with 503 ``busy`` (nothing
was changed; retry), before the gateway's own time limit runs out.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from importlib import resources
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool

from .config import Settings
from .logging import get_logger

__all__ = [
    "Cursor",
    "Database",
    "DatabaseBusy",
    "DatabaseUnavailable",
    "jsonb",
    "migrate",
    "one_row",
    "request_database",
]

log = get_logger(__name__)

psycopg2.extras.register_uuid()


#: The cursor :meth:`Database.transaction` yields: every row is a dict keyed by column name.
Cursor = psycopg2.extras.RealDictCursor


#: Connections each pool keeps open between transactions (per process; the
#: PostgreSQL server is shared, so not all of ``max_connections``).
KEEP_IDLE = 1


class DatabaseUnavailable(RuntimeError):
    """PostgreSQL did not answer or dropped the connection."""


class DatabaseBusy(DatabaseUnavailable):
    """A statement ran past ``statement_timeout`` or waited past
    ``lock_timeout`` (SQLSTATE 57014 ``query_canceled``, 55P03
    ``lock_not_available``): it was cancelled and the transaction rolled
    back, so nothing of it was written. The connection stays usable."""


def request_database(settings: Settings) -> Database:
    """The pool of an HTTP service: ``DATABASE_URL`` with the time limits
    ``DATABASE_STATEMENT_TIMEOUT_MS`` and ``DATABASE_LOCK_TIMEOUT_MS``."""
    return Database(
        settings.database_url,
        statement_timeout_ms=settings.database_statement_timeout_ms,
        lock_timeout_ms=settings.database_lock_timeout_ms,
    )


def one_row(cur: Cursor) -> dict[str, Any]:
    """The next row of a statement that always returns one (``INSERT ...
    RETURNING``, an aggregate, a row locked or checked before), as a dict.
    Raises :class:`LookupError` if there is none, which is a bug in the caller."""
    row = cur.fetchone()
    if row is None:
        raise LookupError("the statement returned no row")
    return dict(row)


class Database:
    """A lazily opened pool of at most ``max_connections`` connections to
    ``dsn`` (a libpq URI such as ``postgresql://user@host:5432/db``)."""

    def __init__(
        self,
        dsn: str,
        max_connections: int = 4,
        connect_timeout: int = 5,
        *,
        statement_timeout_ms: int = 0,
        lock_timeout_ms: int = 0,
    ) -> None:
        """``statement_timeout_ms`` and ``lock_timeout_ms`` (0: none) are set
        on every connection (PostgreSQL ``statement_timeout``, ``lock_timeout``):
        HTTP services set them below the gateway's time limit, so a request
        either finishes or is rolled back (:class:`DatabaseBusy`) before the
        gateway stops waiting for it; migrations and consumers set none."""
        self.dsn = dsn
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self.options = f"-c statement_timeout={int(statement_timeout_ms)} -c lock_timeout={int(lock_timeout_ms)}"
        self._pool: psycopg2.pool.ThreadedConnectionPool | None = None
        self._lock = threading.Lock()

    def _get_pool(self) -> psycopg2.pool.ThreadedConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = psycopg2.pool.ThreadedConnectionPool(
                    0, self.max_connections, self.dsn, connect_timeout=self.connect_timeout, options=self.options
                )
                # Opened lazily (none at start, so a process starts while the database is
                # down), but KEEP_IDLE of them are kept for the next transaction: psycopg2
                # closes every connection beyond `minconn` when it is put back, and with 0
                # each transaction paid for a new server process (issue 21: 5-25 ms a
                # transaction on this machine, several per request).
                self._pool.minconn = min(KEEP_IDLE, self.max_connections)
            return self._pool

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A cursor (rows as dicts) in one transaction: committed when the
        block ends, rolled back if it raises. Raises
        :class:`DatabaseUnavailable` when the server cannot be reached,
        :class:`DatabaseBusy` when a statement hit a time limit."""
        pool, conn = self._checkout()
        broken = False
        try:
            # `with conn` commits or rolls back; the cursor closes first.
            with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                yield cur
        except (psycopg2.errors.QueryCanceled, psycopg2.errors.LockNotAvailable) as exc:
            raise DatabaseBusy(str(exc).strip()) from exc
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            broken = True
            raise DatabaseUnavailable(str(exc).strip()) from exc
        finally:
            pool.putconn(conn, close=broken or conn.closed != 0)

    def _checkout(self) -> tuple[psycopg2.pool.ThreadedConnectionPool, psycopg2.extensions.connection]:
        """A pooled connection that answers. A pooled connection may be dead
        (the server restarted since it was opened): it is probed with
        ``SELECT 1`` (which opens the transaction the caller then uses), and a
        dead one is dropped and replaced, so one restart costs no request."""
        try:
            pool = self._get_pool()
            for _ in range(self.max_connections + 1):
                conn = pool.getconn()
                try:
                    with conn.cursor() as probe:
                        probe.execute("SELECT 1")
                    return pool, conn
                except (psycopg2.OperationalError, psycopg2.InterfaceError):
                    pass
                pool.putconn(conn, close=True)
        except (psycopg2.OperationalError, psycopg2.pool.PoolError) as exc:
            raise DatabaseUnavailable(str(exc).strip()) from exc
        raise DatabaseUnavailable("no working connection to PostgreSQL")

    def ping(self) -> None:
        """Run ``SELECT 1``; raises :class:`DatabaseUnavailable`."""
        with self.transaction() as cur:
            cur.execute("SELECT 1")

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.closeall()
                self._pool = None


def migrate(db: Database, package: str = "invoicer.migrations") -> list[str]:
    """Apply the SQL files of ``package`` (``NNNN_name.sql``) in name order,
    each once, in one transaction under an advisory lock so that concurrent
    callers (several pods starting) do not race. Returns the names applied by
    this call.

    Each package keeps its own history in ``schema_migrations``: the default
    package's files are recorded by bare file name (as they always were), any
    other package's as ``package:file`` (e.g.
    ``invoicer.invoices.migrations:0001_records.sql``), so that two packages
    with a file of the same name do not collide."""
    files = sorted(
        (entry for entry in resources.files(package).iterdir() if entry.name.endswith(".sql")), key=lambda e: e.name
    )
    qualify = (lambda name: name) if package == "invoicer.migrations" else (lambda name: f"{package}:{name}")
    applied: list[str] = []
    with db.transaction() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('invoicer.migrations'))")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur.execute("SELECT name FROM schema_migrations")
        done = {row["name"] for row in cur.fetchall()}
        for entry in files:
            name = qualify(entry.name)
            if name in done:
                continue
            cur.execute(entry.read_text(encoding="utf-8"))
            cur.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
            applied.append(name)
            log.info("migration applied", extra={"migration": name})
    return applied


def _json_default(value: Any) -> Any:
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_dumps = partial(json.dumps, default=_json_default, separators=(",", ":"))


def jsonb(value: Any) -> psycopg2.extras.Json:
    """``value`` adapted for a jsonb parameter; Decimal and UUID become
    strings, dates ISO 8601. Raises TypeError for anything else JSON lacks."""
    return psycopg2.extras.Json(value, dumps=_dumps)
