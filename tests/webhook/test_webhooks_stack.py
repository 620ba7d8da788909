"""Webhooks end to end on the session's stack: an owner registers endpoints
through the gateway, bills, and local receivers get the domain events and
the render job's outcome from the outbox relay, RabbitMQ and the webhook
sender, signed so that the ``standardwebhooks`` package verifies them; a
receiver that fails twice gets the event once as a success, and the
delivery log shows the three attempts (issue 20)."""

from __future__ import annotations

import json
import time

import requests
import standardwebhooks

SELLER = {
    "name": "Northwind Traders Ltd",
    "address": "12 Harbour Road\nBristol",
    "vat_id": "GB980780684",
    "currency": "EUR",
    "payment_terms_days": 30,
}
BUYER = {"name": "Maria Anders", "company": "Alfreds Futterkiste", "address": "Obere Str. 57\nBerlin"}
LINES = [{"description": "Chai tea", "quantity": "12", "unit_price": "18.00", "tax_rate": "19"}]


def _api(client, method: str, path: str, status: int, **kwargs) -> dict:
    reply = requests.request(method, f"{client.base_url}{path}", headers=client.headers, timeout=30, **kwargs)
    assert reply.status_code == status, f"{method} {path}: {reply.status_code} {reply.text}"
    return reply.json() if reply.content else {}


def _by_type(received, secret: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for item in received:
        if 200 <= item.answered < 300:
            payload = standardwebhooks.Webhook(secret).verify(item.body, item.headers)
            found.setdefault(payload["type"], []).append(payload)
    return found


def test_billing_events_reach_signed_and_a_failing_receiver_gets_them_after_retries(make_client, make_receiver):
    owner = make_client()
    _api(owner, "PATCH", "/organisation", 200, json=SELLER)
    flaky, steady = make_receiver(), make_receiver()
    flaky.script = [500, 503]
    issued_hook = _api(owner, "POST", "/webhooks", 201, json={"url": flaky.url, "events": ["invoice.issued"]})
    other_hook = _api(
        owner,
        "POST",
        "/webhooks",
        201,
        json={"url": steady.url, "events": ["job.done", "payment.recorded", "invoice.paid"], "description": "ERP"},
    )

    client = _api(owner, "POST", "/clients", 201, json=BUYER)
    draft = _api(owner, "POST", "/invoices", 201, json={"client_id": client["id"], "lines": LINES})
    invoice = _api(owner, "POST", f"/invoices/{draft['id']}/issue", 200)
    _api(owner, "POST", f"/invoices/{invoice['id']}/payments", 201, json={"amount": invoice["totals"]["gross"]})

    received = flaky.wait_for(3, timeout=60)
    assert [item.answered for item in received] == [500, 503, 200]
    (issued,) = _by_type(received, issued_hook["secret"])["invoice.issued"]
    assert issued["data"]["invoice_id"] == invoice["id"] and issued["data"]["number"] == invoice["number"]

    deadline = time.monotonic() + 90
    while set(_by_type(steady.requests, other_hook["secret"])) != {"job.done", "payment.recorded", "invoice.paid"}:
        assert time.monotonic() < deadline, [json.loads(item.body)["type"] for item in steady.requests]
        time.sleep(0.2)
    events = _by_type(steady.requests, other_hook["secret"])
    assert events["payment.recorded"][0]["data"]["invoice_id"] == invoice["id"]
    (done,) = events["job.done"]
    assert done["data"]["status"] == "done" and done["data"]["invoice_number"] == invoice["number"]
    assert {item["format"] for item in done["data"]["files"]} >= {"pdf"}

    log = _api(owner, "GET", f"/webhooks/{issued_hook['id']}/deliveries", 200)
    (delivery,) = log["items"]
    assert delivery["event_type"] == "invoice.issued" and delivery["status"] == "succeeded"
    assert [attempt["status_code"] for attempt in delivery["attempts"]] == [500, 503, 200]
    assert all(attempt["duration_ms"] >= 0 for attempt in delivery["attempts"])
    assert received[-1].headers["webhook-id"] == delivery["id"]
    time.sleep(1.5)
    assert len(flaky.requests) == 3, "a success is never sent again"

    again = _api(owner, "POST", f"/webhooks/{issued_hook['id']}/deliveries/{delivery['id']}/retry", 202)
    assert again["status"] == "pending"
    resent = flaky.wait_for(4, timeout=30)[-1]
    assert resent.headers["webhook-id"] == delivery["id"] and resent.body == received[-1].body
