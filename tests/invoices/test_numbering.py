"""Gapless numbering under concurrency, its own series for credit notes, a
new series each year; and the migrations' separate histories."""

from __future__ import annotations

import threading
from datetime import date

from invoicer.common.db import migrate
from invoicer.invoices import credit_notes, invoices

from .conftest import LINES


class Rollback(Exception):
    pass


def test_concurrent_issues_with_rollbacks_leave_no_gap_and_no_duplicate(db, owner, client):
    with db.transaction() as cur:
        drafts = [
            invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES[:1]})["id"] for _ in range(60)
        ]
    rolled_back: list = []
    errors: list = []
    barrier = threading.Barrier(8)

    def issuer(mine: list) -> None:
        barrier.wait()
        for index, invoice_id in enumerate(mine):
            try:
                with db.transaction() as cur:
                    invoices.issue(cur, owner, invoice_id, today=date(2026, 5, 1))
                    if index % 4 == 3:  # the request fails after the number was taken
                        raise Rollback
            except Rollback:
                rolled_back.append(invoice_id)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=issuer, args=(drafts[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert rolled_back  # some transactions did roll back
    with db.transaction() as cur:
        cur.execute("SELECT id, number, status FROM invoices WHERE id = ANY(%s)", (drafts,))
        rows = cur.fetchall()
    numbers = sorted(row["number"] for row in rows if row["number"] is not None)
    issued = len(drafts) - len(rolled_back)
    assert numbers == [f"INV-2026-{n:04d}" for n in range(1, issued + 1)]
    assert {row["id"] for row in rows if row["status"] == "draft"} == set(rolled_back)


def test_credit_notes_have_their_own_series_and_each_year_restarts(db, owner, client):
    with db.transaction() as cur:
        numbers = []
        for when in (date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 2)):
            draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES})
            numbers.append(invoices.issue(cur, owner, draft["id"], today=when)["number"])
        note = credit_notes.issue_credit_note(cur, owner, draft["id"], today=date(2027, 1, 3))["credit_note"]
    assert numbers == ["INV-2026-0001", "INV-2026-0002", "INV-2027-0001"]
    assert note["number"] == "CN-2027-0001"


def test_each_migration_package_keeps_its_own_history(db):
    assert migrate(db) == [] and migrate(db, "invoicer.invoices.migrations") == []
    with db.transaction() as cur:
        cur.execute("SELECT name FROM schema_migrations ORDER BY name")
        names = [row["name"] for row in cur.fetchall()]
    assert "0001_users.sql" in names
    assert "invoicer.invoices.migrations:0001_records.sql" in names
