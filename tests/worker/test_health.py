"""The consumers' health endpoint (HEALTH_PORT), which Kubernetes probes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from devstack import free_port


@pytest.mark.parametrize("service", ["worker", "notification"])
def test_consumer_serves_healthz_while_its_loop_runs(stack, service):
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "invoicer"), service],
        env={**os.environ, **stack.env, "HEALTH_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"{service} never served /healthz"
                time.sleep(0.2)
        assert reply.status_code == 200
        assert reply.json() == {"status": "ok"}
        assert requests.get(f"http://127.0.0.1:{port}/other", timeout=2).status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, f"{service} did not stop cleanly on SIGTERM"
