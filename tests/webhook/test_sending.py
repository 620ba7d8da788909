"""The webhook sender against real PostgreSQL and a real local receiver:
signatures a receiver verifies with the ``standardwebhooks`` package,
retries with a schedule of fractions of a second, the dead state, 410, no
redirects, addresses refused after resolution, and secret rotation (issue 20)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
import standardwebhooks

from invoicer.common.config import Settings
from invoicer.common.db import Database
from invoicer.common.messages import DomainEvent
from invoicer.common.webhooks import new_secret
from invoicer.invoices import webhooks as endpoints
from invoicer.invoices.principals import Actor, Member
from invoicer.webhook.recording import EventRecorder
from invoicer.webhook.sending import Sender


@pytest.fixture
def db(webhook_database):
    database = Database(webhook_database)
    yield database
    database.close()


def _settings(url: str, **overrides) -> Settings:
    values = {
        "database_url": url,
        "webhook_allowed_networks": "127.0.0.0/8",
        "webhook_retry_schedule": "0.05,0.05",
        "webhook_timeout_seconds": 2,
        **overrides,
    }
    return Settings(**values)


def _endpoint(db: Database, url: str, events: tuple[str, ...] = ("invoice.paid",)) -> dict:
    """A new organisation with one endpoint at ``url``: ``{"organisation_id", "id", "secret"}``."""
    with db.transaction() as cur:
        cur.execute("INSERT INTO organisations (name) VALUES ('Northwind') RETURNING id")
        organisation_id = cur.fetchone()["id"]
        cur.execute(
            "INSERT INTO webhook_endpoints (organisation_id, url, events, secret) VALUES (%s, %s, %s, %s)"
            " RETURNING id, secret",
            (organisation_id, url, list(events), new_secret()),
        )
        row = cur.fetchone()
    return {"organisation_id": organisation_id, "id": row["id"], "secret": row["secret"]}


def _event(organisation_id, type_: str = "invoice.paid", event_id: str | None = None) -> bytes:
    return DomainEvent(
        id=event_id or str(uuid.uuid4()),
        type=type_,
        occurred_at=datetime.now(UTC).isoformat(),
        organisation_id=str(organisation_id),
        actor={"id": None, "email": "owner@example.com"},
        data={"invoice_id": str(uuid.uuid4()), "number": "INV-2026-0007"},
    ).to_bytes()


def _deliveries(db: Database, endpoint_id) -> list[dict]:
    with db.transaction() as cur:
        cur.execute(
            "SELECT d.id, d.status, d.attempts, array_remove(array_agg(a.status_code ORDER BY a.id), NULL) AS codes,"
            " array_agg(a.error ORDER BY a.id) AS errors"
            " FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id"
            " WHERE d.endpoint_id = %s GROUP BY d.id",
            (endpoint_id,),
        )
        return cur.fetchall()


def _drain(sender: Sender, seconds: float = 2.0) -> None:
    """Run the sender's rounds for ``seconds`` (past every retry of the short schedule)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not sender.send_one():
            time.sleep(0.02)


def test_a_local_receiver_verifies_the_signature_with_the_standardwebhooks_package(db, webhook_database, receiver):
    hook = _endpoint(db, receiver.url, ("invoice.paid", "job.done"))
    body = _event(hook["organisation_id"])
    EventRecorder(db)(body, None)
    EventRecorder(db)(body, None)  # the broker delivered it twice: still one delivery
    EventRecorder(db)(_event(hook["organisation_id"], "invoice.sent"), None)  # not subscribed
    _drain(Sender(db, _settings(webhook_database)), 0.5)

    (got,) = receiver.wait_for(1)
    payload = standardwebhooks.Webhook(hook["secret"]).verify(got.body, got.headers)
    sent = json.loads(body)
    assert payload == {
        "id": sent["id"],
        "type": "invoice.paid",
        "timestamp": sent["occurred_at"],
        "organisation_id": str(hook["organisation_id"]),
        "data": sent["data"],
    }
    (delivery,) = _deliveries(db, hook["id"])
    assert got.headers["webhook-id"] == str(delivery["id"]) and delivery["status"] == "succeeded"
    assert got.path == "/hooks/invoicer" and got.headers["Content-Type"] == "application/json"
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new_secret()).verify(got.body, got.headers)
    tampered = got.body.replace(b"INV-2026-0007", b"INV-2026-0008")
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(hook["secret"]).verify(tampered, got.headers)


