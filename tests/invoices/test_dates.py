"""Issue 22 item 4: numbers and dates agree (chronological within a series),
and dates stay within a sane window; every refusal is a 422 naming its field."""

from __future__ import annotations

from datetime import date

import pytest

from invoicer.invoices import credit_notes, invoices, payments
from invoicer.invoices.errors import Unprocessable

from .conftest import LINES

TODAY = date(2026, 12, 8)


def _draft(db, owner, client, **fields) -> dict:
    with db.transaction() as cur:
        return invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES[:1], **fields})


def _issue(db, owner, draft, **kwargs) -> dict:
    with db.transaction() as cur:
        return invoices.issue(cur, owner, draft["id"], today=TODAY, **kwargs)


def _refused(call, pointer: str) -> Unprocessable:
    with pytest.raises(Unprocessable) as refused:
        call()
    assert refused.value.pointer == pointer, (refused.value.pointer, refused.value.message)
    return refused.value


def test_an_issue_date_before_the_last_of_the_series_is_refused(db, owner, client):
    first = _issue(db, owner, _draft(db, owner, client), issue_date="2026-12-01")
    assert first["number"] == "INV-2026-0001"
    late = _draft(db, owner, client)
    error = _refused(lambda: _issue(db, owner, late, issue_date="2026-11-30"), "/issue_date")
    assert "INV-2026-0001" in error.message and "2026-12-01" in error.message
    early = _draft(db, owner, client, issue_date="2026-11-15")  # a draft may hold it; issuing may not
    _refused(lambda: _issue(db, owner, early), "/issue_date")
    second = _issue(db, owner, late, issue_date="2026-12-01")  # the same day is in order
    assert second["number"] == "INV-2026-0002"


def test_an_issue_date_in_the_future_is_refused(db, owner, client):
    draft = _draft(db, owner, client)
    _refused(lambda: _issue(db, owner, draft, issue_date="2027-01-04"), "/issue_date")
    _refused(lambda: _issue(db, owner, _draft(db, owner, client, issue_date="2027-01-04")), "/issue_date")
    assert _issue(db, owner, draft, issue_date="2026-12-09")["number"] == "INV-2026-0001"  # a day's tolerance


@pytest.mark.parametrize("when", ["0001-01-01", "1999-12-31", "2025-12-07"])
def test_an_issue_date_long_past_is_refused(db, owner, client, when):
    draft = _draft(db, owner, client)
    _refused(lambda: _issue(db, owner, draft, issue_date=when), "/issue_date")
    assert _issue(db, owner, draft)["number"] == "INV-2026-0001"


def test_a_credit_note_is_dated_between_its_invoice_and_today(db, owner, client):
    invoice = _issue(db, owner, _draft(db, owner, client), issue_date="2026-12-01")

    def credit(when: str):
        with db.transaction() as cur:
            return credit_notes.issue_credit_note(
                cur, owner, invoice["id"], lines=[{"position": 1, "quantity": "1"}], issue_date=when, today=TODAY
            )

    for when in ("2000-01-01", "2026-11-30", "2027-01-01"):
        _refused(lambda when=when: credit(when), "/issue_date")
    assert credit("2026-12-05")["credit_note"]["number"] == "CN-2026-0001"
    _refused(lambda: credit("2026-12-04"), "/issue_date")  # before CN-2026-0001
    assert credit("2026-12-05")["credit_note"]["number"] == "CN-2026-0002"


def test_a_payment_is_dated_between_its_invoice_and_today(db, owner, client):
    invoice = _issue(db, owner, _draft(db, owner, client), issue_date="2026-12-01")

    def pay(when: str):
        with db.transaction() as cur:
            return payments.record_payment(cur, owner, invoice["id"], "1.00", paid_on=when, today=TODAY)

    for when in ("1900-01-01", "2026-11-30", "2999-01-01", "2026-12-10"):
        _refused(lambda when=when: pay(when), "/date")
    assert str(pay("2026-12-01")["payment"]["date"]) == "2026-12-01"
    assert str(pay("2026-12-09")["payment"]["date"]) == "2026-12-09"
