"""Read models: the invoice list and the dashboard.

``overdue`` is derived here as everywhere (an invoice in issued, sent or
partially_paid with a balance due > 0 and a due date before ``today``); it
is never stored. ``today`` is injectable so tests can fix the calendar.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from invoicer.common.db import Cursor, one_row
from invoicer.invoice.model import quantize_money

from ._sql import as_uuid
from .errors import Unprocessable
from .identity import Member
from .invoices import _date, invoice_view

__all__ = ["AGEING_BUCKETS", "SORTS", "STATUSES", "dashboard", "list_invoices"]

#: Stored statuses, and ``overdue`` (derived) last.
STATUSES = ("draft", "issued", "sent", "partially_paid", "paid", "credited", "overdue")
#: Sort keys of :func:`list_invoices` and their columns.
SORTS = {
    "issue_date": "i.issue_date",
    "due_date": "i.due_date",
    "number": "i.number",
    "created_at": "i.created_at",
    "gross": "i.gross",
}
#: Ageing of unpaid balances by days past the due date.
AGEING_BUCKETS = ("not_due", "1_30", "31_60", "61_90", "over_90")

_OPEN = "i.status IN ('issued', 'sent', 'partially_paid')"
_OVERDUE = f"(i.kind = 'invoice' AND {_OPEN} AND i.balance_due > 0 AND i.due_date < %(today)s)"


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_invoices(
    cur: Cursor,
    member: Member,
    *,
    status: str | None = None,
    client_id: Any = None,
    issued_from: date | str | None = None,
    issued_to: date | str | None = None,
    q: str | None = None,
    kind: str | None = None,
    sort: str = "created_at",
    order: str = "desc",
    page: int = 1,
    per_page: int = 25,
    today: date | None = None,
) -> dict[str, Any]:
    """One page of the organisation's invoices and credit notes.

    Filters: ``status`` (a stored status, which includes overdue ones, or
    ``overdue``), ``client_id``, ``issued_from``/``issued_to`` (issue date,
    inclusive), ``q`` (number or client name, case-insensitive substring),
    ``kind`` (invoice, credit_note). ``sort`` is one of :data:`SORTS`,
    ``order`` asc or desc (ties broken by id); ``page`` from 1, ``per_page``
    1-200. Returns ``{"items": [invoice_view + "client_name"], "total": n,
    "page", "per_page"}``. Raises :class:`Unprocessable` (``invalid_query``,
    pointer naming the parameter) for an unknown value.
    """
    today = today or date.today()

    def bad(name: str, message: str) -> Unprocessable:
        return Unprocessable(message, code="invalid_query", pointer=f"/{name}")

    if sort not in SORTS:
        raise bad("sort", f"sort must be one of {', '.join(SORTS)}")
    if order not in ("asc", "desc"):
        raise bad("order", "order must be asc or desc")
    if status is not None and status not in STATUSES:
        raise bad("status", f"status must be one of {', '.join(STATUSES)}")
    if kind is not None and kind not in ("invoice", "credit_note"):
        raise bad("kind", "kind must be invoice or credit_note")
    try:
        page, per_page = int(page), int(per_page)
    except (TypeError, ValueError):
        raise bad("page", "page and per_page must be whole numbers") from None
    if page < 1 or not 1 <= per_page <= 200:
        raise bad("per_page" if page >= 1 else "page", "page starts at 1; per_page is 1 to 200")

    where = ["i.organisation_id = %(org)s"]
    params: dict[str, Any] = {"org": member.organisation_id, "today": today}
    if status == "overdue":
        where.append(_OVERDUE)
    elif status is not None:
        where.append("i.status = %(status)s")
        params["status"] = status
    if kind is not None:
        where.append("i.kind = %(kind)s")
        params["kind"] = kind
    if client_id is not None:
        where.append("i.client_id = %(client)s")
        params["client"] = as_uuid(client_id)
    if issued_from is not None:
        where.append("i.issue_date >= %(from)s")
        params["from"] = _date(issued_from, "/issued_from")
    if issued_to is not None:
        where.append("i.issue_date <= %(to)s")
        params["to"] = _date(issued_to, "/issued_to")
    if q:
        where.append(
            "(i.number ILIKE %(q)s OR i.buyer ->> 'name' ILIKE %(q)s OR i.buyer ->> 'company' ILIKE %(q)s"
            " OR c.name ILIKE %(q)s OR c.company ILIKE %(q)s)"
        )
        params["q"] = _like(q)
    condition = " AND ".join(where)
    source = "invoices i LEFT JOIN clients c ON c.id = i.client_id"
    cur.execute(f"SELECT count(*) AS n FROM {source} WHERE {condition}", params)
    total = one_row(cur)["n"]
    direction = "ASC" if order == "asc" else "DESC"
    params.update(limit=per_page, offset=(page - 1) * per_page)
    cur.execute(
        f"SELECT i.*, COALESCE(i.buyer ->> 'name', c.name) AS client_name FROM {source} WHERE {condition}"
        f" ORDER BY {SORTS[sort]} {direction} NULLS LAST, i.id {direction} LIMIT %(limit)s OFFSET %(offset)s",
        params,
    )
    items = [invoice_view(dict(row), today) for row in cur.fetchall()]
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def dashboard(cur: Cursor, member: Member, *, today: date | None = None) -> dict[str, Any]:
    """The organisation's figures per currency (invoices only; credit notes
    count through the invoices they reduce)::

        {"today": date, "currencies": {"EUR": {
            "outstanding": Decimal,        # sum of balance due of issued, sent, partially_paid
            "overdue": Decimal,            # the part of it past its due date
            "paid_last_30_days": Decimal,  # payments dated today-29 .. today
            "counts": {status: n},         # every status of STATUSES; an overdue invoice counts only as overdue
            "ageing": {"not_due", "1_30", "31_60", "61_90", "over_90": Decimal},  # unpaid balance by days overdue
        }}}

    Amounts are rounded to the currency's minor unit.
    """
    today = today or date.today()
    params = {"org": member.organisation_id, "today": today, "since": today - timedelta(days=29)}
    cur.execute(
        f"""
        SELECT i.currency,
               sum(i.balance_due) FILTER (WHERE {_OPEN}) AS outstanding,
               sum(i.balance_due) FILTER (WHERE {_OVERDUE}) AS overdue,
               sum(i.balance_due) FILTER (WHERE {_OPEN} AND i.balance_due > 0
                                          AND (i.due_date IS NULL OR i.due_date >= %(today)s)) AS not_due,
               sum(i.balance_due) FILTER (WHERE {_OVERDUE} AND %(today)s - i.due_date BETWEEN 1 AND 30) AS "1_30",
               sum(i.balance_due) FILTER (WHERE {_OVERDUE} AND %(today)s - i.due_date BETWEEN 31 AND 60) AS "31_60",
               sum(i.balance_due) FILTER (WHERE {_OVERDUE} AND %(today)s - i.due_date BETWEEN 61 AND 90) AS "61_90",
               sum(i.balance_due) FILTER (WHERE {_OVERDUE} AND %(today)s - i.due_date > 90) AS over_90
          FROM invoices i
         WHERE i.organisation_id = %(org)s AND i.kind = 'invoice'
         GROUP BY i.currency
        """,
        params,
    )
    sums: dict[str, dict[str, Any]] = {row["currency"]: row for row in cur.fetchall()}
    cur.execute(
        f"""
        SELECT i.currency, CASE WHEN {_OVERDUE} THEN 'overdue' ELSE i.status END AS status, count(*) AS n
          FROM invoices i
         WHERE i.organisation_id = %(org)s AND i.kind = 'invoice'
         GROUP BY 1, 2
        """,
        params,
    )
    counts: dict[str, dict[str, int]] = {}
    for row in cur.fetchall():
        counts.setdefault(row["currency"], dict.fromkeys(STATUSES, 0))[row["status"]] = row["n"]
    cur.execute(
        """
        SELECT i.currency, sum(p.amount) AS paid
          FROM payments p JOIN invoices i ON i.id = p.invoice_id
         WHERE p.organisation_id = %(org)s AND p.date BETWEEN %(since)s AND %(today)s
         GROUP BY i.currency
        """,
        params,
    )
    paid = {row["currency"]: row["paid"] for row in cur.fetchall()}

    def money(value: Any, currency: str) -> Decimal:
        return quantize_money(Decimal(value or 0), currency)

    figures = {}
    for currency in sorted(set(sums) | set(paid) | set(counts)):
        sum_row = sums.get(currency, {})
        figures[currency] = {
            "outstanding": money(sum_row.get("outstanding"), currency),
            "overdue": money(sum_row.get("overdue"), currency),
            "paid_last_30_days": money(paid.get(currency), currency),
            "counts": counts.get(currency, dict.fromkeys(STATUSES, 0)),
            "ageing": {bucket: money(sum_row.get(bucket), currency) for bucket in AGEING_BUCKETS},
        }
    return {"today": today, "currencies": figures}
