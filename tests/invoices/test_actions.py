"""What a member may do with an invoice now (``actions`` of the API): the
function alone, then checked against the domain along a real life, so the
actions offered are the ones the domain accepts."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from invoicer.invoices import credit_notes, invoices, payments
from invoicer.invoices.actions import ACTIONS, allowed_actions
from invoicer.invoices.principals import Actor, Member

from .conftest import LINES, join, new_actor

TODAY = date(2026, 3, 10)


def _member(role: str) -> Member:
    return Member(Actor(uuid.uuid4(), f"{role}@example.test"), uuid.uuid4(), role)


@pytest.mark.parametrize(
    ("kind", "status", "balance", "expected"),
    [
        ("invoice", "draft", "330.86", ["edit", "delete", "issue"]),
        ("invoice", "issued", "330.86", ["send", "record_payment", "credit"]),
        ("invoice", "sent", "330.86", ["send", "record_payment", "credit"]),
        ("invoice", "partially_paid", "30.86", ["send", "record_payment", "credit"]),
        ("invoice", "paid", "0.00", ["send", "credit"]),
        ("invoice", "credited", "0.00", ["send"]),  # the domain still mails a credited invoice
        ("credit_note", "issued", "-330.86", []),
    ],
)
def test_actions_follow_kind_status_and_balance(kind, status, balance, expected):
    view = {"kind": kind, "status": status, "balance_due": Decimal(balance)}
    for role in ("owner", "accountant"):
        assert allowed_actions(view, _member(role)) == expected
    assert allowed_actions(view, _member("viewer")) == [], "what a viewer cannot do is not offered"
    assert set(expected) <= set(ACTIONS)


def test_an_open_invoice_with_nothing_left_to_pay_takes_no_payment():
    view = {"kind": "invoice", "status": "issued", "balance_due": "0.00"}  # decimal strings too
    assert allowed_actions(view, _member("owner")) == ["send", "credit"]


def test_the_actions_offered_are_the_ones_the_domain_accepts(db, owner, client):
    viewer = join(db, owner, new_actor("viewer"), "viewer")

    def actions(invoice_id) -> list[str]:
        with db.transaction() as cur:
            view = invoices.get_invoice(cur, owner, invoice_id, today=TODAY)
            assert allowed_actions(invoices.get_invoice(cur, viewer, invoice_id, today=TODAY), viewer) == []
        return allowed_actions(view, owner)

    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES})
    assert actions(draft["id"]) == ["edit", "delete", "issue"]
    with db.transaction() as cur:
        invoices.issue(cur, owner, draft["id"], today=TODAY)
    assert actions(draft["id"]) == ["send", "record_payment", "credit"]
    with db.transaction() as cur:
        payments.record_payment(cur, owner, draft["id"], "330.86", today=TODAY)
    assert actions(draft["id"]) == ["send", "credit"]
    with db.transaction() as cur:
        done = credit_notes.issue_credit_note(cur, owner, draft["id"], today=TODAY)
    # Paid, then fully credited: the 330.86 paid is owed back (issue 22 item 6).
    assert actions(draft["id"]) == ["send", "refund"]
    assert actions(done["credit_note"]["id"]) == []
