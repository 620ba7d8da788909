"""The local stack behind ``make up`` / ``make down`` / ``make demo``, and the
stack the integration tests start.

    python tools/devstack.py up   [--var DIR] [--gateway-port N] [--database NAME] [--prefix P]
    python tools/devstack.py down [--var DIR]
    python tools/devstack.py status [--var DIR]
    python tools/devstack.py demo [--var DIR] [--invoice FILE] [--out DIR]

A development tool, not part of the ``invoicer`` package: it installs Debian
packages and may set the local PostgreSQL superuser's password, which nothing
in the image may do. It reads the environment (``INVOICER_PG_URL``,
``AMQP_URL``) and must run with the virtualenv's Python, whose ``bin/`` holds
the ``invoicer`` and ``nx-27017`` commands it starts. Tests import it through
pytest's ``pythonpath`` setting, benchmarks by adding ``tools/`` to ``sys.path``.

``up`` is idempotent: it starts only what is not running. PostgreSQL and
RabbitMQ are shared system services: started (and installed from Debian's
packages first) only when nothing answers on their ports. Everything else —
the MongoDB wire server (``nx-27017``), an SMTP sink (aiosmtpd writing a
Maildir under ``var/mail/``) and every HTTP service and consumer of the
component registry (``invoicer.common.components``: auth, invoices, gateway,
worker, notification, the outbox relay) — runs
from the project directory with its pid in ``var/pids/`` and its log in
``var/log/``, and ``down`` stops exactly those by pid. The settings the
services got are in ``var/stack.env`` (``set -a; . var/stack.env`` to reuse),
with the address of each component's ``GET /metrics`` as
``METRICS_URL_<COMPONENT>`` (its ``METRICS_PORT`` or ``HEALTH_PORT``, set
for that process alone).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["Stack", "main"]

#: The stack's own helpers (started first), then every long-running
#: component of the registry (invoicer.common.components), in its order.
HELPERS = ("mongodb", "smtp")


def components() -> list:
    """The registry's HTTP services and consumers, in start order."""
    from invoicer.common.components import of_kind

    return of_kind("http", "consumer")


def order() -> tuple[str, ...]:
    """Names of everything ``up`` starts, in order (``down`` stops them in reverse)."""
    return (*HELPERS, *(component.name for component in components()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def _say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def _apt_install(*packages: str) -> None:
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"{', '.join(packages)} missing and there is no apt-get to install it")
    _say(f"installing {' '.join(packages)} from Debian's packages")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", *packages], check=True, env=env, stdout=subprocess.DEVNULL)


def ensure_postgresql(host: str = "127.0.0.1", port: int = 5432) -> None:
    """Start the system PostgreSQL cluster if nothing answers, installing it
    first if it is missing."""
    if port_open(host, port):
        return
    if shutil.which("pg_ctlcluster") is None:
        _apt_install("postgresql")
    versions = sorted(Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").is_dir() else []
    if not versions:
        raise RuntimeError("PostgreSQL is installed but has no cluster in /etc/postgresql")
    _say(f"starting PostgreSQL {versions[-1].name}")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "start"], check=False)
    wait_until(lambda: port_open(host, port), 60, "PostgreSQL")
    _trust_local_connections()


def _trust_local_connections() -> None:
    """A freshly installed cluster asks for passwords; the local stack
    connects as ``postgres`` over loopback, so give it one (local only)."""
    try:
        import psycopg2

        psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres", connect_timeout=3).close()
    except Exception:  # noqa: BLE001
        subprocess.run(["su", "postgres", "-c", "psql -c \"ALTER USER postgres PASSWORD 'postgres'\""], check=False)


def ensure_rabbitmq(host: str = "127.0.0.1", port: int = 5672) -> None:
    """Start the system RabbitMQ if nothing answers, installing it first if missing."""
    if port_open(host, port):
        return
    if shutil.which("rabbitmq-server") is None:
        _apt_install("rabbitmq-server")
    _say("starting RabbitMQ")
    subprocess.run(["rabbitmq-server", "-detached"], check=False)
    wait_until(lambda: port_open(host, port), 120, "RabbitMQ")


