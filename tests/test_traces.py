"""Traces on the real stack: one upload is one trace, from the gateway's
request through the outbox relay and the broker to the worker and the
notification service, read back from the stack's ``TRACES_FILE`` (every
process appends its spans there, README "Traces")."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pytest


def _spans(stack) -> list[dict]:
    path = stack.stack.var / "traces.jsonl"
    assert stack.env.get("TRACES_FILE") == str(path), "the test stack writes its traces to var/…/traces.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _service(span: dict) -> str:
    return span["resource"]["attributes"]["service.name"]


def _trace(stack, trace_id: str, until, timeout: float = 30.0) -> list[dict]:
    """The spans of ``trace_id`` once ``until(spans)`` holds (processes
    export in batches, every half second)."""
    deadline = time.monotonic() + timeout
    while True:
        spans = [span for span in _spans(stack) if span["context"]["trace_id"] == trace_id]
        if until(spans):
            return spans
        if time.monotonic() > deadline:
            pytest.fail(f"trace {trace_id} incomplete: {sorted((_service(s), s['name']) for s in spans)}")
        time.sleep(0.3)


def _queued_line(stack, job_id: str) -> dict:
    for line in stack.log("gateway").splitlines():
        if job_id in line and '"job queued"' in line:
            return json.loads(line)
    raise AssertionError(f"no 'job queued' line for {job_id}")


def test_one_upload_is_one_trace_from_the_gateway_to_the_mail(stack, client, example_bytes):
    reply = client.post(
        "/upload?formats=pdf",
        data=example_bytes,
        headers={"Content-Type": "application/json", "X-Request-ID": f"trace-{uuid.uuid4().hex}"},
    )
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]
    assert client.wait(job_id)["status"] == "done"
    trace_id = "0x" + _queued_line(stack, job_id)["trace_id"]

    spans = _trace(stack, trace_id, lambda spans: any(span["name"] == "smtp send" for span in spans))
    by_id = {span["context"]["span_id"]: span for span in spans}
    (mail,) = [span for span in spans if span["name"] == "smtp send"]
    chain = [mail]
    while chain[-1]["parent_id"] is not None:
        assert chain[-1]["parent_id"] in by_id, f"the parent of {chain[-1]['name']} is not in the trace"
        chain.append(by_id[chain[-1]["parent_id"]])
    chain.reverse()  # from the root down
    prefix = stack.env["AMQP_PREFIX"]
    assert [(_service(span), span["name"], span["kind"]) for span in chain] == [
        ("invoicer-gateway", "POST /upload", "SpanKind.SERVER"),
        ("invoicer-outbox-relay", "invoice.render send", "SpanKind.PRODUCER"),
        ("invoicer-worker", f"{prefix}.invoice.render process", "SpanKind.CONSUMER"),
        ("invoicer-worker", "invoice.ready send", "SpanKind.PRODUCER"),
        ("invoicer-notification", f"{prefix}.invoice.ready process", "SpanKind.CONSUMER"),
        ("invoicer-notification", "smtp send", "SpanKind.CLIENT"),
    ]
    render = chain[2]
    assert render["attributes"]["messaging.message.conversation_id"] == job_id
    # The worker's GridFS reads and writes and its PostgreSQL queries are spans of its render.
    under_render = [span for span in spans if span["parent_id"] == render["context"]["span_id"]]
    assert any(span["attributes"].get("db.system") == "mongodb" for span in under_render), under_render
    assert any(span["attributes"].get("db.system") == "postgresql" for span in under_render), under_render
    # And the gateway's, of its request.
    request = chain[0]
    under_request = {
        span["attributes"].get("db.system") for span in spans if span["parent_id"] == request["context"]["span_id"]
    }
    assert {"mongodb", "postgresql"} <= under_request


def test_tracing_off_loads_no_sdk_and_instruments_nothing():
    """Without OTEL_EXPORTER_OTLP_ENDPOINT or TRACES_FILE the services run as
    before: no SDK imported, no library patched, no trace headers written."""
    code = """
import sys
import psycopg2
from invoicer.common import amqp, outbox, relay, tracing, web
from invoicer.common.config import Settings
from invoicer.common import logging as logs
settings = Settings.from_env({})
assert tracing.setup("gateway", settings) is False
assert not tracing.active() and tracing.traceparent() is None and tracing.current_ids() is None
assert not [name for name in sys.modules if name.startswith(("opentelemetry.sdk", "opentelemetry.instrumentation"))]
assert not hasattr(psycopg2.connect, "__wrapped__")
token = logs.request_id.set("req-1")
assert amqp.properties("c").headers == {"x-request-id": "req-1"}
"""
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_with_an_otlp_endpoint_spans_go_to_its_v1_traces_as_protobuf(tmp_path):
    """OTEL_EXPORTER_OTLP_ENDPOINT switches tracing on and sends the spans
    over OTLP/HTTP to ``<endpoint>/v1/traces``: a receiver on a free port
    decodes what one process sent with OpenTelemetry's own protobuf classes."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    received: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    code = """
from invoicer.common import tracing
from invoicer.common.config import Settings
assert tracing.setup("worker", Settings.from_env())
with tracing.client_span("smtp send", {"server.port": 25}):
    pass
tracing.shutdown()
"""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}", "PATH": "/usr/bin:/bin"}
    try:
        result = subprocess.run(
            [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60, env=env
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert [(path, kind) for path, kind, _ in received] == [("/v1/traces", "application/x-protobuf")]
    request = ExportTraceServiceRequest.FromString(received[0][2])
    (resource,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"]
    names = [span.name for scope in resource.scope_spans for span in scope.spans]
    assert (service, names) == ("invoicer-worker", ["smtp send"])
