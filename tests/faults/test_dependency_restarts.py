"""Restart RabbitMQ, PostgreSQL and the MongoDB wire server under the
running stack: 503 with Retry-After while one is down (never a 500, never a
job accepted and lost), and recovery on its own."""

from __future__ import annotations

import time


def _upload_until_accepted(client, example_bytes, within: float) -> tuple[str, float]:
    start = time.monotonic()
    while True:
        reply = client.upload(example_bytes, formats="pdf")
        if reply.status_code == 202:
            return reply.json()["job_id"], time.monotonic() - start
        assert reply.status_code == 503, reply.text
        assert time.monotonic() - start < within, f"no recovery within {within}s: {reply.text}"
        time.sleep(0.5)


def _assert_unavailable(reply):
    assert reply.status_code == 503, reply.text
    assert int(reply.headers["Retry-After"]) > 0
    assert reply.json()["error"]["code"] == "unavailable"


def test_broker_restart(stack, client, example_bytes, faults):
    before = [client.upload(example_bytes, formats="pdf").json()["job_id"] for _ in range(5)]
    faults.rabbitmqctl("stop_app")
    try:
        _assert_unavailable(client.upload(example_bytes, formats="pdf"))
        assert client.get("/readyz").status_code == 503
        # Nothing half-accepted: the refused uploads left no job behind.
        listed = {job["job_id"] for job in client.get("/jobs", params={"per_page": 100}).json()["items"]}
        assert listed == set(before)
    finally:
        faults.rabbitmqctl("start_app")
    job_id, _took = _upload_until_accepted(client, example_bytes, within=60)
    jobs = faults.wait_all(client, [*before, job_id], timeout=60)
    assert all(job["status"] == "done" for job in jobs.values())
    # Every gateway thread finds its connection broken and reopens it itself:
    # none reports the broker down once it is back.
    assert [client.get("/readyz").status_code for _ in range(20)] == [200] * 20


def test_postgresql_restart(stack, client, example_bytes, faults):
    done = client.wait(client.upload(example_bytes, formats="pdf").json()["job_id"])
    faults.pg_ctl("stop")
    try:
        _assert_unavailable(client.upload(example_bytes, formats="pdf"))
        _assert_unavailable(client.post("/login", auth=(client.email, client.password)))
        _assert_unavailable(client.get(f"/jobs/{done['job_id']}"))
    finally:
        faults.pg_ctl("start")
    job_id, _took = _upload_until_accepted(client, example_bytes, within=30)
    assert client.wait(job_id)["status"] == "done"
    # Nothing lost: the earlier job and its file are still there.
    assert client.get(f"/jobs/{done['job_id']}").json()["status"] == "done"
    assert client.get(done["files"][0]["download_url"]).status_code == 200


def test_mongodb_restart(stack, client, example_bytes, faults):
    done = client.wait(client.upload(example_bytes, formats="pdf").json()["job_id"])
    stack.stack.stop("mongodb")
    try:
        _assert_unavailable(client.upload(example_bytes, formats="pdf"))
        _assert_unavailable(client.get(done["files"][0]["download_url"]))
    finally:
        faults.restart(stack, "mongodb")
    job_id, _took = _upload_until_accepted(client, example_bytes, within=30)
    assert client.wait(job_id)["status"] == "done"
    reply = client.get(done["files"][0]["download_url"])
    assert reply.status_code == 200 and reply.content.startswith(b"%PDF")
