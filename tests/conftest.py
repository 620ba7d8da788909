"""Shared fixtures: the shared example files, the local stack that the
integration tests run against (started once per test session, on its own
ports, database and queue names, and stopped at the end), and in-process
apps (``app_client``) for fast route tests that need no stack."""

from __future__ import annotations

import os
import secrets
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import flask.testing
import pytest
import requests
from devstack import Stack, delete_broker_objects, drop_database, free_port

from invoicer.common.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "examples"


@pytest.fixture(scope="session")
def example_path() -> Path:
    path = SHARED / "invoice.json"
    if not path.exists():
        pytest.fail(f"the shared example {path} is missing (shared/ must sit beside the repository)")
    return path


@pytest.fixture(scope="session")
def example_bytes(example_path) -> bytes:
    return example_path.read_bytes()


@pytest.fixture(scope="session")
def legacy_bytes() -> bytes:
    return (SHARED / "legacy_invoice_data.json").read_bytes()


@dataclass
class RunningStack:
    """The test session's stack: where it listens and what it wrote."""

    stack: Stack
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"http://{self.env['GATEWAY_BIND']}"

    @property
    def auth_url(self) -> str:
        return self.env["AUTH_URL"]

    @property
    def mail_dir(self) -> Path:
        return self.stack.mail_dir

    def log(self, name: str) -> str:
        return self.stack.log_file(name).read_text(errors="replace")


@pytest.fixture(scope="session")
def stack() -> RunningStack:
    tag = secrets.token_hex(4)
    var = ROOT / "var" / f"test-{tag}"
    stack = Stack(var=var, root=ROOT)
    try:
        # Trusting one proxy hop lets tests speak for other client addresses
        # (X-Forwarded-For), so the per-address login limit can be tested
        # without locking every other test out.
        env = stack.up(
            gateway_port=0, database=f"invoicer_test_{tag}", prefix=f"test_{tag}", extra={"TRUSTED_PROXY_HOPS": "1"}
        )
        yield RunningStack(stack, env)
    finally:
        stack.down()
        if stack.env_file.exists():
            env = stack.settings()
            drop_database(env["DATABASE_URL"])
            delete_broker_objects(env)
        if os.environ.get("INVOICER_KEEP_TEST_STACK") != "1":
            shutil.rmtree(var, ignore_errors=True)


@dataclass
class Client:
    """A logged-in user of the gateway."""

    base_url: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self._url(path), headers=self.headers, timeout=30, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.post(self._url(path), headers=headers, timeout=30, **kwargs)

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def upload(self, document: bytes, formats: str = "pdf,xlsx", **params) -> requests.Response:
        return self.post(
            "/upload",
            params={"formats": formats, **params},
            files={"file": ("invoice.json", document, "application/json")},
        )

    def wait(self, job_id: str, timeout: float = 60.0) -> dict:
        """Poll the job until it is done or failed; fails the test on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            reply = self.get(f"/jobs/{job_id}")
            assert reply.status_code == 200, reply.text
            job = reply.json()
            if job["status"] in ("done", "failed"):
                return job
            if time.monotonic() > deadline:
                pytest.fail(f"job {job_id} still {job['status']} after {timeout}s")
            time.sleep(0.2)


def register(base_url: str, email: str, password: str) -> None:
    reply = requests.post(f"{base_url}/register", json={"email": email, "password": password}, timeout=30)
    assert reply.status_code == 201, reply.text


def login(base_url: str, email: str, password: str) -> str:
    reply = requests.post(f"{base_url}/login", auth=(email, password), timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]


@pytest.fixture
def make_client(stack):
    """Factory: a fresh account (its own e-mail) registered and logged in."""

    def _make() -> Client:
        email = f"user-{uuid.uuid4().hex[:12]}@example.com"
        password = secrets.token_urlsafe(16)
        register(stack.base_url, email, password)
        return Client(stack.base_url, email, password, login(stack.base_url, email, password))

    return _make


@pytest.fixture
def client(make_client) -> Client:
    return make_client()


# --- in-process apps -------------------------------------------------------------

TEST_JWT_SECRET = "in-process-test-secret-" + "x" * 32


@pytest.fixture
def offline_settings() -> Settings:
    """Settings whose every dependency (PostgreSQL, MongoDB, RabbitMQ, the
    auth service) is on a port of 127.0.0.1 that nothing listens on, so
    connections are refused at once: what a service sees when all are down."""
    return Settings(
        jwt_secret=TEST_JWT_SECRET,
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/invoicer",
        mongodb_uri=f"mongodb://127.0.0.1:{free_port()}/invoicer",
        amqp_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F",
        auth_url=f"http://127.0.0.1:{free_port()}",
    )


@pytest.fixture
def app_client(offline_settings) -> Callable[..., flask.testing.FlaskClient]:
    """Factory: ``app_client(create_app, settings=None, **overrides)`` is
    ``create_app(settings).test_client()``, in this process, with
    ``offline_settings`` (or ``settings``) changed by ``overrides``."""

    def _make(create_app, settings: Settings | None = None, **overrides) -> flask.testing.FlaskClient:
        return create_app(replace(settings or offline_settings, **overrides)).test_client()

    return _make


# --- servers, and the marker of the tests that need one ------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server (a URL without a database) that tests create
    databases of their own on: ``INVOICER_PG_URL``, as for tools/devstack.py."""
    return os.environ.get("INVOICER_PG_URL", DEFAULT_PG_URL)


@pytest.fixture(scope="session")
def amqp_server() -> str:
    """The RabbitMQ broker that tests declare queues of their own on: ``AMQP_URL``,
    as for tools/devstack.py."""
    return os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)


DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"

#: The fixtures that reach a server. A test that uses one of them, directly or
#: through any fixture built on them (``db``, ``records_api``, ``client``, ...),
#: is marked ``integration`` here, so that ``make test-unit`` (``-m "not
#: integration"``) needs no server: a new test is marked without anyone
#: remembering to. A test that reaches a server must do so through one of them.
SERVER_FIXTURES = frozenset({"stack", "postgres_server", "amqp_server"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
