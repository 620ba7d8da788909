"""An "invoice ready" event that cannot be mailed ends in the dead-letter
queue, and the job's owner sees that its notification failed and why
(``GET /jobs/{id}``). Over the real broker, database and notification service."""

from __future__ import annotations

import json
import time
import uuid

import pika
import pytest

from invoicer.common.amqp import READY, Topology
from invoicer.common.db import Database
from invoicer.common.jobs import JobStore


@pytest.fixture
def channel(stack):
    connection = pika.BlockingConnection(pika.URLParameters(stack.env["AMQP_URL"]))
    channel = connection.channel()
    channel.confirm_delivery()
    yield channel
    connection.close()


def _done_job(stack, client) -> str:
    """A done job of ``client``'s, made directly in the database (so nothing
    else announces it)."""
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
        input_fid=f"in-{job_id}",
        invoice_number="N-1",
        totals={"currency": "EUR", "net": "1.00", "tax": "0.19", "gross": "1.19"},
    )
    jobs.start(job_id)
    jobs.finish(
        job_id,
        files=[{"format": "pdf", "fid": "f1", "size": 1, "filename": "N-1.pdf"}],
        totals={"currency": "EUR", "net": "1.00", "tax": "0.19", "gross": "1.19"},
        invoice_number="N-1",
    )
    return job_id


def test_an_event_whose_file_lacks_its_format_is_dead_lettered_and_shown_failed(stack, channel, client):
    job_id = _done_job(stack, client)
    assert client.get(f"/jobs/{job_id}").json()["notification"] is None, "pending before the event"
    event = {
        "version": 1,
        "job_id": job_id,
        "recipient": client.email,
        "invoice_number": "N-1",
        "totals": None,
        "status_url": f"{stack.base_url}/jobs/{job_id}",
        "files": [{"fid": "f1", "download_url": f"{stack.base_url}/download?fid=f1"}],  # no "format"
    }
    body = json.dumps(event).encode()
    topology = Topology(stack.env["AMQP_PREFIX"])
    channel.basic_publish(
        topology.exchange, READY, body, pika.BasicProperties(delivery_mode=2, correlation_id=job_id), mandatory=True
    )

    dead, deadline = [], time.monotonic() + 20
    while not dead and time.monotonic() < deadline:
        method, _props, found = channel.basic_get(topology.dead_letter_queue(READY), auto_ack=True)
        if method is None:
            time.sleep(0.2)
        elif json.loads(found).get("job_id") == job_id:
            dead.append(found)
    assert dead == [body], "dead-lettered at once, not retried"

    job = client.get(f"/jobs/{job_id}").json()
    assert job["status"] == "done"
    assert job["notification"] == {
        "status": "failed",
        "error": {"code": "malformed_message", "message": "message field files/0/format is missing"},
    }
    listed = {item["job_id"]: item for item in client.get("/jobs").json()["items"]}
    assert listed[job_id]["notification"]["status"] == "failed"
