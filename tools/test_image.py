"""Run every invoicer service from the built image and pass README's curl flow
through them (``make test-image``, after ``make image``).

    .venv/bin/python tools/test_image.py [--image invoicer:0.1.0] [--var DIR]

No Docker daemon here: each service is a ``buildah run --isolation chroot``
of its own working container (``buildah from IMAGE``), on the host network,
as the image's user, with the settings passed as ``--env``. It runs against
the machine's PostgreSQL and RabbitMQ (shared: a database and an AMQP prefix
of its own, dropped and deleted at the end, the servers never stopped) and a
MongoDB wire server (``nx-27017`` from the project's virtualenv) and an SMTP
sink on free ports, as ``tools/devstack.py`` does. In order: what the image
holds (user 10001, no compiler, no tests, CPython 3.11), ``invoicer migrate``
from the image, every HTTP service and queue consumer of the component registry
(``invoicer.common.components``: auth, invoices, gateway, worker, notification,
outbox relay, …) from the image, then README's "Using it with curl" block against that gateway, which must leave a
PDF behind; last, that no process wrote outside /tmp (each container's overlay
upper layer), as a read-only root filesystem requires. Whatever happens (an error, Ctrl-C, SIGTERM), every process and
working container it started is stopped and removed.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devstack import (  # tools/ is not a package: its path goes first
    Stack,
    components,
    create_database,
    delete_broker_objects,
    drop_database,
    ensure_postgresql,
    ensure_rabbitmq,
    free_port,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[1]
#: Every long-running component, from the registry: a service left out here
#: (the outbox relay once was) would leave uploads queued for ever.
SERVICES = tuple(component.name for component in components())
CONSUMERS = tuple(component.name for component in components() if component.kind == "consumer")
HTTP = tuple(component for component in components() if component.kind == "http")
#: What `buildah run` itself puts in a container's writable layer while it
#: runs (mount points); anything else written outside /tmp counts.
BUILDAH_MADE = (Path("run"), Path("run/.containerenv"))
#: Commands the image must not have: it builds nothing.
COMPILERS = ("gcc", "cc", "c++", "g++", "clang", "make", "ld")


def say(message: str) -> None:
    print(f"[test-image] {message}", flush=True)


def buildah(*args: str, check: bool = True, capture: bool = True) -> str:
    done = subprocess.run(["buildah", *args], capture_output=capture, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"buildah {' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")
    return (done.stdout or "").strip()


def run_argv(container: str, env: dict[str, str], *command: str) -> list[str]:
    """``buildah run`` of ``command`` in ``container``: chroot isolation (the
    only one that works in this sandbox), the host's network."""
    argv = ["buildah", "run", "--isolation", "chroot", "--network", "host"]
    for key, value in sorted(env.items()):
        argv += ["--env", f"{key}={value}"]
    return [*argv, container, "--", *command]


