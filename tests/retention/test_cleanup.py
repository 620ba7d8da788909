"""Retention (``invoicer cleanup``) on real PostgreSQL and the stack's MongoDB
wire server, each test with a database of its own on both: old uploads,
rendered files, job rows and delivery logs go; recent ones, and the
documents of issued invoices, stay; a dry run deletes nothing; a second run
finds nothing more."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from devstack import create_database, drop_database

from invoicer.common.components import migration_packages
from invoicer.common.config import Settings
from invoicer.common.db import Database, migrate
from invoicer.common.jobs import JobStore, output_fid
from invoicer.common.storage import BlobStore, NewBlob
from invoicer.common.tokens import issue_token
from invoicer.retention.rules import run

INVOICER = str(Path(sys.executable).parent / "invoicer")
SECRET = "retention-test-secret-" + "x" * 32
SELLER = {"name": "Northwind Traders Ltd", "address": "12 Harbour Road\nBristol", "currency": "EUR"}
BUYER = {"name": "Maria Anders", "address": "Obere Str. 57\nBerlin"}
LINES = [{"description": "Chai tea", "quantity": "12", "unit_price": "18.00", "tax_rate": "19"}]


@dataclass
class World:
    settings: Settings
    db: Database
    blobs: BlobStore
    jobs: JobStore

    def sql(self, query: str, *params) -> list[dict]:
        with self.db.transaction() as cur:
            cur.execute(query, params)
            return list(cur.fetchall()) if cur.description else []

    def job_ids(self) -> set[str]:
        return {str(row["id"]) for row in self.sql("SELECT id FROM jobs")}

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.settings.database_url,
            "MONGODB_URI": self.settings.mongodb_uri,
            "LOG_LEVEL": "INFO",
        }


@pytest.fixture
def world(postgres_server, stack):
    tag = secrets.token_hex(4)
    url = f"{postgres_server}/invoicer_retention_{tag}"
    create_database(url)
    db = Database(url)
    for package in migration_packages():
        migrate(db, package)
    mongo = urlunsplit(urlsplit(stack.env["MONGODB_URI"])._replace(path=f"/retention_{tag}"))
    settings = replace(Settings(), jwt_secret=SECRET, database_url=url, mongodb_uri=mongo)
    blobs = BlobStore(mongo, settings.mongodb_database)
    try:
        yield World(settings, db, blobs, JobStore(db))
    finally:
        blobs._client.drop_database(settings.mongodb_database)
        blobs.close()
        db.close()
        drop_database(url)


def rendered_job(world: World, *, days_old: int, notified: bool = True) -> dict[str, str]:
    """An upload as the gateway and the worker leave it: the input, a PDF and
    an XLSX in GridFS, the job row done, the "ready" mail recorded; then
    made ``days_old`` days old. Returns the ids."""
    job_id, owner, input_fid = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    meta = {"owner": owner, "job_id": job_id}
    world.blobs.put(input_fid, b'{"invoice": 1}', filename=f"{job_id}.json", metadata={**meta, "kind": "input"})
    world.jobs.create(
        job_id=job_id, owner_id=owner, owner_email="a@example.com", formats=["pdf", "xlsx"],
        input_fid=input_fid, invoice_number="INV-1", totals={},
    )  # fmt: skip
    files = render(world, job_id, owner)
    if notified:
        world.jobs.mark_notified(job_id, "a@example.com")
    age(world, job_id, days_old)
    return {"job": job_id, "input": input_fid, **files}


def render(world: World, job_id: str, owner: str) -> dict[str, str]:
    """What the worker stores and records for ``job_id``."""
    stored = world.blobs.put_many(
        [
            NewBlob(
                output_fid(job_id, fmt),
                f"{fmt} of {job_id}".encode(),
                f"INV-1.{fmt}",
                {"owner": owner, "job_id": job_id},
            )
            for fmt in ("pdf", "xlsx")
        ]
    )
    world.jobs.finish(
        job_id,
        files=[
            {"format": fmt, "fid": blob.fid, "size": blob.length, "filename": blob.filename}
            for fmt, blob in zip(("pdf", "xlsx"), stored, strict=True)
        ],
        totals={},
        invoice_number="INV-1",
    )
    return {"pdf": stored[0].fid, "xlsx": stored[1].fid}


def age(world: World, job_id: str, days: int) -> None:
    world.sql("UPDATE jobs SET created_at = now() - %s * interval '1 day' WHERE id = %s", days, job_id)
    world.sql("UPDATE notifications SET sent_at = now() - %s * interval '1 day' WHERE job_id = %s", days, job_id)


def issued_invoice(world: World) -> dict[str, str]:
    """An invoice issued through the invoices service (in this process, on
    the test's databases), its documents rendered as the worker would, and
    its render job made 400 days old."""
    from invoicer.invoices.app import create_app

    owner = str(uuid.uuid4())
    token = issue_token(
        secret=SECRET, issuer=world.settings.jwt_issuer, audience=world.settings.jwt_audience, ttl_seconds=300,
        sub=owner, email="owner@example.com", roles=["user"],
    )  # fmt: skip
    http = create_app(world.settings).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert http.patch("/organisation", json=SELLER, headers=headers).status_code == 200
    client = http.post("/clients", json=BUYER, headers=headers).get_json()
    draft = http.post("/invoices", json={"client_id": client["id"], "lines": LINES}, headers=headers).get_json()
    reply = http.post(f"/invoices/{draft['id']}/issue", headers=headers)
    assert reply.status_code == 200, reply.get_json()
    (row,) = world.sql("SELECT render_job_id::text AS job FROM invoices WHERE id = %s", draft["id"])
    (job,) = world.sql("SELECT input_fid, owner_id::text AS owner FROM jobs WHERE id = %s", row["job"])
    files = render(world, row["job"], job["owner"])
    age(world, row["job"], 400)
    return {
        "invoice": draft["id"],
        "job": row["job"],
        "input": job["input_fid"],
        **files,
        "http": http,
        "headers": headers,
    }


def orphan_upload(world: World, *, days_old: int) -> str:
    """An upload whose job row was never committed (the gateway stopped
    between storing it and inserting the row), uploaded ``days_old`` days
    ago: written as GridFS documents with that upload date."""
    fid = str(uuid.uuid4())
    world.blobs._db["fs.chunks"].insert_one({"files_id": fid, "n": 0, "data": b"{}"})
    world.blobs._db["fs.files"].insert_one(
        {
            "_id": fid, "length": 2, "chunkSize": 261120, "filename": "lost.json",
            "uploadDate": datetime.now(UTC) - timedelta(days=days_old),
            "metadata": {"owner": str(uuid.uuid4()), "job_id": str(uuid.uuid4()), "kind": "input"},
        }
    )  # fmt: skip
    return fid


def invoice_mail(world: World, *, days_old: int) -> str:
    command = str(uuid.uuid4())
    world.sql(
        "INSERT INTO invoice_mails (command_id, invoice_id, recipient, sent_at)"
        " VALUES (%s, %s, 'b@example.com', now() - %s * interval '1 day')",
        command, str(uuid.uuid4()), days_old,
    )  # fmt: skip
    return command


def cleanup(world: World, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [INVOICER, "cleanup", *args], env=world.env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done


def counts(output: str) -> dict[str, int]:
    """``kind: count`` lines of the command's output."""
    return {
        kind.strip(): int(count)
        for line in output.splitlines()[1:]
        for kind, _, count in [line.rpartition(":")]
        if line.startswith("  ")
    }


def test_old_records_go_recent_ones_and_issued_documents_stay_and_a_dry_run_deletes_nothing(world):
    old, recent = rendered_job(world, days_old=120), rendered_job(world, days_old=10)
    invoice = issued_invoice(world)
    lost_old, lost_recent = orphan_upload(world, days_old=120), orphan_upload(world, days_old=1)
    mail_old, mail_recent = invoice_mail(world, days_old=200), invoice_mail(world, days_old=3)
    expected = {
        "uploads": 1, "rendered files": 2, "notifications": 1, "jobs": 1,
        "invoice_mails": 1, "files without a job": 1, "expense documents": 0, "expenses": 0,
    }  # fmt: skip

    dry = cleanup(world, "--dry-run")
    assert "would remove 7" in dry.stdout.splitlines()[0]
    assert counts(dry.stdout) == expected
    # Nothing went.
    assert {old["job"], recent["job"], invoice["job"]} <= world.job_ids()
    for fid in (old["input"], old["pdf"], old["xlsx"], lost_old):
        assert world.blobs.get(fid) is not None
    assert len(world.sql("SELECT 1 FROM invoice_mails")) == 2

    done = cleanup(world)
    assert counts(done.stdout) == expected
    assert '"retention removed"' in done.stderr and '"kind": "jobs"' in done.stderr  # the JSON log lines
    assert world.job_ids() == {recent["job"], invoice["job"]}
    for fid in (old["input"], old["pdf"], old["xlsx"], lost_old):
        assert world.blobs.get(fid) is None
    assert world.sql("SELECT job_id::text AS job FROM notifications") == [{"job": recent["job"]}]
    assert [row["id"] for row in world.sql("SELECT command_id::text AS id FROM invoice_mails")] == [mail_recent]
    assert mail_old not in str(world.sql("SELECT command_id FROM invoice_mails"))
    # What stays reads back byte for byte.
    for kept in (recent, invoice):
        job_id = kept["job"]
        assert world.blobs.get(kept["pdf"]).data == f"pdf of {job_id}".encode()
        assert world.blobs.get(kept["xlsx"]).data == f"xlsx of {job_id}".encode()
        assert world.blobs.get(kept["input"]) is not None
    assert world.blobs.get(lost_recent) is not None
    document = invoice["http"].get(f"/invoices/{invoice['invoice']}/pdf", headers=invoice["headers"])
    assert document.status_code == 200 and document.data == f"pdf of {invoice['job']}".encode()

    again = cleanup(world)
    assert "removed 0" in again.stdout.splitlines()[0]
    assert world.job_ids() == {recent["job"], invoice["job"]}


def test_issued_documents_go_only_after_the_legal_period_and_the_invoice_stays(world):
    invoice = issued_invoice(world)
    nine_years = datetime.now(UTC) + timedelta(days=9 * 365)
    removed = run(world.db, world.blobs, retention_days=90, legal_years=10, now=nine_years)
    assert invoice["job"] in world.job_ids() and removed.counts.get("jobs", 0) == 0

    eleven_years = datetime.now(UTC) + timedelta(days=11 * 365)
    removed = run(world.db, world.blobs, retention_days=90, legal_years=10, now=eleven_years, dry_run=True)
    assert removed.counts["jobs"] == 1 and invoice["job"] in world.job_ids()
    removed = run(world.db, world.blobs, retention_days=90, legal_years=10, now=eleven_years)
    assert removed.counts["jobs"] == 1 and removed.counts["rendered files"] == 2 and removed.counts["uploads"] == 1
    assert invoice["job"] not in world.job_ids()
    assert world.sql("SELECT status FROM invoices WHERE id = %s", invoice["invoice"]) == [{"status": "issued"}]
    reply = invoice["http"].get(f"/invoices/{invoice['invoice']}/pdf", headers=invoice["headers"])
    assert reply.status_code == 404 and reply.get_json()["error"]["code"] == "document_removed"


def test_a_retention_setting_below_one_stops_the_command(world):
    done = subprocess.run(
        [INVOICER, "cleanup"],
        env={**world.env(), "RETENTION_DAYS": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and "RETENTION_DAYS must be at least 1" in done.stderr
    assert done.stdout == ""


def expense(world: World, organisation: str, status: str, *, days_old: int, decided_years_ago: int = 0) -> dict:
    """An expense with a stored document, in ``status``, last changed ``days_old`` days ago."""
    fid = f"expense-{uuid.uuid4().hex}"
    world.blobs.put(fid, b"%PDF-1.4 receipt", filename="r.pdf", metadata={"kind": "expense"})
    (row,) = world.sql(
        "INSERT INTO expenses (organisation_id, status, created_by, created_by_email, document_fid, updated_at,"
        " decided_at) VALUES (%s, %s, %s, 'a@example.com', %s, now() - %s * interval '1 day',"
        " now() - %s * interval '1 year') RETURNING id::text AS id",
        organisation, status, str(uuid.uuid4()), fid, days_old, decided_years_ago,
    )  # fmt: skip
    return {"id": row["id"], "fid": fid}


def test_expenses_rejected_ones_go_approved_ones_keep_their_documents_for_the_legal_period(world):
    (org,) = world.sql("INSERT INTO organisations DEFAULT VALUES RETURNING id::text AS id")
    organisation = org["id"]
    rejected_old = expense(world, organisation, "rejected", days_old=120)
    failed_recent = expense(world, organisation, "failed", days_old=10)
    waiting_old = expense(world, organisation, "needs_review", days_old=400)
    approved = expense(world, organisation, "approved", days_old=400, decided_years_ago=3)
    paid_ancient = expense(world, organisation, "paid", days_old=5000, decided_years_ago=11)

    dry = counts(cleanup(world, "--dry-run").stdout)
    assert (dry["expenses"], dry["expense documents"]) == (1, 2)
    assert len(world.sql("SELECT id FROM expenses")) == 5

    done = counts(cleanup(world).stdout)
    assert (done["expenses"], done["expense documents"]) == (1, 2)
    left = {row["id"]: row["fid"] for row in world.sql("SELECT id::text AS id, document_fid AS fid FROM expenses")}
    assert rejected_old["id"] not in left and world.blobs.get(rejected_old["fid"]) is None
    for kept in (failed_recent, waiting_old, approved):
        assert left[kept["id"]] == kept["fid"] and world.blobs.get(kept["fid"]) is not None
    assert left[paid_ancient["id"]] is None and world.blobs.get(paid_ancient["fid"]) is None  # the record stays
    again = counts(cleanup(world).stdout)
    assert again.get("expenses", 0) == 0 and again.get("expense documents", 0) == 0
