"""The transactional outbox as common infrastructure, against the real
PostgreSQL and RabbitMQ: a database made before the outbox moved to common
upgrades with ``invoicer migrate``'s packages; an insert notifies the relay
at commit (never for a rollback); the relay, woken by it, publishes a
command without waiting out its poll, with the message's own bytes."""

from __future__ import annotations

import secrets
import select
import threading
import time
import uuid

import pika
import psycopg2
import pytest
from devstack import create_database, drop_database

from invoicer.common import logging as logs
from invoicer.common import outbox
from invoicer.common.amqp import RENDER, Topology
from invoicer.common.components import migration_packages
from invoicer.common.db import Database, migrate
from invoicer.common.messages import RenderRequest
from invoicer.common.relay import Relay

SERVER = "postgresql://postgres@127.0.0.1:5432"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"

#: The outbox as invoices/migrations 0001 and 0002 made it before it moved to common.
OLD_OUTBOX = """
CREATE TABLE outbox (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    organisation_id uuid NOT NULL,
    aggregate_type  text NOT NULL,
    aggregate_id    uuid NOT NULL,
    type            text NOT NULL,
    payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
    actor_id        uuid,
    actor_email     text,
    occurred_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at    timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_aggregate ON outbox (aggregate_id, seq);
CREATE INDEX outbox_invoice ON outbox ((payload ->> 'invoice_id'), seq);
ALTER TABLE outbox ADD COLUMN kind text NOT NULL DEFAULT 'event'
    CONSTRAINT outbox_kind_known CHECK (kind IN ('event', 'command'));
"""


@pytest.fixture
def database():
    url = f"{SERVER}/invoicer_outbox_{secrets.token_hex(4)}"
    create_database(url)
    db = Database(url)
    try:
        yield db, url
    finally:
        db.close()
        drop_database(url)


def _migrate(db: Database) -> None:
    for package in migration_packages():
        migrate(db, package)


def _columns(db: Database) -> dict[str, str]:
    with db.transaction() as cur:
        cur.execute("SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'outbox'")
        return {row["column_name"]: row["is_nullable"] for row in cur.fetchall()}


def test_a_new_database_gets_the_outbox_from_common(database):
    db, _ = database
    _migrate(db)
    assert _columns(db)["organisation_id"] == "YES" and "kind" in _columns(db)
    with db.transaction() as cur:
        cur.execute("SELECT name FROM schema_migrations WHERE name LIKE 'invoicer.common.migrations:%'")
        assert sorted(row["name"] for row in cur.fetchall()) == [
            "invoicer.common.migrations:0001_outbox.sql",
            "invoicer.common.migrations:0002_outbox_trace.sql",
        ]
    assert _migrate(db) is None and all(migrate(db, package) == [] for package in migration_packages())


def test_a_database_made_before_the_move_upgrades_and_keeps_its_rows(database):
    db, _ = database
    # The old order: the shared schema, then the invoices service's files, which made the outbox.
    migrate(db, "invoicer.migrations")
    event_id = uuid.uuid4()
    with db.transaction() as cur:
        cur.execute(OLD_OUTBOX)
        cur.execute(
            "INSERT INTO outbox (id, organisation_id, aggregate_type, aggregate_id, type)"
            " VALUES (%s, %s, 'client', %s, 'client.created')",
            (event_id, uuid.uuid4(), uuid.uuid4()),
        )
    migrate(db, "invoicer.invoices.migrations")
    assert _columns(db)["organisation_id"] == "NO"
    applied = migrate(db, "invoicer.common.migrations")  # what `invoicer migrate` adds on upgrade
    assert applied == ["invoicer.common.migrations:0001_outbox.sql", "invoicer.common.migrations:0002_outbox_trace.sql"]
    assert _columns(db)["organisation_id"] == "YES"
    with db.transaction() as cur:
        cur.execute("SELECT id, kind FROM outbox")
        assert [(row["id"], row["kind"]) for row in cur.fetchall()] == [(event_id, "event")]
        # A command may have no organisation; an event still must.
        outbox.command(cur, RENDER, {"version": 1}, aggregate_type="job", aggregate_id=uuid.uuid4())
    with pytest.raises(psycopg2.IntegrityError), db.transaction() as cur:
        cur.execute(
            "INSERT INTO outbox (aggregate_type, aggregate_id, type) VALUES ('client', %s, 'client.created')",
            (uuid.uuid4(),),
        )


