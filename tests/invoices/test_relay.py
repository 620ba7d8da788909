"""The outbox relay against real PostgreSQL and RabbitMQ: every committed
event reaches a bound queue, none of a rolled-back change does, and a relay
killed mid-batch loses nothing (consumers drop the re-sent duplicates by id)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time

import pika
import pytest

from invoicer.common.relay import Relay, events_exchange
from invoicer.invoices import clients
from invoicer.invoices.identity import resolve_membership

from .conftest import create_database, drop_database, new_actor


class Rollback(Exception):
    pass


@pytest.fixture
def relay_db(postgres_server):
    """A database of its own, so that its outbox holds only this test's events."""
    name = f"invoicer_relay_{secrets.token_hex(4)}"
    db = create_database(postgres_server, name)
    try:
        yield db, f"{postgres_server}/{name}"
    finally:
        drop_database(postgres_server, db, name)


@pytest.fixture
def broker(amqp_server):
    """A unique prefix, the broker's URL, its events exchange and a queue
    bound to every event; deleted afterwards."""
    prefix = f"test_records_{secrets.token_hex(4)}"
    connection = pika.BlockingConnection(pika.URLParameters(amqp_server))
    channel = connection.channel()
    exchange = events_exchange(prefix)
    channel.exchange_declare(exchange, "topic", durable=True)
    queue = f"{prefix}.all-events"
    channel.queue_declare(queue, durable=True)
    channel.queue_bind(queue, exchange, routing_key="#")
    try:
        yield prefix, amqp_server, channel, queue
    finally:
        channel.queue_delete(queue)
        channel.exchange_delete(exchange)
        connection.close()


def drain(channel, queue) -> list[tuple[str, str, dict]]:
    """Every message in ``queue``: (routing key, message_id, body)."""
    messages = []
    while True:
        method, props, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            return messages
        messages.append((method.routing_key, props.message_id, json.loads(body)))


def make_events(db, count: int) -> tuple[list[str], str]:
    """``count`` committed events (client.created) and the id of one that was rolled back."""
    with db.transaction() as cur:
        member = resolve_membership(cur, new_actor())
    with db.transaction() as cur:
        for index in range(count - 1):  # organisation.created was the first
            clients.create_client(cur, member, {"name": f"Client {index}"})
    rolled_back = None
    try:
        with db.transaction() as cur:
            client = clients.create_client(cur, member, {"name": "Never"})
            cur.execute("SELECT id FROM outbox WHERE aggregate_id = %s", (client["id"],))
            rolled_back = str(cur.fetchone()["id"])
            raise Rollback
    except Rollback:
        pass
    with db.transaction() as cur:
        cur.execute("SELECT id FROM outbox ORDER BY seq")
        ids = [str(row["id"]) for row in cur.fetchall()]
    assert len(ids) == count and rolled_back not in ids
    return ids, rolled_back


def test_every_committed_event_is_published_once_with_its_shape(relay_db, broker):
    db, _ = relay_db
    prefix, amqp_url, channel, queue = broker
    ids, rolled_back = make_events(db, 25)
    relay = Relay(db, amqp_url, prefix, batch_size=7)
    try:
        rounds = [relay.publish_batch() for _ in range(5)]
    finally:
        relay.close()
    assert rounds == [7, 7, 7, 4, 0]
    messages = drain(channel, queue)
    assert [message_id for _, message_id, _ in messages] == ids  # once each, in order
    assert rolled_back not in {message_id for _, message_id, _ in messages}
    key, message_id, body = messages[1]
    assert key == body["type"] == "client.created"
    assert body["id"] == message_id and body["version"] == 1
    assert body["data"]["name"] == "Client 0" and "@" in body["actor"]["email"]
    assert set(body) == {"version", "id", "type", "occurred_at", "organisation_id", "actor", "data"}
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
        assert cur.fetchone()["n"] == 0


def _start_relay(database_url: str, amqp_url: str, prefix: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "AMQP_URL": amqp_url,
        "AMQP_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "invoicer.common.relay", "--batch-size", "100", "--idle-seconds", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait(condition, timeout: float = 60.0, step: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(step)


def test_a_relay_killed_mid_batch_loses_nothing_and_consumers_see_each_event_once(relay_db, broker):
    db, url = relay_db
    prefix, amqp_url, channel, queue = broker
    ids, rolled_back = make_events(db, 400)

    def queued() -> int:
        return channel.queue_declare(queue, passive=True).method.message_count

    def unpublished() -> int:
        with db.transaction() as cur:
            cur.execute("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
            return cur.fetchone()["n"]

    first = _start_relay(url, amqp_url, prefix)
    try:
        _wait(lambda: queued() > 0)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert unpublished() > 0  # killed before it finished

    second = _start_relay(url, amqp_url, prefix)
    try:
        _wait(lambda: unpublished() == 0, step=0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, second.stderr.read().decode()

    received = [message_id for _, message_id, _ in drain(channel, queue)]
    seen: list[str] = []
    for message_id in received:  # what a consumer that drops duplicates by id keeps
        if message_id not in seen:
            seen.append(message_id)
    assert sorted(seen) == sorted(ids)
    assert rolled_back not in received
    assert len(received) >= len(ids)
