"""Shared fixtures: the shared example files, the local stack that the
integration tests run against (started once per test session, on its own
ports, database and queue names, and stopped at the end), and in-process
apps (``app_client``) for fast route tests that need no stack."""

from __future__ import annotations

import fcntl
import mailbox
import os
import secrets
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from email import message_from_binary_file, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import flask.testing
import pytest
import requests
from devstack import Stack, delete_broker_objects, drop_database, free_port

from invoicer.common.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "examples"


@pytest.fixture(scope="session")
def example_path() -> Path:
    path = SHARED / "invoice.json"
    if not path.exists():
        pytest.fail(f"the example {path} is missing from the repository")
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


def _start_stack(var: Path) -> dict[str, str]:
    """Start the test stack rooted at ``var`` (its tag names its database
    and queue prefix); returns its environment."""
    tag = var.name.removeprefix("test-")
    # Trusting one proxy hop lets tests speak for other client addresses
    # (X-Forwarded-For), so the per-address login limit can be tested
    # without locking every other test out. Webhook retries come after a second, not minutes.
    return Stack(var=var, root=ROOT).up(
        gateway_port=0,
        database=f"invoicer_test_{tag}",
        prefix=f"test_{tag}",
        extra={"TRUSTED_PROXY_HOPS": "1", "WEBHOOK_RETRY_SCHEDULE": "1,1,1,1"},
    )


