"""Invoices: drafts and their lifecycle.

    draft --issue--> issued --send--> sent --payment--> partially_paid --payment--> paid
                        \\______________\\__________________\\--credit notes--> credited

* A draft is editable (optimistic concurrency on ``version``: a stale
  ``expected_version`` is :class:`PreconditionFailed`) and deletable; it has
  no number.
* :func:`issue` assigns the next number of the ``INV`` series of the issue
  year in the issuing transaction (:mod:`invoicer.invoices.numbering`),
  copies the seller from the organisation and the buyer from the client,
  defaults ``issue_date`` to today and ``due_date`` to the issue date plus
  the client's (else the organisation's) payment terms, and freezes the
  content: any later edit or delete is :class:`Conflict` (``invoice_frozen``),
  and the database's trigger refuses it too.
* ``overdue`` is derived on read (balance due > 0 and due date before today),
  never stored.
* ``balance_due`` = gross - payments - credited (credit notes' gross).
* Given a blob store, :func:`issue` also has the PDF and XLSX rendered and
  kept (:func:`invoicer.invoices.rendering.request_documents`, in the same
  transaction), and :func:`send` mails the invoice with its PDF to the client
  (an ``invoice.mail`` command in the outbox, published only if it commits).

Totals always come from :func:`invoicer.invoice.model.compute_totals`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from invoicer.common.db import Cursor, one_row
from invoicer.common.storage import BlobStore
from invoicer.invoice.model import creditor_reference, quantize_money

from . import einvoicing, events, rendering
from ._sql import fetch_invoice as fetch
from ._sql import jsonb, totals_json, version_matches
from .clients import get_client
from .dates import check_in_sequence, check_issue_date
from .documents import PARTY_FIELDS, check_lines_and_terms, due_after
from .errors import Conflict, NotFound, PreconditionFailed, Unprocessable
from .identity import Member
from .numbering import INVOICE_SERIES, next_number
from .organisations import get_organisation, seller_party

__all__ = [
    "DRAFT_FIELDS",
    "create_draft",
    "delete_draft",
    "get_invoice",
    "invoice_view",
    "issue",
    "mark_sent",
    "send",
    "update_draft",
]

#: Fields a draft body may hold.
DRAFT_FIELDS = (
    "client_id",
    "currency",
    "issue_date",
    "due_date",
    "payment_terms",
    "notes",
    "lines",
    "ship_to",
    "buyer_reference",
    "order_reference",
    "delivery_date",
    "invoicing_period",
    "allowances",
    "charges",
)
#: Statuses whose balance is still to be paid.
OPEN_STATUSES = ("issued", "sent", "partially_paid")


def invoice_view(row: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """An invoice row as callers see it: amounts (``gross``, ``amount_paid``,
    ``amount_credited``, ``balance_due``) as Decimals rounded to the
    currency's minor unit, plus ``overdue`` (bool: an open invoice with a
    balance whose due date is before ``today``)."""
    view = dict(row)
    currency = view["currency"]
    for key in ("gross", "amount_paid", "amount_credited", "balance_due"):
        view[key] = quantize_money(Decimal(view[key] if view[key] is not None else 0), currency)
    today = today or date.today()
    view["overdue"] = bool(
        view["kind"] == "invoice"
        and view["status"] in OPEN_STATUSES
        and view["balance_due"] > 0
        and view["due_date"] is not None
        and view["due_date"] < today
    )
    return view


def _date(value: Any, pointer: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise Unprocessable("must be a date written YYYY-MM-DD", code="invalid_date", pointer=pointer) from None


def get_invoice(cur: Cursor, member: Member, invoice_id: Any, *, today: date | None = None) -> dict[str, Any]:
    """One invoice or credit note (see :func:`invoice_view`); :class:`NotFound` otherwise."""
    return invoice_view(fetch(cur, member, invoice_id), today)


def refuse_frozen(row: dict[str, Any], action: str) -> None:
    """Raise :class:`Conflict` (``invoice_frozen``) unless ``row`` is a draft."""
    if row["status"] != "draft":
        label = "credit note" if row["kind"] == "credit_note" else "invoice"
        raise Conflict(
            f"{label} {row['number']} is {row['status']} and cannot be {action}: issued documents are final; "
            "correct an invoice with a credit note",
            code="invoice_frozen",
        )


def _check_version(row: dict[str, Any], expected_version: int | Collection[int] | None) -> None:
    if not version_matches(expected_version, row["version"]):
        raise PreconditionFailed(
            f"the draft is at version {row['version']}, not the one your If-Match names: someone changed it; reload it"
        )


def _active_client(cur: Cursor, member: Member, client_id: Any) -> dict[str, Any]:
    try:
        client = get_client(cur, member, client_id)
    except NotFound:
        raise Unprocessable("no such client", code="unknown_client", pointer="/client_id") from None
    if client["archived_at"] is not None:
        raise Unprocessable("the client is archived", code="client_archived", pointer="/client_id")
    return client


def _content(cur: Cursor, member: Member, fields: dict[str, Any]) -> dict[str, Any]:
    """Check a draft's fields; returns the column values to store."""
    unknown = sorted(set(fields) - set(DRAFT_FIELDS))
    if unknown:
        raise Unprocessable(f"unknown field {unknown[0]!r}", code="unknown_field", pointer=f"/{unknown[0]}")
    if fields.get("client_id") is None:
        raise Unprocessable("a draft needs a client", code="required", pointer="/client_id")
    client = _active_client(cur, member, fields["client_id"])
    currency = fields.get("currency") or client["currency"] or get_organisation(cur, member)["currency"]
    issue_date = _date(fields.get("issue_date"), "/issue_date")
    due_date = _date(fields.get("due_date"), "/due_date")
    lines, totals, ship_to = check_lines_and_terms(
        currency=currency,
        lines=fields.get("lines"),
        issue_date=issue_date,
        due_date=due_date,
        payment_terms=fields.get("payment_terms"),
        notes=fields.get("notes"),
        ship_to=fields.get("ship_to"),
        allowances=_jsonable(fields.get("allowances")) or None,
        charges=_jsonable(fields.get("charges")) or None,
        invoicing_period=_jsonable(fields.get("invoicing_period")),
    )
    return {
        "client_id": client["id"],
        "currency": currency,
        "issue_date": issue_date,
        "due_date": due_date,
        "payment_terms": fields.get("payment_terms"),
        "notes": fields.get("notes"),
        "lines": jsonb(lines),
        "ship_to": jsonb(ship_to) if ship_to is not None else None,
        "totals": jsonb(totals_json(totals)),
        "buyer_reference": _text(fields.get("buyer_reference")),
        "order_reference": _text(fields.get("order_reference")),
        "delivery_date": _date(fields.get("delivery_date"), "/delivery_date"),
        "invoicing_period": jsonb(_jsonable(fields.get("invoicing_period")))
        if fields.get("invoicing_period")
        else None,
        "allowances": jsonb(_jsonable(fields.get("allowances")) or []),
        "charges": jsonb(_jsonable(fields.get("charges")) or []),
    }


