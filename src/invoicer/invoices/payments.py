"""Payments against an issued invoice.

A payment is a positive amount in the invoice's currency, with at most the
currency's minor-unit digits (ISO 4217), not above the balance due
(gross - payments - credited): an overpayment is :class:`Unprocessable`
(``overpayment``). Each payment moves the status to ``partially_paid`` or
``paid`` and emits ``payment.recorded`` (and ``invoice.paid`` when nothing
is left to pay).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from invoicer.common.db import Cursor, one_row
from invoicer.invoice.model import minor_unit, quantize_money

from . import events
from ._sql import fetch_invoice as fetch
from .dates import check_since
from .errors import Conflict, Unprocessable
from .identity import Member
from .invoices import OPEN_STATUSES, _date, invoice_view, settled_status

__all__ = ["list_payments", "record_payment"]

_COLUMNS = "id, invoice_id, amount, date, method, reference, created_by, created_at"


def _amount(value: Any, currency: str) -> Decimal:
    if isinstance(value, (bool, float)):
        raise Unprocessable(
            'must be a decimal number written as a string, such as "12.50"', code="invalid_amount", pointer="/amount"
        )
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Unprocessable(
            'must be a decimal number such as "12.50"', code="invalid_amount", pointer="/amount"
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise Unprocessable("must be more than 0", code="invalid_amount", pointer="/amount")
    if amount != quantize_money(amount, currency):
        raise Unprocessable(
            f"{currency} amounts have at most {minor_unit(currency)} decimal places",
            code="invalid_amount",
            pointer="/amount",
        )
    return quantize_money(amount, currency)


def record_payment(
    cur: Cursor,
    member: Member,
    invoice_id: Any,
    amount: Any,
    *,
    paid_on: date | str | None = None,
    method: str | None = None,
    reference: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Record a payment of ``amount`` (Decimal or decimal string, invoice
    currency) received on ``paid_on`` (default ``today``) by ``method``
    with ``reference`` (free texts).

    Returns ``{"payment": {...}, "invoice": invoice_view}``. Raises
    :class:`NotFound`, :class:`Conflict` (``not_payable``) for a draft or a
    credit note, :class:`Unprocessable` (``invalid_amount`` or
    ``overpayment``, pointer ``/amount``; ``invalid_date``, pointer ``/date``,
    for a date before the invoice's issue date or after today,
    :mod:`invoicer.invoices.dates`) and :class:`Forbidden` for a viewer.
    """
    member.require_write()
    today = today or date.today()
    row = fetch(cur, member, invoice_id, lock=True)
    if row["kind"] != "invoice" or row["status"] == "draft":
        raise Conflict("only an issued invoice can be paid", code="not_payable")
    value = _amount(amount, row["currency"])
    balance = invoice_view(row, today)["balance_due"]
    if row["status"] not in OPEN_STATUSES or value > balance:
        raise Unprocessable(
            f"{value} {row['currency']} is more than the balance due of {max(balance, Decimal(0))} {row['currency']}",
            code="overpayment",
            pointer="/amount",
        )
    when = check_since(
        _date(paid_on, "/date") or today,
        row["issue_date"],
        today,
        what="a payment",
        since=f"invoice {row['number']}",
        pointer="/date",
    )
    for name, text in (("method", method), ("reference", reference)):
        if text is not None and (not isinstance(text, str) or len(text) > 200):
            raise Unprocessable("must be a text of at most 200 characters", code="invalid_text", pointer=f"/{name}")
    cur.execute(
        f"INSERT INTO payments (organisation_id, invoice_id, amount, date, method, reference, created_by)"
        f" VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
        (member.organisation_id, row["id"], value, when, method, reference, member.actor.user_id),
    )
    payment = one_row(cur)
    paid = {**row, "amount_paid": Decimal(row["amount_paid"]) + value}
    status = settled_status(paid, fully_credited=False)
    cur.execute(
        "UPDATE invoices SET amount_paid = amount_paid + %s, status = %s, updated_at = now(), version = version + 1"
        " WHERE id = %s RETURNING *",
        (value, status, row["id"]),
    )
    invoice = invoice_view(one_row(cur), today)
    events.record(
        cur,
        member,
        "invoice",
        row["id"],
        "payment.recorded",
        {
            "invoice_id": row["id"],
            "payment_id": payment["id"],
            "amount": value,
            "currency": row["currency"],
            "date": when,
            "balance_due": invoice["balance_due"],
        },
    )
    if status == "paid":
        events.record(
            cur, member, "invoice", row["id"], "invoice.paid", {"invoice_id": row["id"], "number": row["number"]}
        )
    return {"payment": payment, "invoice": invoice}


def list_payments(cur: Cursor, member: Member, invoice_id: Any) -> list[dict[str, Any]]:
    """The invoice's payments, oldest first; :class:`NotFound` for an unknown invoice."""
    row = fetch(cur, member, invoice_id)
    cur.execute(f"SELECT {_COLUMNS} FROM payments WHERE invoice_id = %s ORDER BY date, created_at", (row["id"],))
    return [dict(payment) for payment in cur.fetchall()]
