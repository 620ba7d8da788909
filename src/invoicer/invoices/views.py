"""What the invoices service's HTTP API answers: domain rows turned into the
Read models of :mod:`invoicer.invoices.models` (whose JSON Schemas are the
OpenAPI component schemas, :mod:`invoicer.invoices.contract`). Routes send
``model_dump(mode="json")`` of them (:func:`dump`).

Money is a decimal string rounded to the currency's minor unit, dates are
``YYYY-MM-DD``, moments ISO 8601 UTC with milliseconds (``...Z``), ids
strings. Nothing here speaks HTTP; the reads it needs beyond the domain
modules (payments and credit notes of one invoice) take the request's cursor
and member like every domain function.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from invoicer.common.db import Cursor
from invoicer.invoice import formats as registry
from invoicer.invoice.model import quantize_money

from .actions import allowed_actions
from .clients import get_client
from .documents import PARTY_FIELDS, structured_party
from .identity import Member
from .models import (
    ClientRead,
    DashboardRead,
    EventRead,
    InvoiceRead,
    InvoiceSummary,
    MemberRead,
    OrderRead,
    OrganisationRead,
    PaymentRead,
)
from .organisations import get_organisation, seller_party
from .payments import list_payments
from .refunds import list_refunds, refund_due

__all__ = [
    "client_view",
    "dashboard_view",
    "dump",
    "event_view",
    "invoice_detail",
    "invoice_summary",
    "jsonable",
    "member_view",
    "order_view",
    "organisation_view",
    "payment_view",
]


def dump(model: BaseModel) -> dict[str, Any]:
    """``model`` as the JSON object the API answers (aliases as field names)."""
    return model.model_dump(mode="json", by_alias=True)


def jsonable(value: Any) -> Any:
    """``value`` with every Decimal, UUID, date and datetime turned into a
    string (recursively through dicts, lists and tuples), ready for JSON:
    dates ``YYYY-MM-DD``, datetimes UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, (Decimal, uuid.UUID, date)):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


def organisation_view(row: dict[str, Any]) -> OrganisationRead:
    """The organisation profile: ``id``, the seller fields (``name``,
    ``company``, ``address``, ``vat_id``, ``email``, ``phone``,
    ``bank_details``), ``currency``, ``locale``, ``payment_terms_days``,
    ``has_logo`` (``GET /organisation/logo``), ``version``, ``created_at``, ``updated_at``."""
    keys = (
        "id",
        *PARTY_FIELDS,
        "bank_details",
        "currency",
        "locale",
        "payment_terms_days",
        "payment_reference",
        "version",
        "created_at",
        "updated_at",
    )
    fields = {key: row.get(key) for key in keys}
    fields["has_logo"] = bool(row.get("has_logo"))
    organisation: OrganisationRead = OrganisationRead.model_validate(fields)
    return organisation


def member_view(row: dict[str, Any]) -> MemberRead:
    """A membership: ``id``, ``email``, ``role``, ``user_id`` (null while
    invited), ``status`` (``invited`` or ``active``), ``created_at``, ``joined_at``."""
    return MemberRead.model_validate(
        {
            "id": row["id"],
            "email": row["email"],
            "role": row["role"],
            "user_id": row.get("user_id"),
            "status": "active" if row.get("user_id") else "invited",
            "created_at": row.get("created_at"),
            "joined_at": row.get("joined_at"),
            "expires_at": row.get("expires_at"),
        }
    )


