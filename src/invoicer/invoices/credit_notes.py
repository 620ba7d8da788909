"""Credit notes: corrections of an issued invoice, which stays as it was.

A credit note credits all of an invoice's remaining lines or some of them
(``[{"position": p, "quantity": q}]``, ``q`` at most what is not yet
credited on line ``p``), has its own gapless number series (``CN-2026-0001``),
refers to the invoice (``corrects_invoice_id``), copies the invoice's seller,
buyer, currency and prices, and gets its totals from the same EN 16931 model.
Its gross is added to the invoice's ``amount_credited``; once every line is
fully credited the invoice is ``credited``. (EN 16931 document type 381;
BT-25 "preceding invoice reference".)

Rounding note: crediting an invoice in several parts rounds each part's VAT
on its own (BR-CO-17 applies per document), so the parts' sum may differ
from the invoice's gross by a minor unit; the invoice is ``credited`` by
quantities, whatever that cent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from invoicer.common.db import Cursor, one_row
from invoicer.common.storage import BlobStore

from . import events, rendering
from ._sql import fetch_invoice as fetch
from ._sql import jsonb, totals_json
from .dates import check_in_sequence, check_since
from .documents import check_lines_and_terms, lines_from_json, lines_to_json
from .errors import Conflict, Unprocessable
from .identity import Member
from .invoices import _date, invoice_view, settled_status
from .numbering import CREDIT_NOTE_SERIES, next_number

__all__ = ["credited_quantities", "issue_credit_note"]


def credited_quantities(cur: Cursor, invoice_id: Any) -> dict[int, Decimal]:
    """Quantity credited so far per line position of an invoice."""
    cur.execute("SELECT credits FROM invoices WHERE corrects_invoice_id = %s AND kind = 'credit_note'", (invoice_id,))
    credited: dict[int, Decimal] = {}
    for row in cur.fetchall():
        for credit in row["credits"]:
            position = int(credit["position"])
            credited[position] = credited.get(position, Decimal(0)) + Decimal(credit["quantity"])
    return credited


def _requested(lines: Any, remaining: dict[int, Decimal]) -> list[tuple[int, Decimal]]:
    if not isinstance(lines, list) or not lines:
        raise Unprocessable(
            "lines must be a non-empty list of {position, quantity}", code="invalid_credit", pointer="/lines"
        )
    wanted: list[tuple[int, Decimal]] = []
    seen: set[int] = set()
    for index, item in enumerate(lines):
        pointer = f"/lines/{index}"
        position = item.get("position") if isinstance(item, dict) else None
        if isinstance(position, bool) or not isinstance(position, int) or position not in remaining:
            raise Unprocessable(
                f"no line {position!r} on the invoice", code="unknown_line", pointer=pointer + "/position"
            )
        if position in seen:
            raise Unprocessable(f"line {position} is named twice", code="duplicate_line", pointer=pointer + "/position")
        seen.add(position)
        raw = item.get("quantity", remaining[position])
        try:
            quantity = Decimal(str(raw)) if not isinstance(raw, (bool, float)) else Decimal("NaN")
        except (InvalidOperation, ValueError):
            quantity = Decimal("NaN")
        if not quantity.is_finite() or quantity <= 0:
            raise Unprocessable(
                "must be a decimal number more than 0", code="invalid_quantity", pointer=pointer + "/quantity"
            )
        if quantity > remaining[position]:
            raise Unprocessable(
                f"line {position} has {remaining[position]} left to credit, not {quantity}",
                code="over_credit",
                pointer=pointer + "/quantity",
            )
        wanted.append((position, quantity))
    return wanted


def issue_credit_note(
    cur: Cursor,
    member: Member,
    invoice_id: Any,
    *,
    lines: Any = None,
    reason: str | None = None,
    issue_date: date | str | None = None,
    today: date | None = None,
    blobs: BlobStore | None = None,
) -> dict[str, Any]:
    """Issue a credit note for the invoice: ``lines`` None credits everything
    not yet credited; else ``[{"position": 1-based line, "quantity": q}]``
    (``quantity`` defaults to what is left on that line).

    Returns ``{"credit_note": view, "invoice": view}``. Raises
    :class:`NotFound`, :class:`Conflict` (``not_creditable``) for a draft, a
    credit note or an invoice with nothing left to credit,
    :class:`Unprocessable` with a pointer for a bad line or a quantity above
    what is left (``over_credit``), and ``invalid_date`` (``/issue_date``)
    for a date before the invoice's, after today, or before the last credit
    note of its series and year (:mod:`invoicer.invoices.dates`). Emits ``credit_note.issued``. With
    ``blobs`` the credit note's PDF and XLSX ("CREDIT NOTE", naming the
    invoice) are requested in the same transaction
    (:func:`invoicer.invoices.rendering.request_documents`).
    """
    member.require_write()
    today = today or date.today()
    invoice = fetch(cur, member, invoice_id, lock=True)
    if invoice["kind"] != "invoice" or invoice["status"] == "draft":
        raise Conflict("only an issued invoice can be credited", code="not_creditable")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 4000):
        raise Unprocessable("must be a text of at most 4000 characters", code="invalid_text", pointer="/reason")
    source = lines_from_json(invoice["lines"])
    credited = credited_quantities(cur, invoice["id"])
    remaining = {line.position: line.quantity - credited.get(line.position, Decimal(0)) for line in source}
    if lines is None:
        wanted = [(position, left) for position, left in remaining.items() if left > 0]
        if not wanted:
            raise Conflict(f"invoice {invoice['number']} is fully credited already", code="not_creditable")
    else:
        wanted = _requested(lines, remaining)
    by_position = {line.position: line for line in source}
    credit_lines = [
        {**lines_to_json([by_position[position]])[0], "quantity": str(quantity)} for position, quantity in wanted
    ]
    when = check_since(
        _date(issue_date, "/issue_date") or today,
        invoice["issue_date"],
        today,
        what="a credit note",
        since=f"invoice {invoice['number']}",
        pointer="/issue_date",
    )
    # Same checks and the same EN 16931 totals as any invoice content.
    stored, totals, _ = check_lines_and_terms(currency=invoice["currency"], lines=credit_lines, issue_date=when)
    number = next_number(cur, member.organisation_id, CREDIT_NOTE_SERIES, when.year)
    check_in_sequence(cur, member.organisation_id, CREDIT_NOTE_SERIES, when, number)
    credits = [{"position": position, "quantity": str(quantity)} for position, quantity in wanted]
    cur.execute(
        "INSERT INTO invoices (organisation_id, kind, status, series, number, client_id, currency, issue_date,"
        " lines, seller, buyer, ship_to, totals, corrects_invoice_id, credits, reason, created_by, issued_at)"
        " VALUES (%s, 'credit_note', 'issued', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
        " RETURNING *",
        (
            member.organisation_id,
            CREDIT_NOTE_SERIES,
            number,
            invoice["client_id"],
            invoice["currency"],
            when,
            jsonb(stored),
            jsonb(invoice["seller"]),
            jsonb(invoice["buyer"]),
            jsonb(invoice["ship_to"]) if invoice["ship_to"] is not None else None,
            jsonb(totals_json(totals)),
            invoice["id"],
            jsonb(credits),
            reason,
            member.actor.user_id,
        ),
    )
    note = one_row(cur)
    fully = all(remaining[position] - dict(wanted).get(position, Decimal(0)) <= 0 for position in remaining)
    after = {**invoice, "amount_credited": Decimal(invoice["amount_credited"]) + totals.gross}
    status = settled_status(after, fully_credited=fully)
    cur.execute(
        "UPDATE invoices SET amount_credited = amount_credited + %s, status = %s, updated_at = now(),"
        " version = version + 1 WHERE id = %s RETURNING *",
        (totals.gross, status, invoice["id"]),
    )
    updated = invoice_view(one_row(cur), today)
    events.record(
        cur,
        member,
        "credit_note",
        note["id"],
        "credit_note.issued",
        {
            "invoice_id": invoice["id"],
            "credit_note_id": note["id"],
            "number": number,
            "invoice_number": invoice["number"],
            "gross": totals.gross,
            "currency": invoice["currency"],
            "credits": credits,
            "invoice_status": status,
        },
    )
    if blobs is not None:
        rendering.request_documents(cur, blobs, member, note["id"])
        note = fetch(cur, member, note["id"])
    return {"credit_note": invoice_view(note, today), "invoice": updated}
