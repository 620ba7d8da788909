"""README "Extending it", followed with a throw-away HTTP service: its own
module with a ``create_app`` built by ``make_app``, one registry entry
(registered at test time, as the edit of ``common/components.py`` would),
started by the generic CLI command, and reached through a gateway that
forwards the entry's prefix to it. Its bind and URL settings
(``GREETINGS_BIND``, ``GREETINGS_URL``) are no fields of ``Settings``: the
entry names them, and that is enough."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from devstack import free_port, port_open

SERVICE = '''
"""A throw-away HTTP service: one blueprint, one registry entry."""
from flask import Blueprint, jsonify, request

from invoicer.common import components
from invoicer.common.web import make_app

blueprint = Blueprint("greetings", __name__)


@blueprint.get("/greetings")
@blueprint.get("/greetings/<path:rest>")
def hello(rest=""):
    return jsonify({"service": "greetings", "path": request.path, "with_token": "Authorization" in request.headers})


def create_app(settings):
    return make_app(__name__, settings, blueprints=[blueprint], readiness=[], max_body=1024)


components.register(
    components.Component(
        "greetings",
        "http",
        "greetings_service:create_app",
        "say hello",
        bind_setting="GREETINGS_BIND",
        url_setting="GREETINGS_URL",
        prefixes=("greetings",),
    )
)
'''

#: Runs the ``invoicer`` command after importing the service module, so the
#: process's registry holds the entry (in the repository it is in COMPONENTS).
PRELUDE = "import greetings_service; from invoicer.cli import run; run()"


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", PRELUDE, *argv],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_port(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while not port_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{process.args[3:]} did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_a_new_http_service_is_one_module_and_one_registry_entry(stack, client, tmp_path):
    (tmp_path / "greetings_service.py").write_text(SERVICE)
    service_port, gateway_port = free_port(), free_port()
    env = {
        **os.environ,
        **stack.env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
        # Its settings, as `make up` or the chart would set them; and a URL no registry entry names.
        "GREETINGS_BIND": f"127.0.0.1:{service_port}",
        "GREETINGS_URL": f"http://127.0.0.1:{service_port}",
        "NOWHERE_URL": f"http://127.0.0.1:{service_port}",
        "WEB_WORKERS": "1",
    }
    service = _start(["greetings"], env, tmp_path / "greetings.log")  # listens where GREETINGS_BIND says
    try:
        _wait_port(service, service_port, tmp_path / "greetings.log")
        gateway = _start(["gateway", "--bind", f"127.0.0.1:{gateway_port}"], env, tmp_path / "gateway.log")
        try:
            _wait_port(gateway, gateway_port, tmp_path / "gateway.log")
            base = f"http://127.0.0.1:{gateway_port}"
            # The gateway checks the token before anything is forwarded.
            assert requests.get(f"{base}/greetings", timeout=10).status_code == 401
            reply = requests.get(f"{base}/greetings/hello?x=1", headers=client.headers, timeout=10)
            assert reply.status_code == 200, reply.text
            assert reply.json() == {"service": "greetings", "path": "/greetings/hello", "with_token": True}
            assert reply.headers["X-Request-ID"]
            # Only registry entries' prefixes are forwarded: a URL no entry names opens no route.
            assert requests.get(f"{base}/nowhere", headers=client.headers, timeout=10).status_code == 404
            # The service built by make_app has the health routes of every service.
            assert requests.get(f"http://127.0.0.1:{service_port}/readyz", timeout=10).json() == {"status": "ready"}
        finally:
            _stop(gateway)
    finally:
        _stop(service)
