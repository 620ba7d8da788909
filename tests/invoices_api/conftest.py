"""Fixtures for the invoices API: tokens for in-process apps, an in-process
invoices app over a throw-away PostgreSQL database (``records_api``), and,
for the tests through the gateway on the session's stack, helpers that make
a client and a draft."""

from __future__ import annotations

import io
import mailbox
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email import message_from_binary_file, policy
from pathlib import Path

import flask.testing
import jwt
import pypdf
import pytest
import requests
from devstack import create_database, drop_database, free_port

from invoicer.common.components import migration_packages
from invoicer.common.config import Settings
from invoicer.common.db import Database, migrate
from invoicer.common.tokens import issue_token

LINES = [
    {"description": "Chai tea", "quantity": "12", "unit": "box", "unit_price": "18.00", "tax_rate": "19"},
    {"description": "Aniseed syrup", "quantity": "4", "unit": "case", "unit_price": "10.00", "tax_rate": "19"},
    {"description": "Recipe book", "quantity": "1", "unit_price": "24.50", "tax_rate": "7"},
]
#: The gross of LINES: 12 x 18.00 + 4 x 10.00 at 19 % and 24.50 at 7 % (EN 16931 BR-CO-15).
LINES_GROSS = "330.86"

SELLER = {
    "name": "Northwind Traders Ltd",
    "address": "12 Harbour Road\nBristol",
    "vat_id": "GB980780684",
    "email": "billing@northwind.example",
    "currency": "EUR",
    "payment_terms_days": 30,
}
BUYER = {
    "name": "Maria Anders",
    "company": "Alfreds Futterkiste",
    "address": "Obere Str. 57\nBerlin",
    "email": "maria.anders@alfreds.example",
    "vat_id": "DE987654328",
    "payment_terms_days": 14,
}


def token_for(settings: Settings, user_id: str | None = None, email: str | None = None) -> str:
    """A JWT as the auth service would issue it, signed with ``settings``' key."""
    return issue_token(
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=300,
        sub=user_id or str(uuid.uuid4()),
        email=email or f"user-{secrets.token_hex(4)}@example.test",
        roles=["user"],
    )


@pytest.fixture(scope="session")
def records_database(postgres_server) -> Iterator[str]:
    """A migrated throw-away database's URL, dropped at the end of the session."""
    url = f"{postgres_server}/invoicer_api_{secrets.token_hex(4)}"
    create_database(url)
    db = Database(url)
    try:
        for package in migration_packages():  # what `invoicer migrate` applies, in its order
            migrate(db, package)
    finally:
        db.close()
    yield url
    drop_database(url)


