"""Issue 22 item 3: an imported number never collides with another number of
the organisation, case-insensitively and in any series, and the counter never
issues a number an import has taken."""

from __future__ import annotations

import json
from datetime import date

import pytest

from invoicer.invoices import invoices
from invoicer.invoices.errors import Conflict
from invoicer.invoices.importing import import_invoice

from .conftest import LINES


def _document(example_bytes: bytes, number: str) -> bytes:
    document = json.loads(example_bytes)
    document["invoice_number"] = number
    return json.dumps(document).encode()


def _issue(db, owner, client, when: date) -> dict:
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES[:1]})
        return invoices.issue(cur, owner, draft["id"], today=when)


def test_importing_a_number_already_issued_is_a_conflict(db, owner, client, example_bytes):
    issued = _issue(db, owner, client, date(2026, 3, 1))
    assert issued["number"] == "INV-2026-0001"
    for number in ("INV-2026-0001", "inv-2026-0001"):
        with pytest.raises(Conflict) as refused, db.transaction() as cur:
            import_invoice(cur, owner, _document(example_bytes, number))
        assert refused.value.code == "duplicate_number" and "INV-2026-0001" in refused.value.message
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM invoices WHERE organisation_id = %s", (owner.organisation_id,))
        assert cur.fetchone()["n"] == 1


def test_the_counter_skips_a_number_imported_before_it_was_reached(db, owner, client, example_bytes):
    with db.transaction() as cur:
        import_invoice(cur, owner, _document(example_bytes, "inv-2026-0002"))
    numbers = [_issue(db, owner, client, date(2026, 3, 1))["number"] for _ in range(3)]
    assert numbers == ["INV-2026-0001", "INV-2026-0003", "INV-2026-0004"]


def test_imported_numbers_differing_only_in_case_are_one_number(db, owner, example_bytes):
    with db.transaction() as cur:
        import_invoice(cur, owner, _document(example_bytes, "IMP-1"))
    with pytest.raises(Conflict) as refused, db.transaction() as cur:
        import_invoice(cur, owner, _document(example_bytes, "imp-1"))
    assert refused.value.code == "duplicate_number" and refused.value.pointer == "/invoice_number"


def test_another_organisation_may_hold_the_same_number(db, owner, example_bytes):
    from invoicer.invoices.identity import resolve_membership

    from .conftest import new_actor

    with db.transaction() as cur:
        import_invoice(cur, owner, _document(example_bytes, "SHARED-1"))
        other = resolve_membership(cur, new_actor("other"))
        assert import_invoice(cur, other, _document(example_bytes, "shared-1"))["number"] == "shared-1"