def client_view(row: dict[str, Any]) -> ClientRead:
    """A client: ``id``, the canonical buyer fields, ``currency``,
    ``payment_terms_days``, ``archived`` (bool), ``archived_at``,
    ``version``, ``created_at``, ``updated_at``."""
    view = {"id": row["id"], **{key: row.get(key) for key in PARTY_FIELDS}}
    view.update(
        currency=row.get("currency"),
        payment_terms_days=row.get("payment_terms_days"),
        buyer_reference=row.get("buyer_reference"),
        locale=row.get("locale"),
        e_invoice=row.get("e_invoice") or "auto",
        archived=row.get("archived_at") is not None,
        archived_at=row.get("archived_at"),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
    client: ClientRead = ClientRead.model_validate(view)
    return client


def _totals(view: dict[str, Any]) -> dict[str, Any]:
    """``{currency, net, tax, gross, paid, credited, balance_due, refunded,
    refund_due}`` (EN 16931 BT-109, BT-110, BT-112; paid, credited and the
    balance due BT-115 as kept by the payments and credit notes, never below
    0; refunded and refund due: :mod:`invoicer.invoices.refunds`). A credit
    note has nothing to pay."""
    currency = view["currency"]
    stored = view.get("totals") or {}

    def money(value: Any) -> str:
        return str(quantize_money(Decimal(value if value is not None else 0), currency))

    note = view["kind"] == "credit_note"
    return {
        "currency": currency,
        "net": money(stored.get("net")),
        "tax": money(stored.get("tax")),
        "gross": money(view["gross"]),
        "paid": money(0 if note else view["amount_paid"]),
        "credited": money(0 if note else view["amount_credited"]),
        # What the client owes, never below 0: money owed to the client is the refund due.
        "balance_due": money(0 if note else max(Decimal(view["balance_due"] or 0), Decimal(0))),
        "refunded": money(0 if note else view.get("amount_refunded")),
        "refund_due": money(refund_due(view)),
    }


def invoice_summary(view: dict[str, Any]) -> InvoiceSummary:
    """A list item: ``id``, ``kind``, ``status``, ``overdue``, ``number``,
    ``series``, ``client_id``, ``client_name``, ``currency``, ``issue_date``,
    ``due_date``, ``totals``, ``created_at``, ``issued_at``. ``view`` is
    :func:`invoicer.invoices.invoices.invoice_view`'s dict."""
    return InvoiceSummary.model_validate(
        {
            "id": view["id"],
            "kind": view["kind"],
            "status": view["status"],
            "overdue": view["overdue"],
            "number": view["number"],
            "series": view["series"],
            "client_id": view["client_id"],
            "client_name": view.get("client_name") or (view.get("buyer") or {}).get("name"),
            "currency": view["currency"],
            "issue_date": view["issue_date"],
            "due_date": view["due_date"],
            "totals": _totals(view),
            "created_at": view["created_at"],
            "issued_at": view["issued_at"],
        }
    )


def _credit_notes(cur: Cursor, member: Member, invoice_id: Any) -> list[dict[str, Any]]:
    cur.execute(
        "SELECT id, number, issue_date, gross, currency, reason, credits, issued_at FROM invoices"
        " WHERE organisation_id = %s AND corrects_invoice_id = %s AND kind = 'credit_note' ORDER BY issued_at, number",
        (member.organisation_id, invoice_id),
    )
    rows = [dict(row) for row in cur.fetchall()]
    return [
        {
            "id": row["id"],
            "number": row["number"],
            "issue_date": row["issue_date"],
            "gross": quantize_money(Decimal(row["gross"]), row["currency"]),
            "reason": row["reason"],
            "lines": row["credits"],
            "issued_at": row["issued_at"],
        }
        for row in rows
    ]


def _parties(cur: Cursor, member: Member, view: dict[str, Any]) -> tuple[Any, Any]:
    """Seller and buyer: copied at issue; for a draft, what issuing would copy now."""
    if view["status"] != "draft":
        return view["seller"], view["buyer"]
    seller = seller_party(get_organisation(cur, member))
    client = get_client(cur, member, view["client_id"]) if view["client_id"] else None
    buyer = {key: client[key] for key in PARTY_FIELDS if client and client.get(key)} if client else None
    return seller, buyer


#: The render job's status as a kept file's.
_FILE_STATUS = {"queued": "rendering", "processing": "rendering", "done": "ready", "failed": "failed"}


def _files(cur: Cursor, view: dict[str, Any], public_url: str) -> list[dict[str, Any]]:
    """The kept documents of an issued record: ``[{"format", "media_type",
    "status" (rendering, ready, failed), "url"}]``; none for a draft (its
    preview is at the same URLs)."""
    if view["status"] == "draft" or view.get("render_job_id") is None:
        return []
    cur.execute("SELECT status, formats FROM jobs WHERE id = %s", (view["render_job_id"],))
    job = cur.fetchone()
    status = _FILE_STATUS.get(dict(job)["status"], "rendering") if job else "rendering"
    # The formats this record keeps (its render job's), in registry order; a Factur-X
    # record's PDF is its Factur-X PDF/A-3, listed and served as "pdf".
    kept = set(dict(job)["formats"]) if job else set(registry.kept_names())
    if "facturx" in kept:
        kept = (kept - {"facturx"}) | {"pdf"}
    return [
        {
            "format": fmt,
            "media_type": registry.get(fmt).media_type,
            "status": status,
            "url": f"{public_url.rstrip('/')}/invoices/{view['id']}/{fmt}",
        }
        for fmt in registry.names()
        if fmt in kept
    ]


def invoice_detail(cur: Cursor, member: Member, view: dict[str, Any], public_url: str = "") -> InvoiceRead:
    """One invoice or credit note as the API reads it: the canonical input's
    fields (``issue_date``, ``due_date``, ``currency``, ``seller``,
    ``buyer``, ``ship_to``, ``lines``, ``payment_terms``, ``notes``) plus
    ``id``, ``kind``, ``status``, ``overdue``, ``number``, ``series``,
    ``client_id``, ``totals`` (see :func:`_totals`), ``payments``
    (``[{id, amount, date, method, reference, created_at}]``),
    ``credit_notes`` (``[{id, number, issue_date, gross, reason, lines, issued_at}]``),
    ``files`` (see :func:`_files`; links under ``public_url``),
    ``actions`` (:func:`invoicer.invoices.actions.allowed_actions`),
    ``corrects_invoice_id`` and ``reason`` (credit notes), ``version``,
    ``created_at``, ``updated_at``, ``issued_at``, ``sent_at``."""
    seller, buyer = _parties(cur, member, view)
    payments = list_payments(cur, member, view["id"]) if view["kind"] == "invoice" else []
    detail = {
        "id": view["id"],
        "kind": view["kind"],
        "status": view["status"],
        "overdue": view["overdue"],
        "number": view["number"],
        "series": view["series"],
        "client_id": view["client_id"],
        "issue_date": view["issue_date"],
        "due_date": view["due_date"],
        "currency": view["currency"],
        "seller": structured_party(seller),
        "buyer": structured_party(buyer),
        "ship_to": structured_party(view["ship_to"]),
        "lines": view["lines"],
        "payment_terms": view["payment_terms"],
        "notes": view["notes"],
        "buyer_reference": view.get("buyer_reference"),
        "payment_reference": view.get("payment_reference"),
        "order_reference": view.get("order_reference"),
        "invoicing_period": view.get("invoicing_period"),
        "allowances": view.get("allowances") or [],
        "charges": view.get("charges") or [],
        "delivery_date": view.get("delivery_date"),
        "e_invoice": (
            {"profile": view.get("e_invoice"), "warnings": view.get("e_invoice_warnings") or []}
            if view["status"] != "draft"
            else None
        ),
        "totals": _totals(view),
        "payments": [
            {key: payment[key] for key in ("id", "amount", "date", "method", "reference", "created_at")}
            for payment in payments
        ],
        "refunds": [
            {key: refund[key] for key in ("id", "amount", "date", "method", "reference", "created_at")}
            for refund in (list_refunds(cur, member, view["id"]) if view["kind"] == "invoice" else [])
        ],
        "credit_notes": _credit_notes(cur, member, view["id"]) if view["kind"] == "invoice" else [],
        "files": _files(cur, view, public_url),
        "actions": allowed_actions(view, member),  # what member may do now (invoicer.invoices.actions)
        "corrects_invoice_id": view["corrects_invoice_id"],
        "reason": view["reason"],
        "version": view["version"],
        "created_at": view["created_at"],
        "updated_at": view["updated_at"],
        "issued_at": view["issued_at"],
        "sent_at": view["sent_at"],
    }
    return InvoiceRead.model_validate(detail)


def payment_view(row: dict[str, Any]) -> PaymentRead:
    """A payment: ``id``, ``amount``, ``date``, ``method``, ``reference``, ``created_at``."""
    return PaymentRead.model_validate(row)


def event_view(row: dict[str, Any]) -> EventRead:
    """An activity log entry (:func:`invoicer.invoices.events.activity`); ``data`` as JSON values."""
    return EventRead.model_validate({**row, "data": jsonable(row["data"])})


def dashboard_view(figures: dict[str, Any], refunds_due: dict[str, Any] | None = None) -> DashboardRead:
    """The figures of :func:`invoicer.invoices.queries.dashboard`, with each
    currency's ``refunds_due`` from ``refunds_due`` (currency -> amount,
    :func:`invoicer.invoices.refunds.refunds_due_by_currency`; 0 where absent)."""
    due = refunds_due or {}
    currencies = {
        currency: {**values, "refunds_due": quantize_money(Decimal(due.get(currency, 0)), currency)}
        for currency, values in figures["currencies"].items()
    }
    return DashboardRead.model_validate({**figures, "currencies": currencies})


def order_view(row: dict[str, Any]) -> OrderRead:
    """An order: ``id``, ``client_id``, ``currency``, ``lines``, ``notes``,
    ``status`` (``open`` or ``invoiced``), ``invoice_id``, ``created_at``, ``updated_at``."""
    keys = ("id", "client_id", "currency", "lines", "notes", "status", "invoice_id", "created_at", "updated_at")
    return OrderRead.model_validate({key: row.get(key) for key in keys})
