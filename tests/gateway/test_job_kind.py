"""``GET /jobs`` tells uploads from the render jobs of issued invoices
(issue 22): each job has a ``kind``, ``?kind=`` keeps one, and migration
0011 gave existing jobs theirs."""

from __future__ import annotations

import json
import secrets
import uuid
from importlib import resources

import requests
from devstack import create_database, drop_database

from invoicer.common.db import Database, migrate
from invoicer.invoices.identity import Actor, resolve_membership


def test_uploads_and_invoice_documents_are_listed_apart(client, example_bytes):
    upload = client.upload(example_bytes, formats="pdf").json()["job_id"]
    document = json.loads(example_bytes)
    seller = {**document["seller"], "currency": "EUR"}
    assert requests.patch(f"{client.base_url}/organisation", json=seller, headers=client.headers, timeout=30).ok
    buyer = client.post("/clients", json=document["buyer"]).json()
    draft = client.post("/invoices", json={"client_id": buyer["id"], "lines": document["lines"]}).json()
    issued = client.post(f"/invoices/{draft['id']}/issue", json={})
    assert issued.status_code == 200, issued.text
    number = issued.json()["number"]

    everything = client.get("/jobs").json()["items"]
    assert sorted((job["kind"], job["invoice_number"]) for job in everything) == [
        ("record", number),
        ("upload", document["invoice_number"]),
    ]
    uploads = client.get("/jobs", params={"kind": "upload"}).json()
    assert [job["job_id"] for job in uploads["items"]] == [upload] and uploads["total"] == 1
    records = client.get("/jobs", params={"kind": "record", "status": "failed"}).json()
    assert records["items"] == [] and records["total"] == 0
    records = client.get("/jobs", params={"kind": "record"}).json()
    assert [(job["kind"], job["invoice_number"]) for job in records["items"]] == [("record", number)]
    assert client.get(f"/jobs/{upload}").json()["kind"] == "upload"

    bad = client.get("/jobs", params={"kind": "uploads"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_parameter"
    assert [detail["parameter"] for detail in bad.json()["error"]["details"]] == ["kind"]


def test_the_migration_marks_the_jobs_invoices_point_to_as_records(postgres_server):
    url = f"{postgres_server}/invoicer_kind_{secrets.token_hex(4)}"
    create_database(url)
    db = Database(url, max_connections=2)
    try:
        migrate(db, "invoicer.common.migrations")
        with db.transaction() as cur:  # the gateway's migrations up to 0010: jobs without a kind
            for entry in sorted(resources.files("invoicer.migrations").iterdir(), key=lambda e: e.name):
                if entry.name.endswith(".sql") and entry.name < "0011":
                    cur.execute(entry.read_text(encoding="utf-8"))
                    cur.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (entry.name,))
        migrate(db, "invoicer.invoices.migrations")
        upload, record = uuid.uuid4(), uuid.uuid4()
        with db.transaction() as cur:
            member = resolve_membership(cur, Actor(uuid.uuid4(), "kind@example.com"))
            for job in (upload, record):
                cur.execute(
                    "INSERT INTO jobs (id, owner_id, owner_email, formats, input_fid) VALUES (%s, %s, %s, %s, %s)",
                    (job, member.actor.user_id, member.actor.email, ["pdf"], str(job)),
                )
            cur.execute(
                "INSERT INTO invoices (organisation_id, currency, totals, render_job_id) VALUES (%s, 'EUR', %s, %s)",
                (member.organisation_id, json.dumps({"net": "0.00", "tax": "0.00", "gross": "0.00"}), record),
            )
        assert migrate(db) == ["0011_job_kind.sql"]
        with db.transaction() as cur:
            cur.execute("SELECT id, kind FROM jobs")
            assert {row["id"]: row["kind"] for row in cur.fetchall()} == {upload: "upload", record: "record"}
    finally:
        db.close()
        drop_database(url)