def _stop_stack(var: Path) -> None:
    """Stop the test stack at ``var``, drop its database and queues, and
    remove ``var`` (unless ``INVOICER_KEEP_TEST_STACK=1``)."""
    stack = Stack(var=var, root=ROOT)
    try:
        stack.down()
        if stack.env_file.exists():
            env = stack.settings()
            drop_database(env["DATABASE_URL"])
            delete_broker_objects(env)
    finally:
        if os.environ.get("INVOICER_KEEP_TEST_STACK") != "1":
            shutil.rmtree(var, ignore_errors=True)
            var.with_name(f"{var.name}.lock").unlink(missing_ok=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (flock), held across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


#: Under pytest-xdist (``make test`` runs ``-n``): where the one stack that all
#: workers share lives, chosen by the controller and given to each worker.
SHARED_STACK = "invoicer_shared_stack"
_SHARED_STACK_KEY = pytest.StashKey[Path]()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist, in the controller: every worker gets the same stack
    directory. The first worker that needs the stack starts it there; the
    controller stops it when all workers are done (``pytest_sessionfinish``)."""
    config = node.config
    if _SHARED_STACK_KEY not in config.stash:
        config.stash[_SHARED_STACK_KEY] = ROOT / "var" / f"test-{secrets.token_hex(4)}"
    node.workerinput[SHARED_STACK] = str(config.stash[_SHARED_STACK_KEY])


def pytest_sessionfinish(session):
    var = session.config.stash.get(_SHARED_STACK_KEY, None)
    if var is not None and var.exists():
        _stop_stack(var)


@pytest.fixture(scope="session")
def stack(request) -> Iterator[RunningStack]:
    """The session's stack. Alone, pytest starts it here and stops it at the
    end; under pytest-xdist all workers share one (8 processes per worker
    would cost more than they save): the first worker to need it starts it,
    under a lock the others wait on, and the controller stops it."""
    shared = getattr(request.config, "workerinput", {}).get(SHARED_STACK)
    if shared is None:
        var = ROOT / "var" / f"test-{secrets.token_hex(4)}"
        try:
            yield RunningStack(Stack(var=var, root=ROOT), _start_stack(var))
        finally:
            _stop_stack(var)
        return
    var = Path(shared)
    ready = var / "ready"
    with _locked(var.with_name(f"{var.name}.lock")):
        if not ready.exists():
            _start_stack(var)
            ready.touch()
        stack = Stack(var=var, root=ROOT)
        env = stack.settings()
    yield RunningStack(stack, env)


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


# --- account mails (issue 22): what the notification service delivered into the Maildir ---
def account_mails(stack, recipient: str, kind: str, *, at_least: int = 1, timeout: float = 30.0) -> list[EmailMessage]:
    """The account mails of ``kind`` to ``recipient``, waiting up to ``timeout`` s for ``at_least``."""
    deadline = time.monotonic() + timeout
    while True:
        box = mailbox.Maildir(stack.mail_dir, create=False)
        found = []
        for key in box.iterkeys():
            with box.get_file(key) as handle:
                message = message_from_binary_file(handle, policy=policy.default)
            if message["X-Invoicer-Mail-Kind"] == kind and str(message["To"]).lower() == recipient.lower():
                found.append(message)
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def mailed_link(stack, recipient: str, kind: str, *, index: int = -1) -> str:
    """The link of the ``index``-th mail of ``kind`` to ``recipient`` (the last by default)."""
    mails = account_mails(stack, recipient, kind, at_least=1 if index == -1 else index + 1)
    if not mails:
        pytest.fail(f"no {kind} mail to {recipient}")
    body = mails[index].get_body(preferencelist=("plain",)).get_content()
    return next(line.strip() for line in body.splitlines() if "token=" in line)


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def verify_address(stack, email: str) -> None:
    """Confirm ``email`` with the link of its latest verification mail, as its owner would."""
    link = mailed_link(stack, email, "verify_email")
    reply = requests.post(f"{stack.base_url}/verify-email", json={"token": token_of(link)}, timeout=30)
    assert reply.status_code == 200, reply.text


def accept_invitation(stack, email: str, token: str) -> None:
    """``email`` (signed in with ``token``) verifies its address and accepts its latest invitation's link."""
    verify_address(stack, email)
    link = mailed_link(stack, email, "invitation")
    reply = requests.post(
        f"{stack.base_url}/invitations/accept",
        json={"token": token_of(link)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text


def register(base_url: str, email: str, password: str) -> None:
    reply = requests.post(f"{base_url}/register", json={"email": email, "password": password}, timeout=30)
    assert reply.status_code == 201, reply.text


def login(base_url: str, email: str, password: str) -> str:
    reply = requests.post(f"{base_url}/login", auth=(email, password), timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]


def new_client(base_url: str) -> Client:
    """A fresh account (its own e-mail) registered and logged in at ``base_url``."""
    email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    password = secrets.token_urlsafe(16)
    register(base_url, email, password)
    return Client(base_url, email, password, login(base_url, email, password))


@pytest.fixture
def make_client(stack):
    """Factory: a fresh account (its own e-mail) registered and logged in."""

    def _make() -> Client:
        return new_client(stack.base_url)

    return _make


@pytest.fixture
def client_at() -> Callable[[str], Client]:
    """Factory: ``client_at(base_url)``, a fresh account on another stack than
    the session's (tests/faults' stack on private servers)."""
    return new_client


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
#: ``private_postgresql`` and ``private_rabbitmq`` (tests/faults/conftest.py)
#: start servers of the test's own, from the installed PostgreSQL and RabbitMQ.
SERVER_FIXTURES = frozenset({"stack", "postgres_server", "amqp_server", "private_postgresql", "private_rabbitmq"})


#: The fixtures of tests that stop, kill or restart parts of the stack (or of
#: the private servers under a stack of their own): any test beside them would
#: fail, or be slowed down enough to. No test stops the shared PostgreSQL or RabbitMQ.
#: Such a test is marked ``serial``: ``make test`` runs them in a pass of
#: their own, after the parallel one (``-m "not serial"``).
SERIAL_FIXTURES = frozenset({"faults"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if SERVER_FIXTURES & fixtures:
            item.add_marker(pytest.mark.integration)
        if SERIAL_FIXTURES & fixtures:
            item.add_marker(pytest.mark.serial)
    if hasattr(config, "workerinput"):
        # pytest-xdist hands tests out in this order: the long ones first (the
        # k8s group, then the tests that wait on the stack), so that the many
        # short CPU-bound unit tests fill in around them instead of the run
        # ending on one worker with a long test. Every worker sorts alike.
        items.sort(key=lambda item: (_xdist_group(item.nodeid) is None, item.get_closest_marker("integration") is None))


# --- pytest-xdist: which tests go to the same worker -------------------------------

#: The tests under each of these paths run on one worker, one after another
#: (``make test`` runs ``--dist loadgroup``, with the scheduler below):
#: - tests/k8s: its session fixtures (the rendered bundle, the kubernetes-validate
#:   and checkov runs) are per process; on every worker they cost more CPU than they save;
#: - tests/worker/test_dead_letters.py: two of its tests empty the stack's render
#:   dead-letter queue and expect exactly what they sent there: side by side,
#:   each takes the other's.
XDIST_GROUPS = {"tests/k8s/": "k8s", "tests/worker/test_dead_letters.py": "render-dead-letters"}


def _xdist_group(nodeid: str) -> str | None:
    return next((group for prefix, group in XDIST_GROUPS.items() if nodeid.startswith(prefix)), None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` with the groups of ``XDIST_GROUPS``: pytest-xdist's
    own groups (``@pytest.mark.xdist_group``) are lost under pytest 9.2, which
    no longer takes the ``item._nodeid`` that xdist 3.8 rewrites to name them."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class PathGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _xdist_group(nodeid) or nodeid

    return PathGroupScheduling(config, log)
