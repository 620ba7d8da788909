"""The render jobs' outcome as domain events (``job.done``, ``job.failed``),
written to the outbox in the transaction that makes a job final, for the
organisation its owner belongs to (issue 20)."""

from __future__ import annotations

import uuid

import pytest

from invoicer.common.db import Database
from invoicer.common.jobs import JobStore


@pytest.fixture
def db(webhook_database):
    database = Database(webhook_database)
    yield database
    database.close()


def _job(jobs: JobStore, owner_id: str) -> str:
    job_id = str(uuid.uuid4())
    jobs.create(
        job_id=job_id,
        owner_id=owner_id,
        owner_email="owner@example.com",
        formats=["pdf"],
        input_fid=str(uuid.uuid4()),
        invoice_number="INV-2026-0042",
        totals={"currency": "EUR", "net": "10.00", "tax": "1.90", "gross": "11.90"},
    )
    return job_id


def _events(db: Database, job_id: str) -> list[dict]:
    with db.transaction() as cur:
        cur.execute("SELECT type, organisation_id, payload FROM outbox WHERE aggregate_id = %s ORDER BY seq", (job_id,))
        return cur.fetchall()


def test_a_final_job_of_a_member_is_an_event_of_the_organisation_once(db):
    jobs = JobStore(db)
    owner = str(uuid.uuid4())
    with db.transaction() as cur:
        cur.execute("INSERT INTO organisations (name) VALUES ('Northwind') RETURNING id")
        organisation_id = cur.fetchone()["id"]
        cur.execute(
            "INSERT INTO memberships (organisation_id, user_id, email, role) VALUES (%s, %s, %s, 'owner')",
            (organisation_id, owner, f"{owner}@example.com"),
        )
    done, failed = _job(jobs, owner), _job(jobs, owner)
    files = [{"format": "pdf", "fid": "f1", "size": 1234, "filename": "INV-2026-0042.pdf"}]
    assert jobs.finish(done, files=files, totals={"gross": "11.90"}, invoice_number="INV-2026-0042")
    assert not jobs.finish(done, files=files, totals={"gross": "11.90"}, invoice_number="INV-2026-0042")
    assert jobs.fail(failed, code="invalid_invoice", message="line 1 has no price")
    assert not jobs.fail(failed, code="invalid_invoice", message="again")

    (event,) = _events(db, done)
    assert event["type"] == "job.done" and event["organisation_id"] == organisation_id
    assert event["payload"] == {
        "job_id": done,
        "status": "done",
        "invoice_number": "INV-2026-0042",
        "totals": {"gross": "11.90"},
        "error": None,
        "files": [{"format": "pdf", "size": 1234, "filename": "INV-2026-0042.pdf"}],
    }
    (event,) = _events(db, failed)
    assert event["type"] == "job.failed" and event["organisation_id"] == organisation_id
    assert event["payload"]["error"] == {"code": "invalid_invoice", "message": "line 1 has no price"}


def test_a_job_of_a_user_of_no_organisation_makes_no_event(db):
    jobs = JobStore(db)
    job_id = _job(jobs, str(uuid.uuid4()))
    assert jobs.fail(job_id, code="input_missing", message="gone")
    assert _events(db, job_id) == []