class ImageStack(Stack):
    """devstack's Stack (pids, logs, readiness checks, stop by process group)
    with the invoicer services run from the image instead of the virtualenv."""

    def __init__(self, var: Path, root: Path, image: str, tag: str) -> None:
        super().__init__(var=var, root=root)
        self.image = image
        self.tag = tag
        self.containers: dict[str, str] = {}
        self.env: dict[str, str] = {}
        # The image sets HEALTH_PORT=8090 (one per pod in Kubernetes); on the
        # host's network each consumer needs a port of its own.
        self.health_ports = {name: free_port() for name in CONSUMERS}

    def container(self, name: str) -> str:
        """A working container of the image for ``name``, made on first use."""
        if name not in self.containers:
            self.containers[name] = buildah("from", "--pull-never", "--name", f"{self.tag}-{name}", self.image)
        return self.containers[name]

    def commands(self, env: dict[str, str]) -> dict[str, list[str]]:
        commands = super().commands(env)
        for name in SERVICES:
            own = {"HEALTH_PORT": str(self.health_ports[name])} if name in CONSUMERS else {}
            commands[name] = run_argv(self.container(name), {**env, **own}, "invoicer", name)
        return commands

    def in_image(self, *command: str) -> str:
        """Run ``command`` in the image (a container of its own) and return its output."""
        done = subprocess.run(
            run_argv(self.container("probe"), {}, *command), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} in the image failed: {done.stderr or done.stdout}")
        return done.stdout.strip()

    def written_outside_tmp(self, name: str) -> list[str]:
        """What ``name``'s container wrote anywhere but /tmp: the paths in its
        overlay's upper layer (Kubernetes mounts the root read-only and an
        emptyDir on /tmp)."""
        mountpoint = buildah("mount", self.containers[name])
        try:
            options = subprocess.run(
                ["findmnt", "--noheadings", "--output", "OPTIONS", mountpoint],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            upper = next((o.partition("=")[2] for o in options.strip().split(",") if o.startswith("upperdir=")), "")
            if not upper:
                raise RuntimeError(f"{name}: no overlay upper layer in {options!r}")
            written = [path.relative_to(upper) for path in Path(upper).rglob("*")]
            return sorted(f"/{path}" for path in written if path.parts[0] != "tmp" and path not in BUILDAH_MADE)
        finally:
            buildah("umount", self.containers[name], check=False)

    def remove_containers(self) -> None:
        for name, container in list(self.containers.items()):
            buildah("rm", container, check=False)
            del self.containers[name]


def check_contents(stack: ImageStack) -> None:
    """What the image promises: a numeric non-root user, nothing to build with,
    no tests, CPython 3.11, and the package's command."""
    uid = stack.in_image("id", "-u")
    if uid != "10001":
        raise RuntimeError(f"the image runs as uid {uid}, not 10001")
    found = stack.in_image("sh", "-c", "for c in " + " ".join(COMPILERS) + '; do command -v "$c" || true; done')
    if found:
        raise RuntimeError(f"build tools in the image: {found.split()}")
    tests = stack.in_image("sh", "-c", "find /opt/venv -path '*/invoicer/*' -name 'test*' | head -5")
    if tests:
        raise RuntimeError(f"tests in the image: {tests.split()}")
    version = stack.in_image("python", "-c", "import sys; print(sys.version.split()[0], sys.executable)")
    if not version.startswith("3.11."):
        raise RuntimeError(f"the image's Python is {version}, not 3.11")
    stack.in_image("invoicer", "--help")
    say(f"image: uid 10001, no compiler, no tests, Python {version}")


def ready(url: str) -> bool:
    try:
        http_ok(url, url)
    except RuntimeError:
        return False
    return True


def http_ok(url: str, what: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            status = reply.status
    except (OSError, urllib.error.HTTPError) as exc:
        raise RuntimeError(f"{what}: GET {url}: {exc}") from exc
    if status != 200:
        raise RuntimeError(f"{what}: GET {url} answered {status}")


def curl_block() -> str:
    """README's "Using it with curl" block, as tests/test_readme.py takes it."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Using it with curl") :]
    start = section.index("```sh\n") + len("```sh\n")
    return section[start : section.index("```\n", start)]


def curl_flow(base: str) -> Path:
    """The block, pasted into bash with errexit, from a directory laid out like
    the project's; returns the PDF it downloaded."""
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing (apt-get install {tool})")
    work = Path(tempfile.mkdtemp(prefix="invoicer-image-"))
    try:
        shutil.copytree(ROOT / "examples", work / "examples")
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", curl_block()],
            cwd=work,
            env={**os.environ, "BASE": base},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0:
            output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            raise RuntimeError(f"the curl block failed ({done.returncode}):\n{output}")
        pdfs = sorted((work / "out").glob("*.pdf"))
        if not pdfs or not pdfs[0].read_bytes().startswith(b"%PDF-"):
            raise RuntimeError(f"the curl block downloaded no PDF:\n{done.stdout[-2000:]}")
        kept = ROOT / "var" / "test-image" / pdfs[0].name
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdfs[0], kept)
        return kept
    finally:
        shutil.rmtree(work, ignore_errors=True)


def settings(stack: ImageStack, tag: str) -> dict[str, str]:
    """Free ports, a database and an AMQP prefix of this run's own."""
    for leftover in ("log", "mail", "mongodb", "pids"):  # a previous run's
        shutil.rmtree(stack.var / leftover, ignore_errors=True)
    pg = os.environ.get("INVOICER_PG_URL", "postgresql://postgres@127.0.0.1:5432")
    env = {
        "DATABASE_URL": f"{pg}/{tag.replace('-', '_')}",
        "MONGODB_PORT": str(free_port()),
        "AMQP_URL": os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
        "AMQP_PREFIX": tag,
        # every HTTP service of the registry on a free port, reached at its URL setting
        **{component.bind_setting: f"127.0.0.1:{free_port()}" for component in HTTP if component.bind_setting},
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(free_port()),
        "JWT_SECRET": secrets.token_urlsafe(48),
        "WEB_WORKERS": "1",
        "WEB_THREADS": "4",
        "LOG_LEVEL": "INFO",
    }
    env["MONGODB_URI"] = f"mongodb://127.0.0.1:{env['MONGODB_PORT']}/{tag.replace('-', '_')}"
    for component in HTTP:
        if component.bind_setting and component.url_setting:
            env[component.url_setting] = f"http://{env[component.bind_setting]}"
    env["PUBLIC_URL"] = f"http://{env['GATEWAY_BIND']}"
    stack.var.mkdir(parents=True, exist_ok=True)
    stack.env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    stack.env_file.chmod(0o600)
    return env


def run(stack: ImageStack) -> None:
    started = time.monotonic()
    ensure_postgresql()
    ensure_rabbitmq()
    env = stack.env = settings(stack, stack.tag)
    check_contents(stack)
    create_database(env["DATABASE_URL"])
    say(f"database {env['DATABASE_URL'].rpartition('/')[2]}, AMQP prefix {env['AMQP_PREFIX']}")
    for name in ("mongodb", "smtp"):
        stack.start(name, env)
    done = subprocess.run(
        run_argv(stack.container("migrate"), env, "invoicer", "migrate"), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"invoicer migrate in the image failed:\n{done.stdout}\n{done.stderr}")
    say("invoicer migrate: done, from the image")
    for name in SERVICES:
        stack.start(name, env)
        say(f"{name} running from the image (log: {stack.log_file(name)})")
    for name in CONSUMERS:  # what Kubernetes' liveness probe asks of a consumer
        http_ok(f"http://127.0.0.1:{stack.health_ports[name]}/healthz", name)
    for component in HTTP:
        http_ok(f"http://{env[component.bind_setting or '']}/readyz", component.name)
    say(f"{', '.join(c.name for c in HTTP)} ready (/readyz); {', '.join(CONSUMERS)} alive (/healthz)")
    try:
        pdf = curl_flow(f"http://{env['GATEWAY_BIND']}")
    except RuntimeError as exc:
        # PostgreSQL and RabbitMQ are the machine's, shared with other test
        # runs, some of which restart them: a 503 then says "a dependency is
        # away", not "the image is broken". Once they are back, one more try.
        if "503" not in str(exc):
            raise
        say(f"a shared service was away (503); waiting for it, then once more:\n{exc}")
        ensure_postgresql()
        ensure_rabbitmq()
        urls = [f"http://{env[component.bind_setting or '']}/readyz" for component in HTTP]
        wait_until(lambda: all(ready(url) for url in urls), 60, "the HTTP services to be ready again")
        pdf = curl_flow(f"http://{env['GATEWAY_BIND']}")
    say(f"README's curl flow passed through the image's services: {pdf} ({pdf.stat().st_size} bytes)")
    for name in ("migrate", *SERVICES):
        written = stack.written_outside_tmp(name)
        if written:
            raise RuntimeError(f"{name} wrote outside /tmp, which a read-only root refuses: {written[:10]}")
    say(f"migrate, {', '.join(SERVICES)} wrote nothing outside /tmp (read-only root)")
    say(f"all done in {time.monotonic() - started:.0f}s")


def teardown(stack: ImageStack) -> None:
    """Stop and remove everything this run started; keep going past failures."""
    for name in (*reversed(SERVICES), "smtp", "mongodb"):
        try:
            stack.stop(name)
        except Exception as exc:  # noqa: BLE001  (cleanup goes on whatever one step raised)
            say(f"stopping {name}: {exc}")
    stack.remove_containers()
    # Logs stay for a look afterwards; the data and the settings (a JWT secret) go.
    shutil.rmtree(stack.var / "mongodb", ignore_errors=True)
    stack.env_file.unlink(missing_ok=True)
    if stack.env:
        for what, step in (
            ("the database", lambda: drop_database(stack.env["DATABASE_URL"])),
            ("the broker objects", lambda: delete_broker_objects(stack.env)),
        ):
            try:
                step()
            except Exception as exc:  # noqa: BLE001  (a server gone away must not hide the test's result)
                say(f"removing {what}: {exc}")
    say("stopped and removed everything it started")


def _interrupted(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/test_image.py")
    parser.add_argument("--image", default="invoicer:0.1.0")
    parser.add_argument("--var", default="var/test-image", help="logs, pids and settings (default var/test-image)")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[\w.:/-]+", args.image):
        parser.error(f"not an image name: {args.image}")
    tag = f"invoicer-image-{secrets.token_hex(4)}"
    stack = ImageStack(var=(ROOT / args.var).resolve(), root=ROOT, image=args.image, tag=tag)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, _interrupted)
    try:
        run(stack)
    except RuntimeError as exc:
        print(f"[test-image] FAILED: {exc}", file=sys.stderr)
        for name in SERVICES:
            if stack.log_file(name).exists():
                print(f"--- {name} (last lines of {stack.log_file(name)})\n{stack.tail(name)}", file=sys.stderr)
        return 1
    finally:
        # No second signal may cut the cleanup short.
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        teardown(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
