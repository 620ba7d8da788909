"""The whole life of an invoice, payments, credit notes and the activity log."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest

from invoicer.invoices import credit_notes, invoices, payments
from invoicer.invoices.errors import Conflict, Unprocessable
from invoicer.invoices.events import activity

from .conftest import LINES, join, new_actor

TODAY = date(2026, 3, 10)
#: When the payments are recorded: a payment is not dated in the future (invoicer.invoices.dates).
LATER = date(2026, 3, 20)


def test_client_to_paid_to_credited_with_its_activity_log(db, owner, client):
    accountant = join(db, owner, new_actor("accountant"), "accountant")

    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES})
        invoices.update_draft(cur, owner, draft["id"], {"notes": "Thanks"}, expected_version=1)
        issued = invoices.issue(cur, accountant, draft["id"], today=TODAY)
        assert issued["number"] == "INV-2026-0001" and issued["gross"] == Decimal("330.86")
        sent = invoices.mark_sent(cur, accountant, draft["id"], today=TODAY)
        assert sent["status"] == "sent" and sent["sent_at"] is not None
        part = payments.record_payment(cur, accountant, draft["id"], "100.00", paid_on="2026-03-12", today=LATER)
        assert part["invoice"]["status"] == "partially_paid"
        assert part["invoice"]["balance_due"] == Decimal("230.86")

    with pytest.raises(Unprocessable) as over, db.transaction() as cur:
        payments.record_payment(cur, owner, draft["id"], "230.87", today=TODAY)
    assert over.value.code == "overpayment" and over.value.pointer == "/amount"

    with db.transaction() as cur:
        rest = payments.record_payment(
            cur, owner, draft["id"], Decimal("230.86"), paid_on=date(2026, 3, 20), today=LATER
        )
        assert rest["invoice"]["status"] == "paid" and rest["invoice"]["balance_due"] == 0
        assert [p["amount"] for p in payments.list_payments(cur, owner, draft["id"])] == [
            Decimal("100.00"),
            Decimal("230.86"),
        ]

        # Credit 5 of the 12 boxes of tea, then everything that is left.
        first = credit_notes.issue_credit_note(
            cur, owner, draft["id"], lines=[{"position": 1, "quantity": "5"}], reason="damaged", today=TODAY
        )
        note = first["credit_note"]
        assert note["number"] == "CN-2026-0001" and note["kind"] == "credit_note"
        assert note["corrects_invoice_id"] == draft["id"]
        assert note["gross"] == Decimal("107.10")  # 5 x 18.00 = 90.00 + 19 % VAT
        assert first["invoice"]["status"] == "paid"
        assert first["invoice"]["balance_due"] == Decimal("-107.10")  # owed back to the client
    with pytest.raises(Unprocessable) as too_much, db.transaction() as cur:
        credit_notes.issue_credit_note(cur, owner, draft["id"], lines=[{"position": 1, "quantity": "8"}], today=TODAY)
    assert too_much.value.code == "over_credit" and too_much.value.pointer == "/lines/0/quantity"
    with db.transaction() as cur:
        second = credit_notes.issue_credit_note(cur, owner, draft["id"], today=TODAY)
        assert second["credit_note"]["number"] == "CN-2026-0002"
        assert second["credit_note"]["lines"][0]["quantity"] == "7"
        assert second["invoice"]["status"] == "credited"
        assert second["invoice"]["amount_credited"] == Decimal("330.86")
    with pytest.raises(Conflict), db.transaction() as cur:
        credit_notes.issue_credit_note(cur, owner, draft["id"], today=TODAY)

    with db.transaction() as cur:
        log = activity(cur, owner, draft["id"])
    steps = [(event["type"], event["actor"]["email"]) for event in log]
    assert steps == [
        ("invoice.created", owner.actor.email),
        ("invoice.updated", owner.actor.email),
        ("invoice.issued", accountant.actor.email),
        ("invoice.sent", accountant.actor.email),
        ("payment.recorded", accountant.actor.email),
        ("payment.recorded", owner.actor.email),
        ("invoice.paid", owner.actor.email),
        ("credit_note.issued", owner.actor.email),
        ("credit_note.issued", owner.actor.email),
    ]
    assert log[2]["data"]["number"] == "INV-2026-0001"
    assert all(a["occurred_at"] <= b["occurred_at"] for a, b in itertools.pairwise(log))


def test_payments_are_only_for_issued_invoices_and_in_minor_units(db, owner, client):
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES})
    with pytest.raises(Conflict), db.transaction() as cur:
        payments.record_payment(cur, owner, draft["id"], "10.00")
    with db.transaction() as cur:
        invoices.issue(cur, owner, draft["id"])
    for amount in ("10.001", "0", "-5", "ten"):
        with pytest.raises(Unprocessable), db.transaction() as cur:
            payments.record_payment(cur, owner, draft["id"], amount)
    with db.transaction() as cur:
        assert invoices.get_invoice(cur, owner, draft["id"])["amount_paid"] == 0


def test_issuing_a_draft_twice_is_a_conflict(db, owner, client):
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES})
        invoices.issue(cur, owner, draft["id"])
    with pytest.raises(Conflict), db.transaction() as cur:
        invoices.issue(cur, owner, draft["id"])


def test_an_empty_draft_cannot_be_issued(db, owner, client):
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"]})
    with pytest.raises(Unprocessable) as caught, db.transaction() as cur:
        invoices.issue(cur, owner, draft["id"])
    assert caught.value.code == "no_lines"
