"""Messages that can never succeed are dead-lettered, the job is marked
failed with a reason, and the worker keeps consuming. Over the real broker."""

from __future__ import annotations

import json
import time
import uuid

import pika
import pytest

from invoicer.common.amqp import RENDER, RETRY_HEADER, Topology
from invoicer.common.config import Settings
from invoicer.common.db import Database
from invoicer.common.jobs import JobStore
from invoicer.common.messages import RenderRequest
from invoicer.worker.handler import RenderHandler


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
    channel.basic_publish(
        topology.exchange, RENDER, body, pika.BasicProperties(delivery_mode=2, correlation_id="test"), mandatory=True
    )


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


def _new_job(stack, client, input_fid: str) -> tuple[JobStore, str, str]:
    """A queued job of ``client``'s, made directly in the database (nothing
    published): the store, the job id and the owner's id."""
    jobs = JobStore(Database(stack.env["DATABASE_URL"]))
    with jobs.db.transaction() as cur:
        cur.execute("SELECT id FROM users WHERE email = %s", (client.email,))
        owner_id = str(cur.fetchone()["id"])
    job_id = str(uuid.uuid4())
    jobs.create(
        job_id=job_id,
        owner_id=owner_id,
        owner_email=client.email,
        formats=["pdf"],
        input_fid=input_fid.format(job_id=job_id),
        invoice_number="X-1",
        totals={"currency": "EUR", "net": "0.00", "tax": "0.00", "gross": "0.00"},
    )
    return jobs, job_id, owner_id


def test_job_whose_input_vanished_fails_with_a_reason(stack, channel, client):
    """A queued job whose uploaded JSON is gone from storage cannot succeed."""
    _jobs, job_id, owner_id = _new_job(stack, client, "vanished-{job_id}")
    _publish(
        channel,
        stack,
        json.dumps(
            {
                "version": 1,
                "job_id": job_id,
                "owner_id": owner_id,
                "input_fid": f"vanished-{job_id}",
                "formats": ["pdf"],
            }
        ).encode(),
    )
    job = client.wait(job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "input_missing"
    assert job["error"]["message"]
    assert job["files"] == []
    dead = _dead_letters(channel, stack)
    assert [json.loads(body)["job_id"] for body in dead] == [job_id]


class BrokenStorage:
    """A blob store with a bug: every read raises an error nobody expected."""

    def __init__(self):
        self.reads = 0

    def get(self, fid, owner=None):
        self.reads += 1
        raise KeyError(f"bug #{self.reads}")


def test_an_unexpected_error_every_time_is_dead_lettered_after_the_queues_limit(
    stack, channel, client, own_topology, consume
):
    """The render queue's limit (JOB_MAX_RETRIES) applies to errors no
    handler classified: retried with backoff exactly that many times, then
    dead-lettered, and the job failed with the reason."""
    topology = own_topology(job_max_retries=3, retry_base_delay_ms=50)
    topology.declare(channel)
    jobs, job_id, owner_id = _new_job(stack, client, "in-{job_id}")
    storage = BrokenStorage()
    handler = RenderHandler(jobs=jobs, blobs=storage, settings=Settings.from_env(stack.env))
    consume(topology, RENDER, handler)
    request = RenderRequest(job_id=job_id, owner_id=owner_id, input_fid=f"in-{job_id}", formats=("pdf",))
    channel.basic_publish(
        topology.exchange,
        RENDER,
        request.to_bytes(),
        pika.BasicProperties(delivery_mode=2, correlation_id=job_id),
        mandatory=True,
    )

    dead, deadline = None, time.monotonic() + 30
    while dead is None and time.monotonic() < deadline:
        method, props, body = channel.basic_get(topology.dead_letter_queue(RENDER), auto_ack=True)
        if method is None:
            time.sleep(0.1)
        else:
            dead = (props, body)
    assert dead is not None, f"not dead-lettered; handler ran {storage.reads} times"
    props, body = dead
    assert RenderRequest.from_bytes(body) == request
    assert props.headers[RETRY_HEADER] == 3
    assert storage.reads == 4, "first delivery and exactly JOB_MAX_RETRIES retries"

    job = client.get(f"/jobs/{job_id}").json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "retries_exhausted"
    assert "gave up after 3 retries" in job["error"]["message"]
    assert "KeyError" in job["error"]["message"] and "bug #4" in job["error"]["message"]
    time.sleep(0.5)
    assert storage.reads == 4, "nothing comes back once dead-lettered"
    assert channel.queue_declare(topology.queue(RENDER), passive=True).method.message_count == 0
