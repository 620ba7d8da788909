"""Every line every invoicer service writes is one JSON object, gunicorn's own
lines included; access lines carry the request id and no e-mail address; the
gateway never logs a null correlation id.

The stack's other logs (the MongoDB wire server, the SMTP sink) are test
infrastructure, not services of ours, and are not checked."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from urllib.parse import urlsplit

import requests

SERVICES = ("auth", "gateway", "worker", "notification")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _records(stack, service: str) -> list[dict]:
    """The service's log as records; fails naming the first lines that are not JSON objects."""
    records, bad = [], []
    for number, line in enumerate(stack.log(service).splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            records.append(record)
        else:
            bad.append(f"{service}.log:{number}: {line[:200]}")
    assert not bad, "lines that are not JSON objects:\n" + "\n".join(bad[:10])
    return records


def _access_record(stack, service: str, request_id: str, timeout: float = 10.0) -> dict:
    """The access record of ``request_id`` (gunicorn writes it just after answering)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            record
            for record in _records(stack, service)
            if record.get("logger") == "gunicorn.access" and record.get("request_id") == request_id
        ]
        if found:
            assert len(found) == 1, found
            return found[0]
        assert time.monotonic() < deadline, f"no access line for {request_id} in the {service} log"
        time.sleep(0.1)


def test_every_line_of_every_service_is_json_with_request_ids_and_no_email(stack, make_client, example_bytes):
    user = make_client()  # registers and logs in through the gateway
    wrong = requests.post(f"{stack.base_url}/login", auth=(user.email, "Not-the-password-1"), timeout=30)
    assert wrong.status_code == 401
    login_id = f"logs-{uuid.uuid4().hex}"
    reply = requests.post(
        f"{stack.base_url}/login", auth=(user.email, user.password), headers={"X-Request-ID": login_id}, timeout=30
    )
    assert reply.status_code == 200
    upload_id = f"logs-{uuid.uuid4().hex}"
    reply = user.post(
        "/upload?formats=pdf",
        data=example_bytes,
        headers={"Content-Type": "application/json", "X-Request-ID": upload_id},
    )
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]
    assert user.wait(job_id)["status"] == "done"
    # A request gunicorn refuses itself also leaves JSON lines.
    gateway = urlsplit(stack.base_url)
    with socket.create_connection((gateway.hostname, gateway.port), timeout=10) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        while sock.recv(65536):
            pass

    # The access lines: method, path without the query, status, duration, request id; no e-mail.
    upload = _access_record(stack, "gateway", upload_id)
    assert (upload["method"], upload["path"], upload["status"]) == ("POST", "/upload", 202)
    assert upload["duration_ms"] >= 0 and upload["correlation_id"] == upload_id
    for service in ("gateway", "auth"):  # the gateway forwards the login, and its id, to auth
        login = _access_record(stack, service, login_id)
        assert (login["method"], login["path"], login["status"]) == ("POST", "/login", 200)

    records = {service: _records(stack, service) for service in SERVICES}
    for service in ("gateway", "auth"):
        access = [record for record in records[service] if record.get("logger") == "gunicorn.access"]
        assert access, service
        for record in access:
            assert record["request_id"], record
            assert not EMAIL.search(json.dumps(record)), record
    assert any(record.get("logger", "").startswith("gunicorn.error") for record in records["gateway"])
    for record in records["gateway"]:
        assert record.get("correlation_id", "absent") is not None, record
        assert record.get("request_id", "absent") is not None, record
        assert record.get("trace_id", "absent") is not None, record
    # The line about the request gunicorn refused names the id it answered with, as its access line does.
    refused = [record for record in records["gateway"] if record.get("message", "").startswith("refused a request")]
    assert refused and all(record["request_id"] == record["correlation_id"] for record in refused), refused

    # The job is traced: the gateway's line names request and job, the worker's and notification's the job.
    queued = [record for record in records["gateway"] if record.get("job_id") == job_id]
    assert [record["correlation_id"] for record in queued] == [upload_id]
    assert any(record.get("job_id") == job_id for record in records["worker"])
    deadline = time.monotonic() + 30  # the mail goes out after the job is done
    while not any(record.get("job_id") == job_id for record in _records(stack, "notification")):
        assert time.monotonic() < deadline, "no notification line for the job"
        time.sleep(0.2)


def _job_lines(stack, service: str, job_id: str, message: str, timeout: float = 30.0) -> list[dict]:
    """``service``'s records about ``job_id``, once one of them says ``message``."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [record for record in _records(stack, service) if record.get("job_id") == job_id]
        if any(record.get("message") == message for record in lines):
            return lines
        assert time.monotonic() < deadline, f"no {message!r} line for the job in the {service} log"
        time.sleep(0.2)


def test_a_jobs_lines_carry_the_uploads_request_id_and_trace_id_in_every_service(stack, client, example_bytes):
    """The request id and the trace id of one upload reach the log lines of
    the worker that renders it and of the notification that mails it (the
    stack traces into its TRACES_FILE, so every line has a trace id)."""
    upload_id = f"logs-{uuid.uuid4().hex}"
    reply = client.post(
        "/upload?formats=pdf",
        data=example_bytes,
        headers={"Content-Type": "application/json", "X-Request-ID": upload_id},
    )
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]
    assert client.wait(job_id)["status"] == "done"

    gateway = _job_lines(stack, "gateway", job_id, "job queued")
    (queued,) = [line for line in gateway if line.get("message") == "job queued"]
    assert queued["request_id"] == upload_id
    trace_id = queued["trace_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id) and trace_id != "0" * 32, queued
    # The access line of the upload names the same trace.
    assert _access_record(stack, "gateway", upload_id)["trace_id"] == trace_id

    worker = _job_lines(stack, "worker", job_id, "job done")
    notification = _job_lines(stack, "notification", job_id, "notification sent")
    for line in worker + notification:
        assert (line.get("request_id"), line.get("trace_id")) == (upload_id, trace_id), line
        assert line["correlation_id"] == job_id, line  # the message's own id stays where it was
    # Each service logs from its own span of the one trace.
    spans = {line["span_id"] for line in (queued, worker[-1], notification[-1])}
    assert len(spans) == 3, spans
