"""Fixtures of the metrics tests: reading a ``/metrics`` page, and processes
of the test's own beside the session's stack (a worker on an AMQP prefix of
its own, so that what it dead-letters is nobody else's, and an HTTP service
with several gunicorn workers)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from devstack import delete_broker_objects, free_port, port_open
from prometheus_client.parser import text_string_to_metric_families

INVOICER = str(Path(sys.executable).parent / "invoicer")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """Every sample of the Prometheus text page at ``url``:
    ``{(name, frozenset(labels.items())): value}``; fails the test unless it
    answers 200 in the text format."""
    reply = requests.get(url, timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/plain"), reply.headers["Content-Type"]
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample ``name`` with exactly ``labels`` (0 when absent: a labelled
    counter appears on its first increment)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


@dataclass
class Process:
    """A process of the test's own: its ``env`` and where its metrics are."""

    process: subprocess.Popen
    env: dict[str, str]
    metrics_url: str
    log: Path


def _start(argv: list[str], env: dict[str, str], log: Path, ready: Callable[[], bool], what: str) -> subprocess.Popen:
    with open(log, "ab") as handle:
        process = subprocess.Popen(
            argv,
            env={**os.environ, **env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive_and_ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"{what} exited:\n{log.read_text(errors='replace')[-3000:]}")
        return ready()

    wait_for(alive_and_ready, 60, what)
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def own_worker(stack, tmp_path) -> Iterator[Process]:
    """``invoicer worker`` on the stack's database and storage but an AMQP
    prefix of its own, serving ``/metrics`` on a free ``HEALTH_PORT``."""
    port = free_port()
    env = {**stack.env, "AMQP_PREFIX": f"metrics_{secrets.token_hex(4)}", "HEALTH_PORT": str(port)}
    log = tmp_path / "worker.log"
    process = _start(
        [INVOICER, "worker"], env, log, lambda: b'"consuming"' in log.read_bytes(), "the test's own worker"
    )
    try:
        yield Process(process, env, f"http://127.0.0.1:{port}/metrics", log)
    finally:
        _stop(process)
        delete_broker_objects(env)


@pytest.fixture
def own_http_service(stack, tmp_path) -> Iterator[Process]:
    """``invoicer auth`` under gunicorn with three worker processes of one
    thread each, on free ports, ``/metrics`` served by its master."""
    bind, metrics_port = f"127.0.0.1:{free_port()}", free_port()
    env = {**stack.env, "WEB_WORKERS": "3", "WEB_THREADS": "1", "METRICS_PORT": str(metrics_port)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "auth.log"
    host, _, port = bind.rpartition(":")
    process = _start(
        [INVOICER, "auth", "--bind", bind],
        env,
        log,
        lambda: port_open(host, int(port)) and port_open("127.0.0.1", metrics_port),
        "the test's own auth service",
    )
    try:
        yield Process(process, {**env, "BIND": bind}, f"http://127.0.0.1:{metrics_port}/metrics", log)
    finally:
        _stop(process)
