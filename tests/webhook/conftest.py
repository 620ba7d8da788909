"""Fixtures of the webhook tests: a local receiver that answers as scripted
and keeps what it got, and a migrated throw-away database."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from devstack import create_database, drop_database

from invoicer.common.components import migration_packages
from invoicer.common.db import Database, migrate


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that answers POSTs with the statuses of
    ``script`` in turn (then 200) and records every request."""

    script: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/invoicer"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The requests once there are ``count`` of them (AssertionError after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} of {count} requests came"
            time.sleep(0.05)
        return list(self.requests)


@pytest.fixture
def receiver(make_receiver) -> Receiver:
    """One local receiver (see :class:`Receiver`)."""
    return make_receiver()


@pytest.fixture
def make_receiver() -> Iterator[Callable[[], Receiver]]:
    """Factory of local receivers, each on a port of its own, stopped after the test."""
    servers: list[ThreadingHTTPServer] = []

    def _make() -> Receiver:
        state = serve_receiver()
        servers.append(state.server)
        return state

    yield _make
    for server in servers:
        server.shutdown()
        server.server_close()


def serve_receiver() -> Receiver:
    """A :class:`Receiver` on a free port of 127.0.0.1 (its ``server`` is the caller's to shut down)."""
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                status = state.script.pop(0) if state.script else 200
                state.requests.append(Received(self.path, dict(self.headers.items()), body, status))
            reply = b'{"received": true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            if 300 <= status < 400:
                self.send_header("Location", "http://169.254.169.254/latest/meta-data")
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    state.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state


@pytest.fixture(scope="session")
def webhook_database(postgres_server) -> Iterator[str]:
    """A migrated throw-away database's URL, dropped at the end of the session."""
    url = f"{postgres_server}/invoicer_webhook_{secrets.token_hex(4)}"
    create_database(url)
    db = Database(url)
    try:
        for package in migration_packages():
            migrate(db, package)
    finally:
        db.close()
    yield url
    drop_database(url)
