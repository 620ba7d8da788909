"""The invoices service's business metrics (GET /metrics of its gunicorn
master): invoices and credit notes issued, payments recorded, the render jobs
of kept documents accepted; an idempotent replay counts nothing again."""

from __future__ import annotations

import flask
import requests
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families

from invoicer.invoices.routes import REPLAYED_HEADER, _count_committed

from .conftest import new_client, new_draft


def _samples(url: str) -> dict:
    reply = requests.get(url, timeout=10)
    assert reply.status_code == 200, reply.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def test_issuing_paying_and_crediting_move_the_billing_counters(stack, seller):
    url = stack.env["METRICS_URL_INVOICES"]
    before = _samples(url)
    draft = new_draft(seller, new_client(seller))
    seller.ok("POST", f"/invoices/{draft['id']}/issue")
    seller.ok("POST", f"/invoices/{draft['id']}/payments", 201, json={"amount": "10.00"})
    seller.ok("POST", f"/invoices/{draft['id']}/credit-notes", 201, json={"reason": "damaged"})
    after = _samples(url)

    def moved(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0.0) - before.get(key, 0.0)

    # Other tests may share the stack: at least ours are counted.
    assert moved("invoicer_invoices_issued_total", kind="invoice") >= 1
    assert moved("invoicer_invoices_issued_total", kind="credit_note") >= 1
    assert moved("invoicer_payments_recorded_total") >= 1
    assert moved("invoicer_jobs_accepted_total", source="record") >= 2  # the invoice's and the credit note's
    issue = {"route": "/invoices/<invoice_id>/issue", "method": "POST", "status": "200"}
    assert moved("invoicer_http_requests_total", **issue) >= 1


def test_only_a_committed_change_that_is_not_a_replay_counts():
    counter = Counter("issued_here_total", "test counter", registry=CollectorRegistry())
    _count_committed(flask.Response(status=200), counter)
    _count_committed(flask.Response(status=201, headers={REPLAYED_HEADER: "false"}), counter)
    _count_committed(flask.Response(status=201, headers={REPLAYED_HEADER: "true"}), counter)  # a replay
    _count_committed(flask.Response(status=409), counter)  # refused
    assert counter._value.get() == 2