def test_a_receiver_failing_twice_gets_the_event_once_as_a_success_after_three_attempts(db, webhook_database, receiver):
    receiver.script = [500, 503]
    hook = _endpoint(db, receiver.url)
    EventRecorder(db)(_event(hook["organisation_id"]), None)
    _drain(Sender(db, _settings(webhook_database)), 1.5)

    got = receiver.wait_for(3)
    assert [item.answered for item in got] == [500, 503, 200]
    assert len({item.headers["webhook-id"] for item in got}) == 1, "one message, sent three times"
    assert all(standardwebhooks.Webhook(hook["secret"]).verify(item.body, item.headers) for item in got)
    (delivery,) = _deliveries(db, hook["id"])
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 3
    assert delivery["codes"] == [500, 503, 200]
    assert len(receiver.requests) == 3, "a success is not sent again"


def test_a_delivery_is_dead_once_the_schedule_is_used_up_and_can_be_sent_again(db, webhook_database, receiver):
    receiver.script = [500, 500, 500]
    hook = _endpoint(db, receiver.url)
    EventRecorder(db)(_event(hook["organisation_id"]), None)
    sender = Sender(db, _settings(webhook_database))
    _drain(sender, 1.0)
    (delivery,) = _deliveries(db, hook["id"])
    assert delivery["status"] == "dead" and delivery["codes"] == [500, 500, 500], "first try and two retries"
    assert len(receiver.requests) == 3

    owner = Member(Actor(uuid.uuid4(), "owner@example.com"), hook["organisation_id"], "owner")
    with db.transaction() as cur:
        again = endpoints.retry_delivery(cur, owner, hook["id"], delivery["id"])
    assert again["status"] == "pending" and len(again["attempts"]) == 3
    _drain(sender, 0.5)
    (delivery,) = _deliveries(db, hook["id"])
    assert delivery["status"] == "succeeded" and delivery["codes"] == [500, 500, 500, 200]
    assert receiver.requests[-1].headers["webhook-id"] == receiver.requests[0].headers["webhook-id"]


def test_410_gone_turns_the_endpoint_off(db, webhook_database, receiver):
    receiver.script = [410]
    hook = _endpoint(db, receiver.url)
    EventRecorder(db)(_event(hook["organisation_id"]), None)
    sender = Sender(db, _settings(webhook_database))
    _drain(sender, 0.5)
    EventRecorder(db)(_event(hook["organisation_id"]), None)  # an endpoint turned off gets nothing new
    _drain(sender, 0.5)
    assert len(receiver.requests) == 1
    with db.transaction() as cur:
        cur.execute("SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = %s", (hook["id"],))
        endpoint = cur.fetchone()
    assert endpoint["enabled"] is False and "410" in endpoint["disabled_reason"]
    assert [row["status"] for row in _deliveries(db, hook["id"])] == ["dead"]


def test_redirects_are_not_followed(db, webhook_database, receiver):
    receiver.script = [302, 302, 302]
    hook = _endpoint(db, receiver.url)
    EventRecorder(db)(_event(hook["organisation_id"]), None)
    _drain(Sender(db, _settings(webhook_database, webhook_retry_schedule="30")), 0.3)
    (delivery,) = _deliveries(db, hook["id"])
    assert delivery["status"] == "pending" and delivery["codes"] == [302]
    assert "not followed" in delivery["errors"][0] and "169.254.169.254" in delivery["errors"][0]
    assert len(receiver.requests) == 1