def _jsonable(value: Any) -> Any:
    """Dates and Decimals of a parsed body (or of a stored row) as the canonical format writes them."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _text(value: Any) -> str | None:
    """A stored optional text: stripped, empty as None."""
    return value.strip() or None if isinstance(value, str) else None


def create_draft(cur: Cursor, member: Member, fields: dict[str, Any], *, today: date | None = None) -> dict[str, Any]:
    """A new draft invoice from ``fields`` (:data:`DRAFT_FIELDS`): ``client_id``
    (required, an active client of the organisation), ``currency`` (default:
    the client's, else the organisation's), ``lines`` (canonical invoice
    lines; may be empty in a draft), optional ``issue_date``/``due_date``
    (YYYY-MM-DD), ``payment_terms``, ``notes``, ``ship_to``.

    Raises :class:`Forbidden` for a viewer and :class:`Unprocessable` with
    pointers for invalid content. Returns the invoice (:func:`invoice_view`)."""
    member.require_write()
    values = _content(cur, member, fields)
    columns = ", ".join(values)
    cur.execute(
        f"INSERT INTO invoices (organisation_id, created_by, {columns}) VALUES (%(org)s, %(by)s, "
        + ", ".join(f"%({key})s" for key in values)
        + ") RETURNING *",
        {**values, "org": member.organisation_id, "by": member.actor.user_id},
    )
    row = one_row(cur)
    events.record(
        cur,
        member,
        "invoice",
        row["id"],
        "invoice.created",
        {"invoice_id": row["id"], "client_id": row["client_id"], "currency": row["currency"], "gross": row["gross"]},
    )
    return invoice_view(row, today)


def update_draft(
    cur: Cursor,
    member: Member,
    invoice_id: Any,
    changes: dict[str, Any],
    expected_version: int | Collection[int] | None = None,
    *,
    today: date | None = None,
) -> dict[str, Any]:
    """Change some fields of a draft (None clears an optional field).

    Raises :class:`NotFound`, :class:`Conflict` (``invoice_frozen``) once
    issued, :class:`PreconditionFailed` when ``expected_version`` is given
    and is not the current version, :class:`Unprocessable` for bad content.
    The version goes up by one."""
    member.require_write()
    row = fetch(cur, member, invoice_id, lock=True)
    refuse_frozen(row, "edited")
    _check_version(row, expected_version)
    current = {key: row[key] for key in DRAFT_FIELDS}
    values = _content(cur, member, {**current, **changes})
    sets = ", ".join(f"{key} = %({key})s" for key in values)
    cur.execute(
        f"UPDATE invoices SET {sets}, version = version + 1, updated_at = now() WHERE id = %(id)s RETURNING *",
        {**values, "id": row["id"]},
    )
    updated = one_row(cur)
    events.record(
        cur,
        member,
        "invoice",
        row["id"],
        "invoice.updated",
        {"invoice_id": row["id"], "changed": sorted(changes), "version": updated["version"]},
    )
    return invoice_view(updated, today)


def delete_draft(
    cur: Cursor, member: Member, invoice_id: Any, expected_version: int | Collection[int] | None = None
) -> None:
    """Delete a draft; an order it was made from is open again. Raises
    :class:`Conflict` (``invoice_frozen``) for an issued invoice."""
    member.require_write()
    row = fetch(cur, member, invoice_id, lock=True)
    refuse_frozen(row, "deleted")
    _check_version(row, expected_version)
    cur.execute(
        "UPDATE orders SET status = 'open', invoice_id = NULL, updated_at = now() WHERE invoice_id = %s", (row["id"],)
    )
    cur.execute("DELETE FROM invoices WHERE id = %s", (row["id"],))
    events.record(cur, member, "invoice", row["id"], "invoice.deleted", {"invoice_id": row["id"]})


def terms_days(cur: Cursor, member: Member, client: dict[str, Any] | None) -> int:
    """The client's payment terms in days, else the organisation's."""
    if client is not None and client["payment_terms_days"] is not None:
        days: int = client["payment_terms_days"]
        return days
    default: int = get_organisation(cur, member)["payment_terms_days"]
    return default


def issue(
    cur: Cursor,
    member: Member,
    invoice_id: Any,
    *,
    issue_date: date | str | None = None,
    expected_version: int | Collection[int] | None = None,
    today: date | None = None,
    blobs: BlobStore | None = None,
) -> dict[str, Any]:
    """Issue a draft: number ``INV-<year>-<nnnn>`` (next of the series for
    the issue date's year, gapless), seller and buyer copied, dates set
    (issue date: the argument, else the draft's, else ``today``; due date:
    the draft's, else issue date + payment terms in days), totals
    recomputed, status ``issued``, content frozen.

    Raises :class:`Conflict` (``invoice_frozen``) if it is not a draft,
    :class:`Unprocessable` if it has no line (``no_lines``), its due date is
    before its issue date, its issue date is outside the window of
    :func:`invoicer.invoices.dates.check_issue_date` or before the last
    issued of its series and year (``invalid_date``, ``/issue_date``), or the organisation has no name
    (``seller_incomplete``), :class:`PreconditionFailed` for a stale version.
    The client's e-invoice choice is applied before the number is taken
    (:func:`invoicer.invoices.einvoicing.decide`): raises :class:`Unprocessable`
    (``e_invoice_incomplete``) when it asks for a profile the records cannot
    meet; the profile (or, for ``auto``, the missing terms) is stored.
    Emits ``invoice.issued``. With ``blobs`` (the service always passes its
    GridFS store) the PDF and XLSX are requested in the same transaction
    (:func:`invoicer.invoices.rendering.request_documents`; raises
    ``StorageUnavailable`` if GridFS is down, and nothing is issued)."""
    member.require_write()
    today = today or date.today()
    row = fetch(cur, member, invoice_id, lock=True)
    refuse_frozen(row, "issued again")
    _check_version(row, expected_version)
    if not row["lines"]:
        raise Unprocessable("an invoice needs at least one line before it is issued", code="no_lines", pointer="/lines")
    organisation = get_organisation(cur, member)
    if not organisation["name"]:
        raise Unprocessable(
            "set the organisation's name (the seller) before issuing invoices",
            code="seller_incomplete",
            pointer="/seller/name",
        )
    client = get_client(cur, member, row["client_id"])
    when = check_issue_date(_date(issue_date, "/issue_date") or row["issue_date"] or today, today)
    due = row["due_date"] or due_after(when, terms_days(cur, member, client))
    lines, totals, _ = check_lines_and_terms(
        currency=row["currency"],
        lines=row["lines"],
        issue_date=when,
        due_date=due,
        allowances=row["allowances"] or None,
        charges=row["charges"] or None,
        invoicing_period=row["invoicing_period"],
    )
    buyer = {key: client[key] for key in PARTY_FIELDS if client.get(key)}
    seller = seller_party(organisation)
    buyer_reference = row["buyer_reference"] or client.get("buyer_reference")
    # Which e-invoice, decided before a number is taken: a client that asks for a
    # profile the records cannot meet is refused here, and no number is used up.
    profile, warnings = einvoicing.decide(
        rendering.canonical_document(
            {
                **row,
                "number": "UNNUMBERED",
                "issue_date": when,
                "due_date": due,
                "seller": seller,
                "buyer": buyer,
                "lines": lines,
                "buyer_reference": buyer_reference,
            }
        ),
        client.get("e_invoice") or "auto",
    )
    number = next_number(cur, member.organisation_id, INVOICE_SERIES, when.year)
    check_in_sequence(cur, member.organisation_id, INVOICE_SERIES, when, number)
    payment_reference = creditor_reference(number) if organisation.get("payment_reference") == "rf" else number
    cur.execute(
        "UPDATE invoices SET status = 'issued', series = %s, number = %s, issue_date = %s, due_date = %s,"
        " seller = %s, buyer = %s, lines = %s, totals = %s, buyer_reference = %s, e_invoice = %s,"
        " e_invoice_warnings = %s, payment_reference = %s, issued_at = now(), updated_at = now(),"
        " version = version + 1 WHERE id = %s RETURNING *",
        (
            INVOICE_SERIES,
            number,
            when,
            due,
            jsonb(seller),
            jsonb(buyer),
            jsonb(lines),
            jsonb(totals_json(totals)),
            buyer_reference,
            profile,
            jsonb(warnings) if warnings else None,
            payment_reference,
            row["id"],
        ),
    )
    issued = one_row(cur)
    events.record(
        cur,
        member,
        "invoice",
        row["id"],
        "invoice.issued",
        {
            "invoice_id": row["id"],
            "number": number,
            "issue_date": when,
            "due_date": due,
            "currency": issued["currency"],
            "gross": issued["gross"],
        },
    )
    if blobs is not None:
        rendering.request_documents(cur, blobs, member, row["id"])
        issued = fetch(cur, member, row["id"])
    return invoice_view(issued, today)


def mark_sent(cur: Cursor, member: Member, invoice_id: Any, *, today: date | None = None) -> dict[str, Any]:
    """Record that the invoice went to the client: an ``issued`` invoice
    becomes ``sent``; a later status stays; ``sent_at`` is set each time.
    Raises :class:`Conflict` (``not_issued``) for a draft. Emits ``invoice.sent``."""
    member.require_write()
    row = fetch(cur, member, invoice_id, lock=True)
    if row["status"] == "draft":
        raise Conflict("a draft cannot be sent; issue it first", code="not_issued")
    cur.execute(
        "UPDATE invoices SET status = CASE WHEN status = 'issued' THEN 'sent' ELSE status END,"
        " sent_at = now(), updated_at = now(), version = version + 1 WHERE id = %s RETURNING *",
        (row["id"],),
    )
    sent = one_row(cur)
    events.record(cur, member, "invoice", row["id"], "invoice.sent", {"invoice_id": row["id"], "number": row["number"]})
    return invoice_view(sent, today)


def send(
    cur: Cursor, member: Member, invoice_id: Any, *, blobs: BlobStore | None = None, today: date | None = None
) -> dict[str, Any]:
    """Send an issued invoice to its client: :func:`mark_sent` (status
    ``sent``, ``invoice.sent``) plus, in the same transaction, the
    ``invoice.mail`` command that has the notification service mail it with
    its kept PDF attached to the client's e-mail address (the client's
    current one, else the buyer's on the invoice). The mail names the
    seller, the number, the amount due (balance due now) and the due date.
    Sending again mails again.

    Raises :class:`Conflict` (``not_issued``) for a draft, (``not_sendable``)
    for a credit note, (``no_documents``) when its documents were never
    requested and no ``blobs`` is given to request them now;
    :class:`Unprocessable` (``no_recipient``) when there is no address."""
    member.require_write()
    row = fetch(cur, member, invoice_id, lock=True)
    if row["status"] == "draft":
        raise Conflict("a draft cannot be sent; issue it first", code="not_issued")
    if row["kind"] != "invoice":
        raise Conflict("a credit note is not mailed on its own", code="not_sendable")
    client = get_client(cur, member, row["client_id"]) if row["client_id"] is not None else None
    recipient = (client or {}).get("email") or (row["buyer"] or {}).get("email")
    if not recipient:
        raise Unprocessable(
            "the client has no e-mail address; add one to the client first", code="no_recipient", pointer="/email"
        )
    if row["render_job_id"] is None:
        if blobs is None:
            raise Conflict("the invoice has no kept documents to attach", code="no_documents")
        rendering.request_documents(cur, blobs, member, row["id"])
    sent = mark_sent(cur, member, row["id"], today=today)
    rendering.mail_command(cur, member, sent, recipient)
    return sent


def settled_status(row: dict[str, Any], *, fully_credited: bool) -> str:
    """The status after a payment or a credit note changed ``row``'s
    ``amount_paid``/``amount_credited``: ``credited`` when every line is
    fully credited, else ``paid`` when nothing is left to pay, else
    ``partially_paid`` after a payment, else the issued/sent status as was."""
    balance = Decimal(row["gross"]) - Decimal(row["amount_paid"]) - Decimal(row["amount_credited"])
    if fully_credited:
        return "credited"
    if balance <= 0:
        return "paid"
    if Decimal(row["amount_paid"]) > 0:
        return "partially_paid"
    return "sent" if row["sent_at"] is not None else "issued"
