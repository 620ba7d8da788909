"""Orders: what a client ordered, open until it is invoiced.

``open --invoice_order--> invoiced``: :func:`invoice_order` makes a draft
invoice from the order's lines (the draft is then edited and issued like any
other); deleting that draft makes the order open again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from invoicer.common.db import Cursor, one_row

from . import events
from ._sql import as_uuid, jsonb
from .documents import check_lines_and_terms
from .errors import Conflict, NotFound, Unprocessable
from .identity import Member
from .invoices import _active_client, create_draft
from .organisations import get_organisation

__all__ = ["create_order", "get_order", "invoice_order", "list_orders"]

_COLUMNS = "id, client_id, currency, lines, notes, status, invoice_id, created_by, created_at, updated_at"


def create_order(cur: Cursor, member: Member, fields: dict[str, Any]) -> dict[str, Any]:
    """A new open order: ``client_id`` (an active client), ``lines``
    (canonical invoice lines, at least one), ``currency`` (default: the
    client's, else the organisation's), ``notes``. Raises
    :class:`Unprocessable` with pointers, :class:`Forbidden` for a viewer."""
    member.require_write()
    unknown = sorted(set(fields) - {"client_id", "lines", "currency", "notes"})
    if unknown:
        raise Unprocessable(f"unknown field {unknown[0]!r}", code="unknown_field", pointer=f"/{unknown[0]}")
    if fields.get("client_id") is None:
        raise Unprocessable("an order needs a client", code="required", pointer="/client_id")
    client = _active_client(cur, member, fields["client_id"])
    currency = fields.get("currency") or client["currency"] or get_organisation(cur, member)["currency"]
    if not fields.get("lines"):
        raise Unprocessable("an order needs at least one line", code="no_lines", pointer="/lines")
    lines, totals, _ = check_lines_and_terms(currency=currency, lines=fields["lines"], notes=fields.get("notes"))
    cur.execute(
        f"INSERT INTO orders (organisation_id, client_id, currency, lines, notes, created_by)"
        f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
        (member.organisation_id, client["id"], currency, jsonb(lines), fields.get("notes"), member.actor.user_id),
    )
    order = one_row(cur)
    events.record(
        cur,
        member,
        "order",
        order["id"],
        "order.created",
        {"order_id": order["id"], "client_id": client["id"], "currency": currency, "net": totals.net},
    )
    return order


def get_order(cur: Cursor, member: Member, order_id: Any, *, lock: bool = False) -> dict[str, Any]:
    """One order of the member's organisation; :class:`NotFound` otherwise."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM orders WHERE id = %s AND organisation_id = %s" + (" FOR UPDATE" if lock else ""),
        (as_uuid(order_id), member.organisation_id),
    )
    row = cur.fetchone()
    if row is None:
        raise NotFound("no such order", code="order_not_found")
    return dict(row)


def list_orders(cur: Cursor, member: Member, *, status: str | None = None) -> list[dict[str, Any]]:
    """The organisation's orders, newest first, optionally of one status (open, invoiced)."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM orders WHERE organisation_id = %s AND (%s::text IS NULL OR status = %s)"
        " ORDER BY created_at DESC, id",
        (member.organisation_id, status, status),
    )
    return [dict(row) for row in cur.fetchall()]


def invoice_order(cur: Cursor, member: Member, order_id: Any, *, today: date | None = None) -> dict[str, Any]:
    """Make a draft invoice from an open order's client, currency, lines and
    notes; the order becomes ``invoiced`` and points at the draft. Returns
    ``{"order": ..., "invoice": draft view}``. Raises :class:`Conflict`
    (``order_invoiced``) if it was invoiced already."""
    member.require_write()
    order = get_order(cur, member, order_id, lock=True)
    if order["status"] != "open":
        raise Conflict("the order has been invoiced already", code="order_invoiced")
    draft = create_draft(
        cur,
        member,
        {
            "client_id": order["client_id"],
            "currency": order["currency"],
            "lines": order["lines"],
            "notes": order["notes"],
        },
        today=today,
    )
    cur.execute(
        f"UPDATE orders SET status = 'invoiced', invoice_id = %s, updated_at = now() WHERE id = %s"
        f" RETURNING {_COLUMNS}",
        (draft["id"], order["id"]),
    )
    updated = one_row(cur)
    events.record(
        cur, member, "order", order["id"], "order.invoiced", {"order_id": order["id"], "invoice_id": draft["id"]}
    )
    return {"order": updated, "invoice": draft}
