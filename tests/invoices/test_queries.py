"""The dashboard's figures and the invoice list, for a known set of invoices
and payments with a fixed ``today``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from invoicer.invoices import clients, credit_notes, invoices, payments
from invoicer.invoices.errors import Unprocessable
from invoicer.invoices.queries import dashboard, list_invoices

TODAY = date(2026, 6, 30)


def make(cur, member, client, amount, issued, due, *, currency=None, issue=True, today=TODAY):
    fields = {
        "client_id": client["id"],
        "issue_date": issued,
        "due_date": due,
        "lines": [{"description": "Work", "quantity": "1", "unit_price": amount, "tax_rate": "0"}],
    }
    if currency:
        fields["currency"] = currency
    draft = invoices.create_draft(cur, member, fields)
    return invoices.issue(cur, member, draft["id"], today=today) if issue else draft


@pytest.fixture
def book(db, owner, client):
    """A known book of invoices of one organisation (see the test for the figures)."""
    with db.transaction() as cur:
        other = clients.create_client(cur, owner, {"name": "Zed Corp", "currency": "USD"})
        # Issued in date order: numbers and dates agree (invoicer.invoices.dates).
        made = {
            "G": make(cur, owner, client, "999.00", None, None, issue=False),  # draft
            "D": make(cur, owner, client, "400.00", "2026-01-01", "2026-02-01"),  # 149 days overdue
            "C": make(cur, owner, client, "300.00", "2026-03-15", "2026-04-15"),  # 76 days overdue
            "F": make(cur, owner, client, "80.00", "2026-04-01", "2026-04-20"),  # paid before the window
            "E": make(cur, owner, client, "500.00", "2026-05-01", "2026-05-20"),  # paid in the window
            "B": make(cur, owner, client, "200.00", "2026-05-15", "2026-06-15"),  # 15 days overdue
            "I": make(cur, owner, client, "60.00", "2026-06-01", "2026-06-05"),  # credited
            "A": make(cur, owner, client, "100.00", "2026-06-20", "2026-07-10"),  # not due
            "H": make(cur, owner, other, "1000.00", "2026-06-29", "2026-07-30"),  # USD, sent
        }
        payments.record_payment(cur, owner, made["B"]["id"], "50.00", paid_on="2026-06-25", today=TODAY)
        payments.record_payment(cur, owner, made["E"]["id"], "500.00", paid_on="2026-06-10", today=TODAY)
        payments.record_payment(cur, owner, made["F"]["id"], "80.00", paid_on="2026-05-01", today=TODAY)
        invoices.mark_sent(cur, owner, made["H"]["id"])
        credit_notes.issue_credit_note(cur, owner, made["I"]["id"], today=TODAY)
    return made


def test_dashboard_figures(db, owner, book):
    with db.transaction() as cur:
        figures = dashboard(cur, owner, today=TODAY)
    eur = figures["currencies"]["EUR"]
    assert eur["outstanding"] == Decimal("950.00")  # 100 + 150 + 300 + 400
    assert eur["overdue"] == Decimal("850.00")
    assert eur["paid_last_30_days"] == Decimal("550.00")  # 50 + 500; the 80 of 1 May is older
    assert eur["ageing"] == {
        "not_due": Decimal("100.00"),
        "1_30": Decimal("150.00"),
        "31_60": Decimal("0.00"),
        "61_90": Decimal("300.00"),
        "over_90": Decimal("400.00"),
    }
    assert eur["counts"] == {
        "draft": 1,
        "issued": 1,
        "sent": 0,
        "partially_paid": 0,
        "paid": 2,
        "credited": 1,
        "overdue": 3,
    }
    usd = figures["currencies"]["USD"]
    assert usd["outstanding"] == Decimal("1000.00") and usd["overdue"] == 0
    assert usd["counts"]["sent"] == 1 and usd["ageing"]["not_due"] == Decimal("1000.00")
    # A month later everything open is overdue.
    with db.transaction() as cur:
        later = dashboard(cur, owner, today=date(2026, 8, 31))
    assert later["currencies"]["USD"]["ageing"]["31_60"] == Decimal("1000.00")


def numbers(page) -> list:
    return [item["number"] for item in page["items"]]


def test_list_filters_sorts_and_pages(db, owner, book):
    with db.transaction() as cur:
        overdue = list_invoices(cur, owner, status="overdue", sort="due_date", order="asc", today=TODAY)
        assert [item["id"] for item in overdue["items"]] == [book[k]["id"] for k in ("D", "C", "B")]
        assert all(item["overdue"] for item in overdue["items"])
        assert list_invoices(cur, owner, status="paid", today=TODAY)["total"] == 2
        by_name = list_invoices(cur, owner, q="zed", today=TODAY)
        assert numbers(by_name) == [book["H"]["number"]] and by_name["items"][0]["client_name"] == "Zed Corp"
        assert numbers(list_invoices(cur, owner, q=book["C"]["number"].lower(), today=TODAY)) == [book["C"]["number"]]
        window = list_invoices(
            cur,
            owner,
            issued_from="2026-05-01",
            issued_to="2026-06-20",
            kind="invoice",
            sort="issue_date",
            order="asc",
            today=TODAY,
        )
        assert [item["id"] for item in window["items"]] == [book[k]["id"] for k in ("E", "B", "I", "A")]
        richest = list_invoices(cur, owner, kind="invoice", sort="gross", order="desc", per_page=2, today=TODAY)
        assert richest["total"] == 9 and [item["gross"] for item in richest["items"]] == [
            Decimal("1000.00"),
            Decimal("999.00"),
        ]
        second = list_invoices(cur, owner, kind="invoice", sort="gross", order="desc", per_page=2, page=2, today=TODAY)
        assert [item["gross"] for item in second["items"]] == [Decimal("500.00"), Decimal("400.00")]
        assert list_invoices(cur, owner, kind="credit_note")["total"] == 1
        assert list_invoices(cur, owner, client_id=book["H"]["client_id"])["total"] == 1
    with pytest.raises(Unprocessable) as caught, db.transaction() as cur:
        list_invoices(cur, owner, sort="amount")
    assert caught.value.pointer == "/sort"