def _listener(url: str):
    conn = psycopg2.connect(url)
    conn.set_session(autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"LISTEN {outbox.CHANNEL}")
    return conn


def _notified(conn, timeout: float) -> bool:
    if select.select([conn], [], [], timeout)[0]:
        conn.poll()
    found = bool(conn.notifies)
    conn.notifies.clear()
    return found


def test_an_insert_notifies_at_commit_and_a_rollback_never(database):
    db, url = database
    _migrate(db)
    listener = _listener(url)
    try:
        with db.transaction() as cur:
            outbox.command(cur, RENDER, {"version": 1}, aggregate_type="job", aggregate_id=uuid.uuid4())
            assert not _notified(listener, 0.3)  # not before the commit
        assert _notified(listener, 5)

        class Rollback(Exception):
            pass

        def rolled_back() -> None:
            with db.transaction() as cur:
                outbox.command(cur, RENDER, {"version": 1}, aggregate_type="job", aggregate_id=uuid.uuid4())
                raise Rollback

        with pytest.raises(Rollback):
            rolled_back()
        assert not _notified(listener, 0.5)
    finally:
        listener.close()


def test_the_relay_wakes_at_commit_and_publishes_the_message_bytes(database):
    db, _ = database
    _migrate(db)
    prefix = f"test_outbox_{secrets.token_hex(4)}"
    topology = Topology(prefix)
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    topology.declare(channel)
    # A poll this long would fail the wait below: only the notification can wake it in time.
    relay = Relay(db, AMQP_URL, prefix, idle_seconds=30, topology=topology)
    thread = threading.Thread(target=relay.run)
    thread.start()
    try:
        time.sleep(1.0)  # the relay has gone idle, listening
        request = RenderRequest(job_id=str(uuid.uuid4()), owner_id=str(uuid.uuid4()), input_fid="f", formats=("pdf",))
        with db.transaction() as cur:
            outbox.send(cur, request, aggregate_type="job", aggregate_id=request.job_id, command_id=request.job_id)
        deadline = time.monotonic() + 10
        while True:
            method, props, body = channel.basic_get(topology.queue(RENDER), auto_ack=True)
            if method is not None or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert method is not None, "the relay did not wake at the commit"
        assert body == request.to_bytes()  # byte for byte, though jsonb reordered the keys
        assert props.message_id == props.correlation_id == request.job_id
    finally:
        relay.stop()
        thread.join(timeout=60)
        for name in topology.queue_names():
            channel.queue_delete(name)
        for name in [*topology.exchange_names(), f"{prefix}.events"]:
            channel.exchange_delete(name)
        connection.close()
    assert not thread.is_alive()


def test_a_command_keeps_the_request_id_it_was_written_for_and_the_relay_sends_it(database):
    """The request id in hand when a command is written is stored with it and
    goes out as the message's ``x-request-id`` header, so the consumer logs
    under the request that caused the message; one written outside any
    request has none."""
    db, _ = database
    _migrate(db)
    prefix = f"test_outbox_{secrets.token_hex(4)}"
    topology = Topology(prefix)
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    topology.declare(channel)
    relay = Relay(db, AMQP_URL, prefix, topology=topology)
    requests = [
        RenderRequest(job_id=str(uuid.uuid4()), owner_id=str(uuid.uuid4()), input_fid="f", formats=("pdf",))
        for _ in range(2)
    ]
    token = logs.request_id.set("req-outbox-1")
    try:
        with db.transaction() as cur:
            outbox.send(cur, requests[0], aggregate_type="job", aggregate_id=requests[0].job_id)
    finally:
        logs.request_id.reset(token)
    with db.transaction() as cur:
        outbox.send(cur, requests[1], aggregate_type="job", aggregate_id=requests[1].job_id)
        cur.execute("SELECT request_id, traceparent FROM outbox ORDER BY seq")
        assert [(row["request_id"], row["traceparent"]) for row in cur.fetchall()] == [
            ("req-outbox-1", None),  # tracing is off in this process
            (None, None),
        ]
    try:
        assert relay.publish_batch() == 2
        headers = []
        for _ in requests:
            method, props, _body = channel.basic_get(topology.queue(RENDER), auto_ack=True)
            assert method is not None
            headers.append(props.headers or {})
        assert headers == [{"x-request-id": "req-outbox-1"}, {}]
    finally:
        relay.close()
        for name in topology.queue_names():
            channel.queue_delete(name)
        for name in [*topology.exchange_names(), f"{prefix}.events"]:
            channel.exchange_delete(name)
        connection.close()
