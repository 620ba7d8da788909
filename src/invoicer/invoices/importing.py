"""Import of an existing invoice document (canonical or legacy format).

The document is loaded and validated by :mod:`invoicer.invoice` (through
:mod:`invoicer.invoices.documents`) and becomes an ``issued`` invoice record
that keeps its own number in the series ``imported``. A number is unique in
the organisation whatever its series and case: importing a number it has
already issued, imported or will not issue again (``INV-2026-0001``,
``inv-2026-0001``) is :class:`Conflict` (``duplicate_number``); one the
counter has not reached yet is skipped by the counter later
(:mod:`invoicer.invoices.numbering`). Seller, buyer, dates, lines and the EN 16931 totals
(recomputed, never taken from the document) come from the document.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from invoicer.common.db import Cursor
from invoicer.common.storage import BlobStore

from . import events, rendering
from ._sql import fetch_invoice as fetch
from ._sql import jsonb, totals_json
from .documents import lines_to_json, load_document, party_to_json
from .errors import Conflict
from .identity import Member
from .invoices import _active_client, invoice_view
from .numbering import IMPORTED_SERIES, lock_numbering, number_taken

__all__ = ["import_invoice"]


def import_invoice(
    cur: Cursor,
    member: Member,
    document: bytes | str | dict[str, Any],
    *,
    client_id: Any = None,
    legacy_currency: str = "USD",
    max_lines: int = 10_000,
    today: date | None = None,
    blobs: BlobStore | None = None,
) -> dict[str, Any]:
    """Record ``document`` (raw JSON or parsed) as an issued invoice of the
    member's organisation, optionally linked to ``client_id``.

    Raises :class:`BadRequest` (``malformed_json``), :class:`Unprocessable`
    (``invalid_invoice`` with one detail per problem, pointers into the
    document), :class:`Conflict` (``duplicate_number``), :class:`Forbidden`
    for a viewer. Emits ``invoice.issued`` with ``"imported": true``. With
    ``blobs`` its PDF and XLSX are requested in the same transaction
    (:func:`invoicer.invoices.rendering.request_documents`).
    """
    member.require_write()
    invoice = load_document(document, max_lines=max_lines, legacy_currency=legacy_currency)
    client = _active_client(cur, member, client_id) if client_id is not None else None
    lock_numbering(cur, member.organisation_id)
    taken = number_taken(cur, member.organisation_id, invoice.invoice_number)
    if taken is not None:
        raise Conflict(
            f"the organisation already has an invoice numbered {taken}; a number identifies one invoice,"
            " whatever its case",
            code="duplicate_number",
            pointer="/invoice_number",
        )
    cur.execute(
        "INSERT INTO invoices (organisation_id, kind, status, series, number, client_id, currency, issue_date,"
        " due_date, payment_terms, notes, lines, seller, buyer, ship_to, totals, created_by, issued_at)"
        " VALUES (%s, 'invoice', 'issued', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
        " ON CONFLICT DO NOTHING RETURNING *",
        (
            member.organisation_id,
            IMPORTED_SERIES,
            invoice.invoice_number,
            client["id"] if client else None,
            invoice.currency,
            invoice.issue_date,
            invoice.due_date,
            invoice.payment_terms,
            invoice.notes,
            jsonb(lines_to_json(invoice.lines)),
            jsonb(party_to_json(invoice.seller)),
            jsonb(party_to_json(invoice.buyer)),
            jsonb(party_to_json(invoice.ship_to)) if invoice.ship_to else None,
            jsonb(totals_json(invoice.totals)),
            member.actor.user_id,
        ),
    )
    row = cur.fetchone()
    if row is None:
        raise Conflict(
            f"an invoice numbered {invoice.invoice_number} has been imported already",
            code="duplicate_number",
            pointer="/invoice_number",
        )
    events.record(
        cur,
        member,
        "invoice",
        row["id"],
        "invoice.issued",
        {
            "invoice_id": row["id"],
            "number": invoice.invoice_number,
            "imported": True,
            "issue_date": invoice.issue_date,
            "due_date": invoice.due_date,
            "currency": invoice.currency,
            "gross": invoice.totals.gross,
        },
    )
    view = dict(row)
    if blobs is not None:
        rendering.request_documents(cur, blobs, member, view["id"])
        view = fetch(cur, member, view["id"])
    return invoice_view(view, today)
