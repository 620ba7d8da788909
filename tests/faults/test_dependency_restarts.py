"""Restart RabbitMQ, PostgreSQL and the MongoDB wire server under the
running stack. PostgreSQL or MongoDB down: 503 with Retry-After (never a
500, never a job accepted and lost), and recovery on its own. RabbitMQ down:
uploads are still accepted (202), because the job and its render request
commit together in PostgreSQL (the transactional outbox), and every one of
them is rendered once, and mailed once, after the broker is back.

PostgreSQL and RabbitMQ are shared by every test run on the machine, so the
tests that restart them do it to servers of their own (``private_stack``, on
``private_postgresql`` and ``private_rabbitmq``: tests/faults/conftest.py),
never to the shared ones. The MongoDB wire server is the session stack's own."""

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


def test_broker_restart(private_stack, private_rabbitmq, client_at, example_bytes, faults):
    """A deliberate change (issue 17): the gateway no longer publishes, so a
    broker outage delays rendering instead of refusing uploads."""
    stack, client = private_stack, client_at(private_stack.base_url)
    before = [client.upload(example_bytes, formats="pdf").json()["job_id"] for _ in range(5)]
    private_rabbitmq.ctl("stop_app")
    try:
        during = []
        for _ in range(3):
            reply = client.upload(example_bytes, formats="pdf")
            assert reply.status_code == 202, reply.text
            during.append(reply.json()["job_id"])
        # The gateway does not need the broker to take uploads, so it stays ready.
        assert client.get("/readyz").status_code == 200
        # Accepted and kept, not rendered: nothing reaches a worker yet.
        assert {client.get(f"/jobs/{job_id}").json()["status"] for job_id in during} == {"queued"}
        listed = {job["job_id"] for job in client.get("/jobs", params={"per_page": 100}).json()["items"]}
        assert listed >= {*before, *during}
    finally:
        private_rabbitmq.ctl("start_app")
    jobs = faults.wait_all(client, [*before, *during], timeout=120)
    assert all(job["status"] == "done" for job in jobs.values())
    # Nothing doubled: one PDF per job, and one "ready" mail per job once the mails are in.
    for job_id in during:
        stored = faults.stored_files(stack, job_id)
        assert sorted(doc["metadata"]["kind"] for doc in stored if doc["metadata"]["kind"] != "input") == ["pdf"]
    deadline = time.monotonic() + 60
    while not all(faults.mails_by_job(stack).get(job_id, 0) >= 1 for job_id in during):
        assert time.monotonic() < deadline, "a job's mail never came"
        time.sleep(0.3)
    time.sleep(2)  # let any duplicate that is on its way arrive
    counts = faults.mails_by_job(stack)
    assert {job_id: counts[job_id] for job_id in during} == dict.fromkeys(during, 1)
    # The gateway never held a broker connection to lose.
    assert [client.get("/readyz").status_code for _ in range(20)] == [200] * 20


def test_postgresql_restart(private_stack, private_postgresql, client_at, example_bytes, faults):
    client = client_at(private_stack.base_url)
    done = client.wait(client.upload(example_bytes, formats="pdf").json()["job_id"])
    private_postgresql.stop("fast")
    try:
        _assert_unavailable(client.upload(example_bytes, formats="pdf"))
        _assert_unavailable(client.post("/login", auth=(client.email, client.password)))
        _assert_unavailable(client.get(f"/jobs/{done['job_id']}"))
    finally:
        private_postgresql.start()
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
