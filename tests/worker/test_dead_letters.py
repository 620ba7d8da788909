"""Messages that can never succeed are dead-lettered, the job is marked
failed with a reason, and the worker keeps consuming. Over the real broker."""

from __future__ import annotations

import json
import time
import uuid

import pika
import pytest

from invoicer.common.amqp import RENDER, Topology
from invoicer.common.db import Database
from invoicer.common.jobs import JobStore


@pytest.fixture
def channel(stack):
    connection = pika.BlockingConnection(pika.URLParameters(stack.env["AMQP_URL"]))
    channel = connection.channel()
    channel.confirm_delivery()
    yield channel
    connection.close()


def _topology(stack) -> Topology:
    return Topology(stack.env["AMQP_PREFIX"])


def _publish(channel, stack, body: bytes) -> None:
    topology = _topology(stack)
    channel.basic_publish(topology.exchange, RENDER, body,
                          pika.BasicProperties(delivery_mode=2, correlation_id="test"), mandatory=True)


def _dead_letters(channel, stack, timeout: float = 20.0, expect: int = 1) -> list[bytes]:
    """Take what arrives in the render dead-letter queue within ``timeout``."""
    queue = _topology(stack).dead_letter_queue(RENDER)
    found, deadline = [], time.monotonic() + timeout
    while len(found) < expect and time.monotonic() < deadline:
        method, _props, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            time.sleep(0.2)
            continue
        found.append(body)
    return found


def test_poison_messages_are_dead_lettered_and_the_worker_goes_on(stack, channel, client, example_bytes):
    _dead_letters(channel, stack, timeout=0.5, expect=100)  # start from an empty dead-letter queue
    poison = [b"this is not json", json.dumps({"version": 99, "job_id": "x"}).encode(), b"[1, 2]"]
    for body in poison:
        _publish(channel, stack, body)
    assert sorted(_dead_letters(channel, stack, expect=len(poison))) == sorted(poison)

    job = client.wait(client.upload(example_bytes, formats="pdf").json()["job_id"])
    assert job["status"] == "done", "the worker must keep consuming after poison"


def test_job_whose_input_vanished_fails_with_a_reason(stack, channel, client):
    """A queued job whose uploaded JSON is gone from storage cannot succeed."""
    jobs = JobStore(Database(stack.env["DATABASE_URL"]))
    with jobs.db.transaction() as cur:
        cur.execute("SELECT id FROM users WHERE email = %s", (client.email,))
        owner_id = str(cur.fetchone()["id"])
    job_id = str(uuid.uuid4())
    jobs.create(job_id=job_id, owner_id=owner_id, owner_email=client.email, formats=["pdf"],
                input_fid=f"vanished-{job_id}", invoice_number="X-1",
                totals={"currency": "EUR", "net": "0.00", "tax": "0.00", "gross": "0.00"})
    _publish(channel, stack, json.dumps({"version": 1, "job_id": job_id, "owner_id": owner_id,
                                         "input_fid": f"vanished-{job_id}", "formats": ["pdf"]}).encode())
    job = client.wait(job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "input_missing"
    assert job["error"]["message"]
    assert job["files"] == []
    dead = _dead_letters(channel, stack)
    assert [json.loads(body)["job_id"] for body in dead] == [job_id]
