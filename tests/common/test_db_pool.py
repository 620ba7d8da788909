"""The connection pool keeps a connection between transactions instead of
opening a new PostgreSQL server process for each one (issue 21: that cost
5-25 ms a transaction, several per request), and still replaces a kept
connection the server has dropped."""

from __future__ import annotations

import pytest

from invoicer.common.db import Database


@pytest.fixture
def database(postgres_server):
    db = Database(f"{postgres_server}/postgres", max_connections=2)
    yield db
    db.close()


def _backend(db: Database) -> int:
    with db.transaction() as cur:
        cur.execute("SELECT pg_backend_pid() AS pid")
        return cur.fetchone()["pid"]


def test_consecutive_transactions_share_one_connection(database):
    first = _backend(database)
    assert [_backend(database) for _ in range(3)] == [first] * 3


def test_a_kept_connection_the_server_dropped_is_replaced(database):
    first = _backend(database)
    with Database(database.dsn).transaction() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (first,))
    second = _backend(database)  # no error: the dead connection is probed and replaced
    assert second != first and _backend(database) == second
