"""A billing command is one trace too: sending an invoice goes from the
gateway's request to the invoices service (traceparent over HTTP), through
the outbox and the broker to the notification service's mail, read back from
the stack's ``TRACES_FILE`` (README "Traces")."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from .conftest import issued, mails_to, new_client


def _spans(stack) -> list[dict]:
    path = stack.stack.var / "traces.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def test_sending_an_invoice_is_one_trace_from_the_gateway_to_the_mail(stack, seller):
    address = f"trace-{uuid.uuid4().hex[:10]}@example.com"
    invoice = issued(seller, new_client(seller, email=address))
    request_id = f"trace-{uuid.uuid4().hex}"
    sent = seller.ok("POST", f"/invoices/{invoice['id']}/send", headers={"X-Request-ID": request_id})
    assert sent["status"] == "sent"
    assert mails_to(stack, address)
    # The gateway's access line names the request's trace.
    deadline = time.monotonic() + 10
    while not (
        access := [line for line in stack.log("gateway").splitlines() if f'"request_id": "{request_id}"' in line]
    ):
        assert time.monotonic() < deadline, "no access line"
        time.sleep(0.1)
    trace_id = "0x" + json.loads(access[0])["trace_id"]

    deadline = time.monotonic() + 30
    while True:
        spans = [span for span in _spans(stack) if span["context"]["trace_id"] == trace_id]
        mail = [span for span in spans if span["name"] == "smtp send"]
        if mail:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"no mail in the trace: {sorted(span['name'] for span in spans)}")
        time.sleep(0.3)
    by_id = {span["context"]["span_id"]: span for span in spans}
    chain = [mail[0]]
    while chain[-1]["parent_id"] is not None:
        chain.append(by_id[chain[-1]["parent_id"]])
    services = [(span["resource"]["attributes"]["service.name"], span["kind"]) for span in reversed(chain)]
    assert services[:4] == [
        ("invoicer-gateway", "SpanKind.SERVER"),  # POST /invoices/<id>/send
        ("invoicer-gateway", "SpanKind.CLIENT"),  # forwarded to the invoices service
        ("invoicer-invoices", "SpanKind.SERVER"),
        ("invoicer-outbox-relay", "SpanKind.PRODUCER"),  # invoice.mail send
    ], services
    assert services[-2:] == [
        ("invoicer-notification", "SpanKind.CONSUMER"),
        ("invoicer-notification", "SpanKind.CLIENT"),
    ]
    assert chain[1]["name"].endswith("invoice.mail process")  # chain[0] is the mail, chain[-1] the request
