"""Helpers for the fault-injection tests: kill and restart parts of the
running stack, count what was stored and mailed, and the private PostgreSQL
and RabbitMQ servers (and a stack on them) for the tests that restart a server."""

from __future__ import annotations

import contextlib
import mailbox
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_binary_file, policy
from pathlib import Path

import pytest
from devstack import Stack, free_port, port_open
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[2]


def kill_hard(stack, name: str) -> None:
    """SIGKILL the whole process group of ``name`` (no chance to ack or clean up)."""
    pid = stack.stack.pid(name)
    assert pid is not None, f"{name} is not running"
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while stack.stack.pid(name) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stack.stack.pid(name) is None, f"{name} survived SIGKILL"


def restart(stack, name: str) -> None:
    stack.stack.start(name, stack.env)


def stored_files(stack, job_id: str) -> list[dict]:
    """Every GridFS file document of ``job_id`` (not a count: count_documents
    is not reliable on fs.* with every wire server)."""
    client = MongoClient(stack.env["MONGODB_URI"], serverSelectionTimeoutMS=5000)
    try:
        return list(client["invoicer"]["fs.files"].find({"metadata.job_id": job_id}))
    finally:
        client.close()


def mails_by_job(stack) -> dict[str, int]:
    """How many mails the SMTP sink holds per job id."""
    counts: dict[str, int] = {}
    box = mailbox.Maildir(stack.mail_dir, create=False)
    for key in box.iterkeys():
        with box.get_file(key) as handle:
            job_id = message_from_binary_file(handle, policy=policy.default)["X-Invoicer-Job-Id"]
        counts[job_id] = counts.get(job_id, 0) + 1
    return counts


def mail_count(stack) -> int:
    """How many mails the SMTP sink holds: a directory listing, cheap enough
    to poll in a tight loop (parsing every mail is not)."""
    return sum(len(os.listdir(stack.mail_dir / sub)) for sub in ("new", "cur") if (stack.mail_dir / sub).exists())


def wait_all(client, job_ids: list[str], timeout: float) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    jobs: dict[str, dict] = {}
    pending = list(job_ids)
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            job = client.get(f"/jobs/{job_id}").json()
            if job["status"] in ("done", "failed"):
                jobs[job_id] = job
                pending.remove(job_id)
        time.sleep(0.3)
    assert not pending, f"{len(pending)} job(s) stuck, e.g. {client.get(f'/jobs/{pending[0]}').json()}"
    return jobs


# --- private servers -----------------------------------------------------------------
#
# PostgreSQL (127.0.0.1:5432) and RabbitMQ (127.0.0.1:5672) are shared by every
# test run on the machine: a test that stopped them would break all the others
# running at that moment. A test that restarts a server gets one of its own: a
# throw-away PostgreSQL cluster or RabbitMQ node in a temporary directory, on
# free ports, started, stopped and removed by the test. Nothing here names the
# shared servers: every command carries the private data directory or node name.


def _as_user(user: str, argv: list[str]) -> list[str]:
    """``argv`` run as ``user`` when we are root (initdb and postgres refuse root)."""
    return ["runuser", "-u", user, "--", *argv] if os.geteuid() == 0 else argv


def _private_dir(prefix: str, owner: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, owner, owner)
    path.chmod(0o700)
    return path


