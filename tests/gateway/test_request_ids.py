"""Request ids on the real stack: answered in X-Request-ID, carried by the
log lines of the request, and passed from the gateway to the auth service."""

from __future__ import annotations

import json
import time
import uuid

import requests


def _records(text: str) -> list[dict]:
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # gunicorn's own lines
    return records


def _wait_for_line(stack, service: str, needle: str, timeout: float = 10.0) -> str:
    """The first line of ``service``'s log holding ``needle`` (gunicorn writes
    its access line just after the answer went out, so wait a little)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in stack.log(service).splitlines() if needle in line]
        if lines:
            return lines[0]
        assert time.monotonic() < deadline, f"no line with {needle!r} in the {service} log"
        time.sleep(0.1)


def test_an_uploads_log_line_carries_the_clients_request_id(stack, client, example_bytes):
    rid = f"test-{uuid.uuid4().hex}"
    reply = requests.post(
        f"{stack.base_url}/upload",
        data=example_bytes,
        timeout=30,
        headers={**client.headers, "Content-Type": "application/json", "X-Request-ID": rid},
    )
    assert reply.status_code == 202, reply.text
    assert reply.headers["X-Request-ID"] == rid
    queued = [
        record
        for record in _records(stack.log("gateway"))
        if record.get("message") == "job queued" and record.get("job_id") == reply.json()["job_id"]
    ]
    assert [record["correlation_id"] for record in queued] == [rid]


def test_a_login_is_traced_through_gateway_and_auth_under_one_id(stack, client):
    rid = f"test-{uuid.uuid4().hex}"
    reply = requests.post(
        f"{stack.base_url}/login", auth=(client.email, client.password), headers={"X-Request-ID": rid}, timeout=30
    )
    assert reply.status_code == 200
    assert reply.headers["X-Request-ID"] == rid
    # gunicorn's access line ends with the id; the gateway forwarded it to auth.
    for service in ("gateway", "auth"):
        assert "POST /login" in _wait_for_line(stack, service, f'"request_id": "{rid}"'), service


def test_an_odd_request_id_is_replaced(stack):
    reply = requests.get(f"{stack.base_url}/healthz", headers={"X-Request-ID": "x" * 200}, timeout=10)
    assert reply.status_code == 200
    assert uuid.UUID(reply.headers["X-Request-ID"]).version == 4
