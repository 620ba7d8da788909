"""Drafts and issuing against a real PostgreSQL: what an accountant notices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg2
import pytest

from invoicer.invoices import invoices
from invoicer.invoices.errors import Conflict, PreconditionFailed, Unprocessable

from .conftest import LINES


def test_a_draft_has_totals_but_no_number(db, owner, client):
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES})
    assert draft["status"] == "draft" and draft["number"] is None
    assert draft["currency"] == "EUR"
    # EN 16931 totals of the shared example: 256.00 at 19 % + 24.50 at 7 %.
    assert draft["totals"]["gross"] == "330.86" and draft["gross"] == Decimal("330.86")
    assert draft["version"] == 1


def test_issue_numbers_copies_parties_and_sets_dates(db, owner, client):
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES})
        issued = invoices.issue(cur, owner, draft["id"], today=date(2026, 3, 10))
    assert issued["status"] == "issued"
    assert issued["number"] == "INV-2026-0001"
    assert issued["issue_date"] == date(2026, 3, 10)
    assert issued["due_date"] == date(2026, 3, 24)  # the client's 14 days
    assert issued["seller"]["name"] == "Northwind Traders Ltd"
    assert issued["buyer"] == {
        "name": "Maria Anders",
        "company": "Alfreds Futterkiste",
        "address": {"line1": "Obere Str. 57", "line2": "Berlin"},  # the client's, structured
        "vat_id": "DE987654328",
    }


def test_invalid_lines_are_unprocessable_with_pointers(db, owner, client):
    bad = [dict(LINES[0], quantity="-1"), dict(LINES[1], tax_rate="250")]
    with pytest.raises(Unprocessable) as caught, db.transaction() as cur:
        invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": bad})
    pointers = {detail["pointer"] for detail in caught.value.details}
    assert pointers == {"/lines/0/quantity", "/lines/1/tax_rate"}


def test_an_issued_invoice_cannot_be_edited_or_deleted(db, owner, client):
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES})
        issued = invoices.issue(cur, owner, draft["id"])
    with pytest.raises(Conflict) as edit, db.transaction() as cur:
        invoices.update_draft(cur, owner, issued["id"], {"notes": "changed"})
    assert edit.value.code == "invoice_frozen" and issued["number"] in edit.value.message
    with pytest.raises(Conflict), db.transaction() as cur:
        invoices.delete_draft(cur, owner, issued["id"])
    # The database refuses it too, whatever the application does.
    with pytest.raises(psycopg2.IntegrityError, match="cannot change"), db.transaction() as cur:
        cur.execute("UPDATE invoices SET lines = '[]'::jsonb WHERE id = %s", (issued["id"],))
    with pytest.raises(psycopg2.IntegrityError, match="cannot be deleted"), db.transaction() as cur:
        cur.execute("DELETE FROM invoices WHERE id = %s", (issued["id"],))
    with db.transaction() as cur:
        assert invoices.get_invoice(cur, owner, issued["id"])["lines"] == issued["lines"]


def test_a_stale_version_is_a_failed_precondition(db, owner, client):
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES[:1]})
        updated = invoices.update_draft(cur, owner, draft["id"], {"notes": "first"}, expected_version=1)
    assert updated["version"] == 2 and updated["notes"] == "first"
    with pytest.raises(PreconditionFailed), db.transaction() as cur:
        invoices.update_draft(cur, owner, draft["id"], {"notes": "second"}, expected_version=1)
    with db.transaction() as cur:
        assert invoices.get_invoice(cur, owner, draft["id"])["notes"] == "first"


def test_a_draft_can_be_deleted(db, owner, client):
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"]})
        invoices.delete_draft(cur, owner, draft["id"])
    from invoicer.invoices.errors import NotFound

    with pytest.raises(NotFound), db.transaction() as cur:
        invoices.get_invoice(cur, owner, draft["id"])
