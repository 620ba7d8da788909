"""SIGKILL a consumer in the middle of a batch, start it again: nothing is
lost and nothing is done twice."""

from __future__ import annotations

import time

BATCH = 40
# Mails go out faster than jobs render: a bigger batch keeps the kill inside it.
MAIL_BATCH = 120


def _upload_batch(client, example_bytes, formats: str, size: int = BATCH) -> list[str]:
    ids = []
    for _ in range(size):
        reply = client.upload(example_bytes, formats=formats)
        assert reply.status_code == 202, reply.text
        ids.append(reply.json()["job_id"])
    return ids


def _done_count(client, ids) -> int:
    page = client.get("/jobs", params={"per_page": 100}).json()["items"]
    return sum(1 for job in page if job["job_id"] in ids and job["status"] == "done")


def test_worker_killed_mid_batch_every_job_done_once(stack, client, example_bytes, faults):
    # Queue the whole batch first, so the kill lands in the middle of it.
    stack.stack.stop("worker")
    ids = _upload_batch(client, example_bytes, "pdf,xlsx")
    faults.restart(stack, "worker")
    deadline = time.monotonic() + 60
    while _done_count(client, ids) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    done_before = _done_count(client, ids)
    assert done_before < BATCH, "the batch finished before the kill; make it bigger"
    faults.kill_hard(stack, "worker")
    faults.restart(stack, "worker")

    jobs = faults.wait_all(client, ids, timeout=180)
    assert [job["status"] for job in jobs.values()] == ["done"] * BATCH
    for job_id, job in jobs.items():
        assert sorted(item["format"] for item in job["files"]) == ["pdf", "xlsx"]
        stored = faults.stored_files(stack, job_id)
        kinds = sorted(doc["metadata"]["kind"] for doc in stored if doc["metadata"]["kind"] != "input")
        assert kinds == ["pdf", "xlsx"], f"job {job_id} has {kinds}"
        assert job["totals"]["gross"] == "330.86"


def test_notification_killed_mid_batch_every_mail_sent_once(stack, client, example_bytes, faults):
    stack.stack.stop("notification")
    ids = _upload_batch(client, example_bytes, "pdf", MAIL_BATCH)
    faults.wait_all(client, ids, timeout=180)  # every "invoice ready" event is queued now
    mails_before = faults.mail_count(stack)
    faults.restart(stack, "notification")
    try:
        deadline = time.monotonic() + 60
        while faults.mail_count(stack) - mails_before < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        faults.kill_hard(stack, "notification")
        sent_before = sum(faults.mails_by_job(stack).get(i, 0) for i in ids)
        assert sent_before < MAIL_BATCH, "every mail went out before the kill; make the batch bigger"
    finally:
        # Whatever happened above, the rest of the session needs its notification service.
        if stack.stack.pid("notification") is None:
            faults.restart(stack, "notification")

    faults.wait_all(client, ids, timeout=180)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        counts = faults.mails_by_job(stack)
        if all(counts.get(i, 0) >= 1 for i in ids):
            break
        time.sleep(0.3)
    time.sleep(2)  # let any duplicate that is on its way arrive
    counts = faults.mails_by_job(stack)
    missing = [i for i in ids if counts.get(i, 0) == 0]
    doubled = {i: counts[i] for i in ids if counts.get(i, 0) > 1}
    assert not missing, f"{len(missing)} notification(s) lost"
    assert not doubled, f"duplicate mails: {doubled}"