@dataclass
class Stack:
    """One local stack rooted at ``var`` (its env, pids, logs, data, mail)."""

    var: Path
    root: Path

    @property
    def env_file(self) -> Path:
        return self.var / "stack.env"

    def pid_file(self, name: str) -> Path:
        return self.var / "pids" / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.var / "log" / f"{name}.log"

    @property
    def mail_dir(self) -> Path:
        return self.var / "mail"

    # --- settings -----------------------------------------------------------

    def settings(
        self,
        gateway_port: int | None = None,
        database: str | None = None,
        prefix: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> dict[str, str]:
        """The stack's environment, made on first use and then reused."""
        if self.env_file.exists():
            return self._complete(read_env(self.env_file))
        gateway_port = gateway_port if gateway_port is not None else 8080
        if gateway_port == 0 or port_open("127.0.0.1", gateway_port):
            gateway_port = free_port() if gateway_port == 0 else gateway_port
        pg = os.environ.get("INVOICER_PG_URL", "postgresql://postgres@127.0.0.1:5432")
        env = {
            "DATABASE_URL": f"{pg}/{database or 'invoicer'}",
            "MONGODB_PORT": str(free_port()),
            "AMQP_URL": os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
            "AMQP_PREFIX": prefix or "invoicer",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(free_port()),
            "JWT_SECRET": secrets.token_urlsafe(48),
            "WEB_WORKERS": "2",
            "WEB_THREADS": "4",
            "LOG_LEVEL": "INFO",
            # Every span of every process as a JSON line (README "Traces").
            "TRACES_FILE": str(self.var / "traces.jsonl"),
            # Local receivers (a webhook endpoint on this machine) work; a deployment lets none
            # through by default (WEBHOOK_ALLOWED_NETWORKS empty in the chart).
            "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        }
        env["MONGODB_URI"] = f"mongodb://127.0.0.1:{env['MONGODB_PORT']}/invoicer"
        for component in components():  # each HTTP service's bind and URL settings
            if component.bind_setting:
                port = gateway_port if component.name == "gateway" else free_port()
                env[component.bind_setting] = f"127.0.0.1:{port}"
                if component.url_setting:
                    env[component.url_setting] = f"http://{env[component.bind_setting]}"
        env["PUBLIC_URL"] = f"http://{env['GATEWAY_BIND']}"
        for component in components():  # where each process serves GET /metrics
            env[component.metrics_url_variable] = f"http://127.0.0.1:{free_port()}/metrics"
        env.update(extra or {})
        self.var.mkdir(parents=True, exist_ok=True)
        self.env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
        self.env_file.chmod(0o600)
        return env

    def _complete(self, env: dict[str, str]) -> dict[str, str]:
        """An env file written before an HTTP service existed lacks its
        settings: add them (on a free port) and keep the file in step; one
        written before webhooks gets the local stack's allowed network."""
        missing = [
            c
            for c in components()
            if (c.bind_setting and c.bind_setting not in env)
            or (c.url_setting and c.url_setting not in env)
            or c.metrics_url_variable not in env
        ]
        if not missing and "WEBHOOK_ALLOWED_NETWORKS" in env:
            return env
        env.setdefault("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
        for component in missing:
            if component.bind_setting:
                env.setdefault(component.bind_setting, f"127.0.0.1:{free_port()}")
                if component.url_setting:
                    env.setdefault(component.url_setting, f"http://{env[component.bind_setting]}")
            env.setdefault(component.metrics_url_variable, f"http://127.0.0.1:{free_port()}/metrics")
        self.env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
        return env

    def metrics_urls(self, env: dict[str, str]) -> dict[str, str]:
        """Component name -> the URL of its ``GET /metrics`` (``METRICS_URL_<NAME>``)."""
        return {c.name: env[c.metrics_url_variable] for c in components() if c.metrics_url_variable in env}

    def process_env(self, name: str, env: dict[str, str]) -> dict[str, str]:
        """The stack's environment for process ``name``: for a component, its
        metrics port setting (``METRICS_PORT`` or ``HEALTH_PORT``) set to the
        port of its ``METRICS_URL_<NAME>``."""
        for component in components():
            if component.name == name and component.metrics_url_variable in env:
                port = urlsplit(env[component.metrics_url_variable]).port
                return {**env, component.metrics_port_setting: str(port)}
        return env

    # --- processes ------------------------------------------------------------

    def pid(self, name: str) -> int | None:
        """The pid of ``name`` if it is running, else None."""
        try:
            pid = int(self.pid_file(name).read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        # A zombie or a recycled pid does not count.
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                return None
        except OSError:
            pass
        return pid

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> int:
        """Start ``argv`` in its own session, logging to ``var/log/NAME.log``."""
        self.log_file(name).parent.mkdir(parents=True, exist_ok=True)
        self.pid_file(name).parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file(name), "ab") as log:
            process = subprocess.Popen(
                argv,
                cwd=self.root,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file(name).write_text(f"{process.pid}\n")
        return process.pid

    def stop(self, name: str, timeout: float = 15.0) -> bool:
        """SIGTERM ``name``'s process group, SIGKILL after ``timeout``."""
        pid = self.pid(name)
        if pid is None:
            self.pid_file(name).unlink(missing_ok=True)
            return False
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            try:
                wait_until(lambda: self.pid(name) is None, wait, f"{name} to stop", 0.1)
                break
            except RuntimeError:
                continue
        self.pid_file(name).unlink(missing_ok=True)
        return True

    def commands(self, env: dict[str, str]) -> dict[str, list[str]]:
        bin_dir = Path(sys.executable).parent
        invoicer = str(bin_dir / "invoicer")
        return {
            "mongodb": [
                str(bin_dir / "nx-27017"),
                "--data-dir",
                str(self.var / "mongodb"),
                "--host",
                "127.0.0.1",
                "-p",
                env["MONGODB_PORT"],
                "--pid-file",
                str(self.var / "pids" / "nx-27017.pid"),
                "--log-file",
                str(self.log_file("mongodb-server")),
            ],
            "smtp": [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{env['SMTP_PORT']}",
                "-u",
                "-c",
                "aiosmtpd.handlers.Mailbox",
                str(self.mail_dir),
            ],
            # Every component by its generic command (`invoicer NAME`).
            **{component.name: [invoicer, component.name] for component in components()},
        }

    def start(self, name: str, env: dict[str, str]) -> None:
        """Start one component (if not running) and wait until it answers."""
        if self.pid(name) is not None:
            return
        (self.var / "mongodb").mkdir(parents=True, exist_ok=True)
        for sub in ("new", "cur", "tmp"):
            (self.mail_dir / sub).mkdir(parents=True, exist_ok=True)
        log = self.log_file(name)
        offset = log.stat().st_size if log.exists() else 0
        address = self.address(name, env)
        if address is not None and port_open(*address):
            # Not ours (no pid of this stack): another program, or another stack's gateway. Waiting
            # for the port would take it for ours and report a stack that is not there.
            raise RuntimeError(
                f"port {address[1]} ({name}) is already in use by another program: stop it, or start this"
                f" stack on other ports, e.g. `make up PORT=8090` (a new stack: `make down`, then remove"
                f" {self.env_file})"
            )
        self.spawn(name, self.commands(env)[name], self.process_env(name, env))
        self.wait_ready(name, env, log_offset=offset)

    def address(self, name: str, env: dict[str, str]) -> tuple[str, int] | None:
        """Where ``name`` listens (host, port), or None for a consumer (no port)."""
        if name == "mongodb":
            return ("127.0.0.1", int(env["MONGODB_PORT"]))
        if name == "smtp":
            return ("127.0.0.1", int(env["SMTP_PORT"]))
        for component in components():
            if component.name == name and component.bind_setting:
                return tuple_bind(env[component.bind_setting])
        return None

    def wait_ready(self, name: str, env: dict[str, str], log_offset: int = 0) -> None:
        """Wait until ``name`` answers on its port or, for a consumer, has
        logged "consuming" (the outbox relay: "started") past ``log_offset``
        of its log."""

        def alive_and(check):
            def probe():
                if self.pid(name) is None:
                    raise RuntimeError(f"{name} exited; see {self.log_file(name)}:\n{self.tail(name)}")
                return check()

            return probe

        ports = {
            "mongodb": ("127.0.0.1", int(env["MONGODB_PORT"])),
            "smtp": ("127.0.0.1", int(env["SMTP_PORT"])),
        }
        markers = {}
        for component in components():
            if component.bind_setting:
                ports[component.name] = tuple_bind(env[component.bind_setting])
            else:
                markers[component.name] = component.ready_line.encode()
        host_port = ports.get(name)
        if host_port is not None:
            wait_until(alive_and(lambda: port_open(*host_port)), 60, name)
        else:
            # Consumers: they log "consuming" once their queue is declared (the relay "started").
            marker = markers.get(name, b'"consuming"')

            def consuming() -> bool:
                with open(self.log_file(name), "rb") as log:
                    log.seek(log_offset)
                    return marker in log.read()

            wait_until(alive_and(consuming), 60, name)

    def tail(self, name: str, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file(name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- whole stack ----------------------------------------------------------------

    def up(self, *, servers: bool = True, **settings_args) -> dict[str, str]:
        """Start what is not running; returns the stack's environment.

        ``servers=False``: PostgreSQL and RabbitMQ are the caller's own (a
        ``DATABASE_URL`` and an ``AMQP_URL`` in ``extra``), already running:
        neither the shared ones are checked, started nor installed."""
        env = self.settings(**settings_args)
        if servers:
            ensure_postgresql()
            ensure_rabbitmq()
        create_database(env["DATABASE_URL"])
        self._migrate(env)
        for name in order():
            was_running = self.pid(name) is not None
            self.start(name, env)
            if not was_running:
                log = self.log_file(name)
                _say(f"{name} started (log: {log.relative_to(self.root) if log.is_relative_to(self.root) else log})")
        return env

    def _migrate(self, env: dict[str, str]) -> None:
        invoicer = str(Path(sys.executable).parent / "invoicer")
        subprocess.run(
            [invoicer, "migrate"], cwd=self.root, env={**os.environ, **env}, check=True, stdout=subprocess.DEVNULL
        )

    def down(self) -> None:
        for name in reversed(order()):
            if self.stop(name):
                _say(f"{name} stopped")

    def status(self) -> dict[str, int | None]:
        return {name: self.pid(name) for name in order()}


def tuple_bind(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    return (host or "127.0.0.1", int(port))


def read_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


@contextmanager
def _maintenance_cursor(database_url: str):
    """An autocommit cursor on the ``postgres`` database of the URL's server,
    and the URL's database name."""
    import psycopg2

    base, _, name = database_url.rpartition("/")
    conn = psycopg2.connect(f"{base}/postgres", connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur, name
    finally:
        conn.close()


def create_database(database_url: str) -> None:
    """CREATE DATABASE for the URL's database name if it does not exist."""
    from psycopg2 import sql

    with _maintenance_cursor(database_url) as (cur, name):
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(database_url: str) -> None:
    """DROP the URL's database, disconnecting its sessions."""
    from psycopg2 import sql

    with _maintenance_cursor(database_url) as (cur, name):
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def delete_broker_objects(env: dict[str, str]) -> None:
    """Delete the queues and exchanges of the stack's ``AMQP_PREFIX``, the
    outbox relay's events exchange included (what a throw-away stack, such
    as a test session's, declared)."""
    import pika

    from invoicer.common.amqp import Topology
    from invoicer.common.config import Settings
    from invoicer.common.relay import events_exchange

    settings = Settings.from_env(env)
    topology = Topology.from_settings(settings)
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URL"]))
    try:
        channel = connection.channel()
        for queue in topology.queue_names():
            channel.queue_delete(queue)
        for exchange in [*topology.exchange_names(), events_exchange(settings.amqp_prefix)]:
            channel.exchange_delete(exchange)
    finally:
        connection.close()


# --- demo ---------------------------------------------------------------------------


def metrics_lines(env: dict[str, str]) -> list[str]:
    """``METRICS_URL_<COMPONENT>=<url>`` for each component of the registry
    in ``env`` (what ``make demo`` prints last)."""
    return [
        f"{component.metrics_url_variable}={env[component.metrics_url_variable]}"
        for component in components()
        if component.metrics_url_variable in env
    ]


#: The account `make demo` creates, and the one it tells you to sign in with.
DEMO_ACCOUNT = ("demo@example.com", "demo-password-123")


def demo(stack: Stack, invoice: Path, out: Path, gateway_port: int = 8080) -> list[Path]:
    """What a new user does: create an account, log in, upload, wait,
    download; then bill through the billing API (:func:`bill`). The stack's
    gateway listens on ``gateway_port`` when it is started now."""
    import requests

    env = stack.up(gateway_port=gateway_port)
    base = f"http://{env['GATEWAY_BIND']}"
    email, password = DEMO_ACCOUNT
    invoicer = str(Path(sys.executable).parent / "invoicer")
    subprocess.run(
        [invoicer, "create-user", email, "--password-stdin"],
        input=password + "\n",
        text=True,
        env={**os.environ, **env},
        cwd=stack.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,  # a second demo finds the account already there; the login below is the check
    )
    login = requests.post(f"{base}/login", auth=(email, password), timeout=30)
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    _say(f"logged in as {email}")
    with open(invoice, "rb") as handle:
        reply = requests.post(
            f"{base}/upload",
            params={"formats": "pdf,xlsx"},
            headers=headers,
            files={"file": (invoice.name, handle, "application/json")},
            timeout=30,
        )
    if reply.status_code != 202:
        raise SystemExit(f"upload refused: {reply.status_code} {reply.text}")
    status_url = reply.json()["status_url"]
    _say(f"uploaded {invoice}: job {reply.json()['job_id']}")
    deadline = time.monotonic() + 120
    while True:
        job = requests.get(status_url, headers=headers, timeout=30).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    if job["status"] != "done":
        raise SystemExit(f"job did not finish: {json.dumps(job, indent=2)}")
    trace_id = _trace_of_job(stack, job["job_id"])
    if trace_id:
        _say(f"the upload's trace: trace_id {trace_id} (in every log line of the job, and in the traces)")
    totals = job["totals"]
    _say(
        f"job done: {job['invoice_number']} net {totals['net']} VAT {totals['tax']}"
        f" gross {totals['gross']} {totals['currency']} (a rendering of the uploaded JSON, with its own number)"
    )
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for item in job["files"]:
        reply = requests.get(item["download_url"], headers=headers, timeout=30)
        reply.raise_for_status()
        target = out / f"{job['invoice_number']}.{item['format']}"
        target.write_bytes(reply.content)
        paths.append(target)
    bill(base, headers, json.loads(invoice.read_text()), out)
    receive(base, headers, stack.root / "examples" / "received")
    return paths


#: What the demo uploads as expenses: a received e-invoice and a scanned invoice.
RECEIVED = (("EN16931_Miete.pdf", "application/pdf"), ("stationery-scan.jpg", "image/jpeg"))


def receive(base: str, headers: dict[str, str], folder: Path) -> None:
    """The other direction: upload received documents as expenses, wait until the intake
    worker has read them (OCR takes a while on a busy machine), print their fields and status."""
    import requests

    ids = []
    for name, content_type in RECEIVED:
        reply = requests.post(
            f"{base}/expenses",
            headers=headers,
            files={"file": (name, (folder / name).read_bytes(), content_type)},
            timeout=60,
        )
        if reply.status_code != 202:
            raise SystemExit(f"expense upload refused: {reply.status_code} {reply.text}")
        ids.append((name, reply.json()["id"]))
        _say(f"received {name}: expense {reply.json()['id']}, being read")
    for name, expense_id in ids:
        deadline = time.monotonic() + 300
        while True:
            expense = requests.get(f"{base}/expenses/{expense_id}", headers=headers, timeout=30).json()
            if expense["status"] != "processing" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        fields = expense["fields"]
        shown = ", ".join(
            f"{key}={fields[key]['value']} ({fields[key]['confidence']:.2f} {fields[key]['source']})"
            for key in ("supplier_name", "invoice_number", "issue_date", "total_gross", "currency")
            if key in fields
        )
        warnings = f"; warnings: {', '.join(expense['warnings'])}" if expense.get("warnings") else ""
        _say(f"expense {name}: {expense['status']} ({expense.get('kind')}): {shown}{warnings}")


def _kept_document(base: str, headers: dict[str, str], path: str, timeout: float = 120.0) -> bytes:
    """A kept document of an issued invoice, waiting while the worker renders it (503)."""
    import requests

    deadline = time.monotonic() + timeout
    while True:
        reply = requests.get(f"{base}{path}", headers=headers, timeout=30)
        if reply.status_code == 200:
            return reply.content
        if reply.status_code != 503 or time.monotonic() > deadline:
            raise SystemExit(f"GET {path} answered {reply.status_code}: {reply.text}")
        time.sleep(0.5)


#: The demo organisation's invoice series (``NW-2026-0001``), so that the billed invoice is
#: not numbered like the uploaded ``examples/invoice.json`` (``INV-2026-0001``).
DEMO_PREFIX = "NW"
DEMO_FORMAT = "{prefix}-{year}-{seq:04d}"


def bill(base: str, headers: dict[str, str], document: dict, out: Path | None = None) -> dict:
    """The billing life through the API: the seller profile and a client from
    ``document``'s parties (a German client that takes Factur-X), the invoice
    series prefixed :data:`DEMO_PREFIX`, a draft of
    its lines, issued (its Factur-X PDF and CII XML written into ``out``),
    sent and paid in two payments; prints each step and the dashboard, and
    returns the dashboard."""
    import requests

    def call(method: str, path: str, status: int = 200, **kwargs) -> dict:
        kwargs["headers"] = {**headers, **kwargs.get("headers", {})}
        reply = requests.request(method, f"{base}{path}", timeout=30, **kwargs)
        if reply.status_code != status:
            raise SystemExit(f"{method} {path} answered {reply.status_code}: {reply.text}")
        return reply.json()

    seller = {key: value for key, value in document["seller"].items() if key != "bank_details"}
    # The seller's bank account goes on the invoice (and into the e-invoice's payment means).
    seller.setdefault(
        "bank_account", {"iban": "GB33BUKB20201555555555", "bic": "BUKBGB22", "account_name": seller["name"]}
    )
    call("PATCH", "/organisation", json={**seller, "currency": document["currency"]})
    # The billed invoice gets the organisation's number, not the uploaded document's own
    # (examples/invoice.json says INV-2026-0001): the demo's series writes NW-2026-0001.
    series = call("PUT", "/organisation/numbering/invoices", json={"prefix": DEMO_PREFIX, "format": DEMO_FORMAT})
    _say(f"invoices are numbered {series['format']}, prefix {series['prefix']}: next {series['next']}")
    replay = {"Idempotency-Key": "demo-client"}  # a second make demo reuses the client
    # A German client that takes Factur-X e-invoices, in German.
    buyer = {**document["buyer"], "e_invoice": "factur-x", "locale": "de_DE"}
    client = call("POST", "/clients", 201, json=buyer, headers=replay)
    draft = call("POST", "/invoices", 201, json={"client_id": client["id"], "lines": document["lines"]})
    issued = call("POST", f"/invoices/{draft['id']}/issue")
    _say(
        f"issued {issued['number']} to {client['name']}: gross {issued['totals']['gross']} {issued['currency']}"
        f" (a billed record, numbered by the organisation's series; the upload's {document['invoice_number']}"
        " is the number written in the uploaded JSON, rendered and kept only as a job)"
    )
    if out is not None:
        for kind in ("pdf", "cii"):
            path = out / f"{issued['number']}.{'cii.xml' if kind == 'cii' else 'facturx.pdf'}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_kept_document(base, headers, f"/invoices/{draft['id']}/{kind}"))
        _say(
            f"e-invoice ({issued['e_invoice']['profile']}): the PDF/A-3 {out / (issued['number'] + '.facturx.pdf')}"
            f" carries the XML as factur-x.xml; the same XML is {out / (issued['number'] + '.cii.xml')}"
            f" (check either with: .venv/bin/invoicer einvoice validate FILE)"
        )
    sent = call("POST", f"/invoices/{draft['id']}/send")
    _say(f"sent {issued['number']} to {client['email']} with its PDF: {sent['status']} (the mail is in var/mail/)")
    gross = issued["totals"]["gross"]
    half = call("POST", f"/invoices/{draft['id']}/payments", 201, json={"amount": "100.00", "method": "bank transfer"})
    _say(f"paid 100.00: {half['invoice']['status']}, {half['invoice']['totals']['balance_due']} left")
    rest = half["invoice"]["totals"]["balance_due"]
    paid = call("POST", f"/invoices/{draft['id']}/payments", 201, json={"amount": rest, "method": "card"})
    _say(f"paid {rest}: {paid['invoice']['status']} (gross {gross})")
    dashboard = call("GET", "/dashboard")
    print(json.dumps(dashboard, indent=2))
    return dashboard


def _trace_of_job(stack: Stack, job_id: str) -> str | None:
    """The trace id of the upload that queued ``job_id`` (the gateway's
    "job queued" line), None with tracing off."""
    try:
        lines = stack.log_file("gateway").read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        if job_id in line and '"job queued"' in line:
            with contextlib.suppress(ValueError):
                return json.loads(line).get("trace_id")
    return None


def _where_traces_are(env: dict[str, str]) -> str:
    """One line: where this stack's traces go (README "Traces")."""
    where = []
    # The processes see the shell's environment under the stack's settings.
    endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    traces_file = env.get("TRACES_FILE") or os.environ.get("TRACES_FILE")
    if endpoint:
        where.append(f"OTLP to {endpoint}")
    if traces_file:
        where.append(f"one JSON line per span in {traces_file}")
    if not where:
        return "traces: off (set TRACES_FILE or OTEL_EXPORTER_OTLP_ENDPOINT in var/stack.env, then make down up)"
    return (
        f"traces: {' and '.join(where)}; each log line's trace_id finds its trace"
        " (set OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 in var/stack.env to send them to a collector)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/devstack.py")
    parser.add_argument("command", choices=["up", "down", "status", "demo"])
    parser.add_argument("--var", default="var", help="state directory (default ./var)")
    parser.add_argument("--gateway-port", type=int, default=8080)
    parser.add_argument("--database", default="invoicer")
    parser.add_argument("--prefix", default="invoicer")
    parser.add_argument("--invoice", default="examples/invoice.json")
    parser.add_argument("--out", default="out")
    args = parser.parse_args(argv)
    root = Path.cwd()
    if args.command == "demo" and not Path(args.invoice).is_file():
        # Before anything starts: a missing input is one line, not a traceback minutes later.
        print(f"[stack] error: the invoice to upload, {args.invoice}, does not exist", file=sys.stderr)
        return 1
    stack = Stack(var=(root / args.var).resolve(), root=root)
    try:
        if args.command == "up":
            env = stack.up(gateway_port=args.gateway_port, database=args.database, prefix=args.prefix)
            _say(f"gateway on http://{env['GATEWAY_BIND']}  (settings in {stack.env_file})")
            _say(f"metrics: the METRICS_URL_* lines of {stack.env_file}")
            if env.get("WEBHOOK_ALLOWED_NETWORKS"):
                _say(
                    f"webhooks may be delivered to {env['WEBHOOK_ALLOWED_NETWORKS']} (WEBHOOK_ALLOWED_NETWORKS),"
                    " so that receivers on this machine work; a deployment allows public addresses only"
                )
        elif args.command == "down":
            stack.down()
        elif args.command == "status":
            for name, pid in stack.status().items():
                print(f"{name:13} {'running, pid ' + str(pid) if pid else 'stopped'}")
        else:
            for path in demo(stack, Path(args.invoice), Path(args.out), args.gateway_port):
                print(path.resolve())
            env = stack.settings()
            email, password = DEMO_ACCOUNT
            _say(_where_traces_are(env))
            print(f"\nThe web app: {env['PUBLIC_URL'].rstrip('/')}/app/")
            print(f"Sign in as {email} with the password {password}")
            print(f"\nMetrics (Prometheus text format), one address per process (also in {stack.env_file}):")
            print("\n".join(metrics_lines(env)))
    except RuntimeError as exc:
        print(f"[stack] error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