def test_a_name_that_resolves_to_a_loopback_address_is_refused(db, webhook_database, receiver):
    """Without WEBHOOK_ALLOWED_NETWORKS, localhost (a name, so accepted at
    registration) is checked after resolution and nothing is sent."""
    hook = _endpoint(db, receiver.url.replace("127.0.0.1", "localhost"))
    EventRecorder(db)(_event(hook["organisation_id"]), None)
    _drain(Sender(db, _settings(webhook_database, webhook_allowed_networks="", webhook_retry_schedule="30")), 0.3)
    (delivery,) = _deliveries(db, hook["id"])
    assert delivery["codes"] == [] and "loopback" in delivery["errors"][0], delivery
    assert receiver.requests == []


def test_a_rotated_secret_signs_beside_the_new_one_during_the_grace_period(db, webhook_database, receiver):
    hook = _endpoint(db, receiver.url)
    owner = Member(Actor(uuid.uuid4(), "owner@example.com"), hook["organisation_id"], "owner")
    with db.transaction() as cur:
        rotated = endpoints.rotate_secret(cur, owner, hook["id"], grace_seconds=3600)
    new = rotated["secret"]
    sender = Sender(db, _settings(webhook_database))
    EventRecorder(db)(_event(hook["organisation_id"]), None)
    _drain(sender, 0.3)
    (got,) = receiver.wait_for(1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (new, hook["secret"]):  # a receiver with either secret accepts it
        standardwebhooks.Webhook(secret).verify(got.body, got.headers)

    with db.transaction() as cur:  # the grace period is over
        cur.execute(
            "UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = %s",
            (hook["id"],),
        )
    EventRecorder(db)(_event(hook["organisation_id"]), None)
    _drain(sender, 0.3)
    latest = receiver.wait_for(2)[1]
    assert len(latest.headers["webhook-signature"].split(" ")) == 1
    standardwebhooks.Webhook(new).verify(latest.body, latest.headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(hook["secret"]).verify(latest.body, latest.headers)


def test_a_url_that_cannot_be_resolved_fails_its_attempt_without_holding_up_the_others(db, webhook_database, receiver):
    """A host IDNA cannot encode (a label over 63 characters) is a failed
    attempt in the log; the delivery behind it still goes out."""
    broken = _endpoint(db, f"http://{'ü' * 70}.example/hook")
    EventRecorder(db)(_event(broken["organisation_id"]), None)
    good = _endpoint(db, receiver.url)
    EventRecorder(db)(_event(good["organisation_id"]), None)
    _drain(Sender(db, _settings(webhook_database, webhook_retry_schedule="30")), 0.5)
    (failed,) = _deliveries(db, broken["id"])
    assert failed["status"] == "pending" and failed["codes"] == [] and "cannot resolve" in failed["errors"][0]
    assert [row["status"] for row in _deliveries(db, good["id"])] == ["succeeded"]
    assert len(receiver.requests) == 1


def test_two_senders_share_the_work_and_send_each_delivery_once(db, webhook_database, receiver):
    """Deliveries are claimed FOR UPDATE SKIP LOCKED: two senders running at
    once never send one delivery twice."""
    hook = _endpoint(db, receiver.url)
    for _ in range(12):
        EventRecorder(db)(_event(hook["organisation_id"]), None)
    senders = [Sender(Database(webhook_database), _settings(webhook_database)) for _ in range(2)]
    threads = [threading.Thread(target=sender.run, kwargs={"idle_seconds": 0.05}) for sender in senders]
    for thread in threads:
        thread.start()
    try:
        received = receiver.wait_for(12, timeout=30)
        time.sleep(0.5)
    finally:
        for sender in senders:
            sender.stop()
        for thread in threads:
            thread.join()
        for sender in senders:
            sender.db.close()
    ids = [item.headers["webhook-id"] for item in receiver.requests]
    assert len(ids) == len(set(ids)) == 12, "every delivery once"
    assert len(received) == 12
    assert {row["status"] for row in _deliveries(db, hook["id"])} == {"succeeded"}
