"""Refunds: money paid back to the client of an issued invoice.

A credit note issued after a payment can leave the client owed: payments and
credit notes above the invoice's gross. That is the invoice's **refund due**,
``amount_paid + amount_credited - gross - amount_refunded`` (never below 0),
shown until refunds settle it (:func:`refund_due`). A refund is a positive
amount in the invoice's currency, at most the refund due
(:class:`Unprocessable` ``over_refund`` otherwise), dated neither before
the invoice nor in the future (:mod:`invoicer.invoices.dates`); it emits
``refund.recorded``. The balance due (what the client still owes) is never
below 0 as answered: owed money is the refund due, not a negative balance.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from invoicer.common.db import Cursor, one_row
from invoicer.invoice.model import quantize_money

from . import events, payments
from ._sql import fetch_invoice as fetch
from .dates import check_since
from .errors import Conflict, NotFound, Unprocessable
from .identity import Member
from .invoices import OPEN_STATUSES, _date, invoice_view
from .payments import _amount

__all__ = ["list_refunds", "record_refund", "refund_due", "refunds_due_by_currency"]

_COLUMNS = "id, invoice_id, amount, date, method, reference, created_by, created_at"


def refund_due(row: dict[str, Any]) -> Decimal:
    """What the organisation owes back on the invoice ``row``: paid +
    credited - gross - refunded, rounded to the currency's minor unit, never
    below 0; 0 for a draft or a credit note."""
    if row["kind"] != "invoice" or row["status"] == "draft" or "amount_paid" not in row:
        return Decimal(0)
    owed = (
        Decimal(row["amount_paid"] or 0)
        + Decimal(row.get("amount_credited") or 0)
        - Decimal(row.get("gross") or 0)
        - Decimal(row.get("amount_refunded") or 0)
    )
    return quantize_money(max(owed, Decimal(0)), row["currency"])


def record_refund(
    cur: Cursor,
    member: Member,
    invoice_id: Any,
    amount: Any,
    *,
    refunded_on: date | str | None = None,
    method: str | None = None,
    reference: str | None = None,
    applied_to: Any = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Record ``amount`` (decimal string or Decimal, the invoice's currency)
    paid back to the client on ``refunded_on`` (default ``today``), or, with
    ``applied_to`` (the id of another open invoice of the same client and
    currency), kept for it: the same transaction records a payment of
    ``amount`` on that invoice (:func:`invoicer.invoices.payments.record_payment`,
    method "credit from <number>"), and the refund's method says where it went.

    Returns ``{"refund": {...}, "invoice": invoice_view}``. Raises
    :class:`NotFound`, :class:`Conflict` (``not_refundable``) for a draft or
    a credit note, :class:`Unprocessable` (``invalid_amount``,
    ``over_refund`` at ``/amount``; ``invalid_date`` at ``/date``;
    ``invalid_credit_target`` at ``/applied_to`` for an invoice that is not
    another one of the same client and currency; the payment's own refusals,
    e.g. ``overpayment``) and :class:`Forbidden` for a viewer."""
    member.require_write()
    today = today or date.today()
    row = fetch(cur, member, invoice_id, lock=True)
    if row["kind"] != "invoice" or row["status"] == "draft":
        raise Conflict("only an issued invoice has refunds", code="not_refundable")
    value = _amount(amount, row["currency"])
    due = refund_due(row)
    if value > due:
        raise Unprocessable(
            f"{value} {row['currency']} is more than the refund due of {due} {row['currency']}",
            code="over_refund",
            pointer="/amount",
        )
    when = check_since(
        _date(refunded_on, "/date") or today,
        row["issue_date"],
        today,
        what="a refund",
        since=f"invoice {row['number']}",
        pointer="/date",
    )
    if applied_to is not None:
        target = _credit_target(cur, member, row, applied_to)
        method = f"credit applied to {target['number']}"
        reference = reference or target["number"]
        payments.record_payment(
            cur,
            member,
            target["id"],
            value,
            paid_on=max(when, target["issue_date"] or when),
            method=f"credit from {row['number']}",
            reference=row["number"],
            today=today,
        )
    cur.execute(
        f"INSERT INTO refunds (organisation_id, invoice_id, amount, date, method, reference, created_by)"
        f" VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
        (member.organisation_id, row["id"], value, when, method, reference, member.actor.user_id),
    )
    refund = one_row(cur)
    cur.execute(
        "UPDATE invoices SET amount_refunded = amount_refunded + %s, updated_at = now(), version = version + 1"
        " WHERE id = %s RETURNING *",
        (value, row["id"]),
    )
    invoice = invoice_view(one_row(cur), today)
    events.record(
        cur,
        member,
        "invoice",
        row["id"],
        "refund.recorded",
        {
            "invoice_id": row["id"],
            "refund_id": refund["id"],
            "amount": value,
            "currency": row["currency"],
            "date": when,
            "refund_due": refund_due(invoice),
        },
    )
    return {"refund": refund, "invoice": invoice}


def _credit_target(cur: Cursor, member: Member, source: dict[str, Any], target_id: Any) -> dict[str, Any]:
    """The invoice ``target_id`` if it may receive ``source``'s credit."""
    try:
        target = fetch(cur, member, target_id, lock=True)
    except NotFound:
        target = None
    if (
        target is None
        or target["id"] == source["id"]
        or target["kind"] != "invoice"
        or target["status"] not in OPEN_STATUSES
        or target["client_id"] != source["client_id"]
        or target["currency"] != source["currency"]
    ):
        raise Unprocessable(
            f"the credit of {source['number']} can only pay another open invoice of the same client in"
            f" {source['currency']}",
            code="invalid_credit_target",
            pointer="/applied_to",
        )
    return target


def list_refunds(cur: Cursor, member: Member, invoice_id: Any) -> list[dict[str, Any]]:
    """The invoice's refunds, oldest first; :class:`NotFound` for an unknown invoice."""
    row = fetch(cur, member, invoice_id)
    cur.execute(f"SELECT {_COLUMNS} FROM refunds WHERE invoice_id = %s ORDER BY date, created_at", (row["id"],))
    return [dict(refund) for refund in cur.fetchall()]


def refunds_due_by_currency(cur: Cursor, member: Member) -> dict[str, Decimal]:
    """The dashboard's "refunds due": per currency, the sum of what the
    organisation owes back on its issued invoices (:func:`refund_due`), in
    a query of its own; currencies with nothing due are left out."""
    cur.execute(
        """
        SELECT currency, sum(amount_paid + amount_credited - gross - amount_refunded) AS due
          FROM invoices
         WHERE organisation_id = %s AND kind = 'invoice' AND status <> 'draft'
           AND amount_paid + amount_credited - gross - amount_refunded > 0
         GROUP BY currency
        """,
        (member.organisation_id,),
    )
    return {row["currency"]: quantize_money(Decimal(row["due"]), row["currency"]) for row in cur.fetchall()}