@dataclass
class Caller:
    """A test client of the in-process invoices app acting as one user."""

    http: flask.testing.FlaskClient
    token: str

    def __call__(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.http.open(path, method=method, headers=headers, **kwargs)


@pytest.fixture
def records_api(offline_settings, records_database):
    """Factory: ``records_api()`` is a :class:`Caller` of a new user (who
    owns a new organisation) of an in-process invoices app on the real
    database; ``records_api(email=...)`` names the user's e-mail."""
    from invoicer.invoices.app import create_app

    settings = replace(offline_settings, database_url=records_database, public_url="https://billing.example")
    app = create_app(settings)

    def _make(email: str | None = None) -> Caller:
        return Caller(app.test_client(), token_for(settings, email=email))

    def _join(owner: Caller, email: str, role: str) -> Caller:
        """``owner`` invites ``email`` as ``role``; its user (address verified) accepts. The new member."""
        invited = owner("POST", "/organisation/members", json={"email": email, "role": role})
        assert invited.status_code == 201, invited.get_json()
        caller = _make(email=email)
        sub = jwt.decode(caller.token, options={"verify_signature": False})["sub"]
        db = Database(records_database)
        try:
            with db.transaction() as cur:
                cur.execute(
                    "INSERT INTO users (id, email, password_hash, email_verified_at) VALUES (%s, %s, 'x', now())",
                    (sub, email),
                )
        finally:
            db.close()
        pending = caller("GET", "/invitations").get_json()["items"]
        assert caller("POST", f"/invitations/{pending[0]['id']}/accept").status_code == 200
        return caller

    _make.join = _join
    return _make


@pytest.fixture(scope="session")
def gridfs_server(records_database, tmp_path_factory) -> Iterator[str]:
    """A MongoDB wire server of this session (``nx-27017``, as ``make up``
    runs it) on a free port, for in-process apps that keep documents:
    its ``MONGODB_URI``. Stopped at the end of the session."""
    port = free_port()
    data = tmp_path_factory.mktemp("gridfs")
    command = [str(Path(sys.executable).parent / "nx-27017"), "--data-dir", str(data), "--host", "127.0.0.1"]
    command += ["-p", str(port), "--pid-file", str(data / "pid"), "--log-file", str(data / "log")]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "nx-27017 did not start"
                time.sleep(0.1)
        yield f"mongodb://127.0.0.1:{port}/invoicer"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def billing_api(offline_settings, records_database, gridfs_server):
    """Like ``records_api``, with GridFS, so that invoices can be issued in
    this process (their documents are requested; no worker renders them).
    ``billing_api(**overrides)`` changes settings of the app (one app per
    set of overrides)."""
    from invoicer.invoices.app import create_app

    base = replace(
        offline_settings, database_url=records_database, mongodb_uri=gridfs_server, public_url="https://billing.example"
    )
    apps: dict = {}

    def _make(email: str | None = None, **overrides) -> Caller:
        key = tuple(sorted(overrides.items()))
        if key not in apps:
            apps[key] = create_app(replace(base, **overrides))
        return Caller(apps[key].test_client(), token_for(base, email=email))

    return _make


# --- through the gateway on the session's stack ---------------------------------------


@dataclass
class User:
    """A registered, logged-in user of the gateway (any method, JSON helpers)."""

    base_url: str
    email: str
    token: str

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs) -> dict:
        """The JSON answer, asserting ``status``."""
        reply = self(method, path, **kwargs)
        assert reply.status_code == status, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json()


def sign_up(base_url: str, email: str | None = None) -> User:
    """Register ``email`` (default: a fresh one) and log in."""
    email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
    password = secrets.token_urlsafe(16)
    reply = requests.post(f"{base_url}/register", json={"email": email, "password": password}, timeout=30)
    assert reply.status_code == 201, reply.text
    reply = requests.post(f"{base_url}/login", auth=(email, password), timeout=30)
    assert reply.status_code == 200, reply.text
    return User(base_url, email, reply.json()["access_token"])


def assert_error(reply: requests.Response, status: int, code: str | None = None) -> dict:
    """``reply`` is ``status`` with the JSON error body (and ``code``); returns ``error``."""
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture
def seller(stack) -> User:
    """A new user whose organisation has a seller profile (EUR, 30 days)."""
    user = sign_up(stack.base_url)
    user.ok("PATCH", "/organisation", json=SELLER)
    return user


def new_client(user: User, **fields) -> dict:
    return user.ok("POST", "/clients", 201, json={**BUYER, **fields})


def new_draft(user: User, client: dict, **fields) -> dict:
    return user.ok("POST", "/invoices", 201, json={"client_id": client["id"], "lines": LINES, **fields})


def issued(user: User, client: dict, **fields) -> dict:
    draft = new_draft(user, client, **fields)
    return user.ok("POST", f"/invoices/{draft['id']}/issue")


def fetch_document(user: User, path: str, timeout: float = 60.0) -> requests.Response:
    """GET a kept document, waiting out the 503 + Retry-After answered while it is rendered."""
    deadline = time.monotonic() + timeout
    while True:
        reply = user("GET", path)
        if reply.status_code != 503 or time.monotonic() > deadline:
            return reply
        assert reply.headers["Retry-After"] and reply.json()["error"]["code"] == "rendering", reply.text
        time.sleep(0.3)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def mails_to(stack, address: str, timeout: float = 60.0) -> list:
    """The mails in the stack's sink addressed to ``address`` (waits for the first)."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        box = mailbox.Maildir(stack.mail_dir, create=False)
        for key in box.iterkeys():
            with box.get_file(key) as handle:
                message = message_from_binary_file(handle, policy=policy.default)
            if message["To"] == address:
                found.append(message)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def pdf_images(pdf: bytes) -> int:
    """How many image XObjects the pages of ``pdf`` draw (a logo is one)."""
    count = 0
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        if xobjects is None:
            continue
        for item in xobjects.get_object().values():
            if item.get_object().get("/Subtype") == "/Image":
                count += 1
    return count
