"""Issue 22 item 2: a write never outlives the gateway's answer. The services
give up on PostgreSQL (statement and lock time limits) well before the
gateway gives up on them, and answer 503 ``busy`` with nothing changed; when
the gateway cannot know the outcome it answers 504 ``outcome_unknown``, and a
retry with the same Idempotency-Key is answered, never done twice."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import psycopg2
import pytest

from invoicer.common.config import Settings
from invoicer.common.db import request_database

from .conftest import BUYER, LINES, SELLER, issued, new_client, sign_up


class RowLock:
    """Holds ``SELECT … FOR UPDATE`` on one invoice row, on its own
    connection, from a thread, for ``seconds`` (or until released)."""

    def __init__(self, database_url: str, invoice_id: str, seconds: float) -> None:
        self.database_url, self.invoice_id, self.seconds = database_url, invoice_id, seconds
        self.held = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        conn = psycopg2.connect(self.database_url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT id FROM invoices WHERE id = %s FOR UPDATE", (self.invoice_id,))
                self.held.set()
                time.sleep(self.seconds)
        finally:
            conn.close()

    def __enter__(self) -> RowLock:
        self.thread.start()
        assert self.held.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.thread.join(30)


def _issued_in_process(api) -> dict:
    assert api("PATCH", "/organisation", json=SELLER).status_code == 200
    client = api("POST", "/clients", json=BUYER).get_json()
    draft = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES}).get_json()
    reply = api("POST", f"/invoices/{draft['id']}/issue")
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def test_a_write_waiting_for_a_lock_is_rolled_back_and_answered_503_busy(billing_api, records_database):
    api = billing_api(database_lock_timeout_ms=300)
    invoice = _issued_in_process(api)
    started = time.monotonic()
    with RowLock(records_database, invoice["id"], 3):
        reply = api("POST", f"/invoices/{invoice['id']}/payments", json={"amount": "10.00"})
        waited = time.monotonic() - started
    assert reply.status_code == 503, reply.get_json()
    error = reply.get_json()["error"]
    assert error["code"] == "busy" and "nothing was changed" in error["message"]
    assert reply.headers["Retry-After"] == "2"
    assert waited < 2.5, "the service gave up at its lock time limit, not when the lock went"
    after = api("GET", f"/invoices/{invoice['id']}").get_json()
    assert after["totals"]["paid"] == "0.00" and after["payments"] == []


def test_request_database_sets_the_time_limits_on_every_connection(records_database):
    settings = Settings(database_url=records_database, database_statement_timeout_ms=1234, database_lock_timeout_ms=567)
    db = request_database(settings)
    try:
        with db.transaction() as cur:
            cur.execute("SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l")
            row = cur.fetchone()
    finally:
        db.close()
    assert (row["s"], row["l"]) == ("1234ms", "567ms")


@pytest.fixture
def slow_gateway(stack):
    """The gateway's app in this process, forwarding to the session stack's
    invoices service, giving up on it after 1 s."""
    from invoicer.gateway.app import create_app

    settings = replace(Settings.from_env(stack.env), forward_timeout_seconds=1)
    return create_app(settings).test_client()


def test_a_payment_the_gateway_stopped_waiting_for_is_504_and_its_retry_pays_once(stack, slow_gateway):
    """The issue's case: the write committed after the gateway answered; the retry with the same key replays it."""
    seller = sign_up(stack.base_url)
    seller.ok("PATCH", "/organisation", json=SELLER)
    invoice = issued(seller, new_client(seller))
    path = f"/invoices/{invoice['id']}/payments"
    headers = {"Authorization": f"Bearer {seller.token}", "Idempotency-Key": "pay-once-1"}
    with RowLock(stack.env["DATABASE_URL"], invoice["id"], 2.5):
        reply = slow_gateway.post(path, json={"amount": "10.00"}, headers=headers)
        assert reply.status_code == 504, reply.get_json()
        error = reply.get_json()["error"]
        assert error["code"] == "outcome_unknown" and "same Idempotency-Key" in error["message"]
    deadline = time.monotonic() + 20
    while seller.ok("GET", f"/invoices/{invoice['id']}")["totals"]["paid"] == "0.00":
        assert time.monotonic() < deadline, "the payment the gateway gave up on was committed after all"
        time.sleep(0.2)
    retry = seller("POST", path, json={"amount": "10.00"}, headers={"Idempotency-Key": "pay-once-1"})
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true", retry.text
    after = seller.ok("GET", f"/invoices/{invoice['id']}")
    assert after["totals"]["paid"] == "10.00" and len(after["payments"]) == 1