def _postgresql_bin() -> Path:
    versions = sorted(
        (path for path in Path("/usr/lib/postgresql").glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if not versions:
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin/initdb) to start a private one")
    return versions[-1]


@dataclass
class PrivatePostgreSQL:
    """A PostgreSQL cluster of the test's own: trust auth, 127.0.0.1:``port``,
    its unix socket in its own directory."""

    root: Path
    port: int
    bin_dir: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        """A server URL without a database, as ``INVOICER_PG_URL``."""
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            _as_user("postgres", [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args]),
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
        )

    def initdb(self) -> None:
        subprocess.run(
            _as_user(
                "postgres",
                [str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"],
            ),
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-l", str(self.root / "postgresql.log"), "-w", "-t", "60", "-o", options, "start", timeout=90)

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (
            subprocess.run(
                _as_user("postgres", [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "status"]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            ).returncode
            == 0
        )


@pytest.fixture
def private_postgresql() -> Iterator[PrivatePostgreSQL]:
    """A PostgreSQL cluster of this test's own, removed at the end whatever happens."""
    server = PrivatePostgreSQL(_private_dir("invoicer-pg-", "postgres"), free_port(), _postgresql_bin())
    try:
        started = time.monotonic()
        server.initdb()
        server.start()
        print(f"private PostgreSQL on port {server.port} up in {time.monotonic() - started:.1f}s")
        yield server
    finally:
        try:
            if server.data.exists() and server.running():
                server.stop("immediate")
        finally:
            shutil.rmtree(server.root, ignore_errors=True)


@dataclass
class PrivateRabbitMQ:
    """A second RabbitMQ node of the test's own: its own node name, AMQP and
    distribution ports (127.0.0.1), data, logs, config and no plugins."""

    root: Path
    node: str
    port: int
    dist_port: int

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    @property
    def pid_file(self) -> Path:
        return self.root / "rabbitmq.pid"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
            # Not /etc/rabbitmq's: its config listens on 5672, its env file names the shared node.
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def configure(self) -> None:
        (self.root / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (self.root / "rabbitmq-env.conf").write_text("")
        (self.root / "enabled_plugins").write_text("[].\n")  # no management plugin (and its port)
        if os.geteuid() == 0:
            for path in self.root.iterdir():
                shutil.chown(path, "rabbitmq", "rabbitmq")

    def start(self, timeout: float = 120) -> None:
        # Debian's /usr/sbin wrapper runs it as the rabbitmq user, keeping this environment.
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env(), check=True, timeout=60)
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"RabbitMQ node {self.node} not listening after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.2)

    def ctl(self, action: str, timeout: float = 180) -> None:
        """``rabbitmqctl -n NODE action``: never without ``-n``."""
        subprocess.run(
            ["rabbitmqctl", "-n", self.node, action],
            env=self.env(),
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
        )

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def log_tail(self, lines: int = 30) -> str:
        logs = sorted((self.root / "log").glob("*.log"))
        return "\n".join(line for log in logs for line in log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """``rabbitmqctl -n NODE stop``; SIGKILL this node's own pid if that fails."""
        pid = self.pid()
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.ctl("stop", timeout=60)
        if pid is None:
            return
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def private_rabbitmq() -> Iterator[PrivateRabbitMQ]:
    """A RabbitMQ node of this test's own, stopped and removed at the end whatever happens."""
    if shutil.which("rabbitmq-server") is None or shutil.which("rabbitmqctl") is None:
        pytest.skip("no rabbitmq-server/rabbitmqctl to start a private RabbitMQ node")
    node = f"rabbit_test_{secrets.token_hex(4)}@localhost"
    server = PrivateRabbitMQ(_private_dir("invoicer-rabbitmq-", "rabbitmq"), node, free_port(), free_port())
    try:
        server.configure()
        started = time.monotonic()
        server.start()
        print(f"private RabbitMQ {node} on port {server.port} up in {time.monotonic() - started:.1f}s")
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(server.root, ignore_errors=True)


@dataclass
class PrivateStack:
    """A small stack of the test's own (as the session's ``RunningStack``) on
    the private servers."""

    stack: Stack
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"http://{self.env['GATEWAY_BIND']}"

    @property
    def mail_dir(self) -> Path:
        return self.stack.mail_dir


@pytest.fixture
def private_stack(private_postgresql, private_rabbitmq) -> Iterator[PrivateStack]:
    """The stack (every component, the MongoDB wire server, the SMTP sink) on
    ``private_postgresql`` and ``private_rabbitmq``: ``up(servers=False)``
    neither checks nor starts the shared servers, and creates its database on
    the private one. Its servers are thrown away, so nothing is dropped."""
    var = ROOT / "var" / f"test-faults-{secrets.token_hex(4)}"
    stack = Stack(var=var, root=ROOT)
    try:
        env = stack.up(
            servers=False,
            gateway_port=0,
            database="invoicer",
            prefix="faults",
            extra={"DATABASE_URL": f"{private_postgresql.url}/invoicer", "AMQP_URL": private_rabbitmq.url},
        )
        yield PrivateStack(stack, env)
    finally:
        try:
            stack.down()
        finally:
            if os.environ.get("INVOICER_KEEP_TEST_STACK") != "1":
                shutil.rmtree(var, ignore_errors=True)


@pytest.fixture
def faults():
    """The helpers above, for tests that inject faults."""

    class Faults:
        kill_hard = staticmethod(kill_hard)
        restart = staticmethod(restart)
        stored_files = staticmethod(stored_files)
        mails_by_job = staticmethod(mails_by_job)
        mail_count = staticmethod(mail_count)
        wait_all = staticmethod(wait_all)

    return Faults
