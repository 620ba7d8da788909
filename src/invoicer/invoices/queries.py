"""Read models: the invoice list and the dashboard.

``overdue`` is derived here as everywhere (an invoice in issued, sent or
partially_paid with a balance due > 0 and a due date before ``today``); it
is never stored. ``today`` is injectable so tests can fix the calendar.

Neither grows with an organisation's history (issue 21; migration
``0006_records_at_scale.sql``): lists walk an index per sort key from a
keyset cursor and count at most :data:`COUNT_CAP` rows; the dashboard reads
open invoices through a partial index and everything else (counts by status,
the monthly series) from ``invoice_summary``, which the database's own
triggers keep in step with the invoices in the same transaction.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from invoicer.common.db import Cursor, one_row
from invoicer.invoice.model import quantize_money

from ._sql import as_uuid
from .errors import Unprocessable
from .identity import Member
from .invoices import _date, invoice_view

__all__ = [
    "AGEING_BUCKETS",
    "COUNT_CAP",
    "SORTS",
    "STATUSES",
    "dashboard",
    "list_invoices",
    "rebuild_summary",
    "summary_differences",
]

#: Stored statuses, and ``overdue`` (derived) last.
STATUSES = ("draft", "issued", "sent", "partially_paid", "paid", "credited", "overdue")
#: Sort keys of :func:`list_invoices`: the column, whether it may be NULL (drafts
#: have no number and may have no dates; they come last both ways), the value a
#: NULL stands for in the index, and the SQL type of a cursor's value.
SORTS: dict[str, tuple[str, bool, str, str]] = {
    "issue_date": ("i.issue_date", True, "'-infinity'::date", "date"),
    "due_date": ("i.due_date", True, "'-infinity'::date", "date"),
    "number": ("i.number", True, "''", "text"),
    "created_at": ("i.created_at", False, "", "timestamptz"),
    "gross": ("i.gross", False, "", "numeric"),
}
#: Lists count exactly up to this many rows, then say "more than" (``total_exact`` false).
COUNT_CAP = 10_000
#: Ageing of unpaid balances by days past the due date.
AGEING_BUCKETS = ("not_due", "1_30", "31_60", "61_90", "over_90")

_OPEN = "i.status IN ('issued', 'sent', 'partially_paid')"
_OVERDUE = f"(i.kind = 'invoice' AND {_OPEN} AND i.balance_due > 0 AND i.due_date < %(today)s)"


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _sort_columns(sort: str, order: str) -> list[tuple[str, str]]:
    """The row value a list is ordered by, as ``[(expression, SQL type)]``,
    matching one index of migration 0006: ``(key IS NULL, COALESCE(key, z), id)``
    ascending, ``(key IS NOT NULL, COALESCE(key, z), id)`` descending, so NULLs
    come last both ways and no part of a position is NULL."""
    column, nullable, stand_in, sql_type = SORTS[sort]
    if not nullable:
        return [(column, sql_type), ("i.id", "uuid")]
    lead = f"({column} IS NULL)" if order == "asc" else f"({column} IS NOT NULL)"
    return [(lead, "boolean"), (f"COALESCE({column}, {stand_in})", sql_type), ("i.id", "uuid")]


def _encode_cursor(sort: str, order: str, direction: str, key: list[Any]) -> str:
    def text(value: Any) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        return str(value)

    raw = json.dumps({"s": sort, "o": order, "d": direction, "k": [text(v) for v in key]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, order: str) -> tuple[str, list[Any]]:
    """``(direction, key)`` of a cursor made by :func:`_encode_cursor` for this
    sort and order; :class:`Unprocessable` at ``/cursor`` otherwise."""
    problem = Unprocessable(
        "cursor is not one this list handed out for this sort and order", code="invalid_cursor", pointer="/cursor"
    )
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise problem from None
    columns = _sort_columns(sort, order)
    if (
        not isinstance(data, dict)
        or data.get("s") != sort
        or data.get("o") != order
        or data.get("d") not in ("next", "prev")
        or not isinstance(data.get("k"), list)
        or len(data["k"]) != len(columns)
    ):
        raise problem
    key: list[Any] = data["k"]
    try:  # a value the database would refuse to cast is the client's error, not a 500
        for value, (_, sql_type) in zip(key, columns, strict=True):
            if sql_type == "boolean":
                if not isinstance(value, bool):
                    raise ValueError(value)
            elif not isinstance(value, str):
                raise ValueError(value)
            elif sql_type == "date" and value != "-infinity":
                date.fromisoformat(value)
            elif sql_type == "timestamptz":
                datetime.fromisoformat(value)
            elif sql_type == "numeric":
                Decimal(value)
            elif sql_type == "uuid" and as_uuid(value) is None:
                raise ValueError(value)
    except (ValueError, ArithmeticError):
        raise problem from None
    return data["d"], key


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
    cursor: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """One page of the organisation's invoices and credit notes.

    Filters: ``status`` (a stored status, which includes overdue ones, or
    ``overdue``), ``client_id``, ``issued_from``/``issued_to`` (issue date,
    inclusive), ``q`` (number or client name, case-insensitive substring,
    served by trigram indexes), ``kind`` (invoice, credit_note). ``sort`` is
    one of :data:`SORTS`, ``order`` asc or desc (ties broken by id; drafts
    without the key last); ``per_page`` 1-200.

    Pages are reached by keyset: ``cursor`` is the ``next`` or ``prev`` of a
    page, and the page it names does not shift when invoices are added or
    change meanwhile. ``page`` (from 1, without ``cursor``) still skips
    ``(page - 1) * per_page`` rows, at a cost that grows with the page.

    Returns ``{"items": [invoice_view + "client_name"], "total": n,
    "total_exact": bool, "page": n or None, "per_page", "next": cursor or None,
    "prev": cursor or None}``; ``total`` is exact up to :data:`COUNT_CAP`,
    beyond which it is the cap and ``total_exact`` is false. Raises
    :class:`Unprocessable` (``invalid_query`` or ``invalid_cursor``, pointer
    naming the parameter) for an unknown value.
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
        # The invoice's own number and buyer (copied at issue), or its client's
        # name now: both through trigram indexes, the clients first.
        params["q"] = _like(q)
        cur.execute(
            "SELECT id FROM clients WHERE organisation_id = %(org)s"
            " AND (name || E'\\n' || COALESCE(company, '')) ILIKE %(q)s",
            params,
        )
        params["q_clients"] = [row["id"] for row in cur.fetchall()]
        where.append(
            "((COALESCE(i.number, '') || E'\\n' || COALESCE(i.buyer ->> 'name', '') || E'\\n'"
            " || COALESCE(i.buyer ->> 'company', '')) ILIKE %(q)s OR i.client_id = ANY(%(q_clients)s::uuid[]))"
        )
    condition = " AND ".join(where)
    columns = _sort_columns(sort, order)
    # Counted along the sort's own index (an index-only scan when no filter
    # needs the row), never more than the cap.
    cur.execute(
        f"SELECT count(*) AS n FROM (SELECT 1 FROM invoices i WHERE {condition}"
        f" ORDER BY {', '.join(expression for expression, _ in columns)} LIMIT %(cap)s) AS counted",
        {**params, "cap": COUNT_CAP + 1},
    )
    counted = one_row(cur)["n"]

    direction = "next"
    if cursor:
        direction, key = _decode_cursor(cursor, sort, order)
        forward = (order == "asc") == (direction == "next")
        row_value = ", ".join(expression for expression, _ in columns)
        placeholders = ", ".join(f"%(k{n})s::{sql_type}" for n, (_, sql_type) in enumerate(columns))
        condition += f" AND ({row_value}) {'>' if forward else '<'} ({placeholders})"
        params.update({f"k{n}": value for n, value in enumerate(key)})
        offset = 0
    else:
        forward = order == "asc"
        offset = (page - 1) * per_page
    scan = "ASC" if forward else "DESC"
    # Positions travel as PostgreSQL's own text (an '-infinity' date stays one).
    selected = ", ".join(
        f"{expression}{'' if sql_type == 'boolean' else '::text'} AS _k{n}"
        for n, (expression, sql_type) in enumerate(columns)
    )
    ordering = ", ".join(f"{expression} {scan}" for expression, _ in columns)
    params.update(limit=per_page + 1, offset=offset)
    cur.execute(
        f"SELECT i.*, COALESCE(i.buyer ->> 'name', c.name) AS client_name, {selected}"
        f"  FROM invoices i LEFT JOIN clients c ON c.id = i.client_id"
        f" WHERE {condition} ORDER BY {ordering} LIMIT %(limit)s OFFSET %(offset)s",
        params,
    )
    rows = [dict(row) for row in cur.fetchall()]
    more = len(rows) > per_page
    rows = rows[:per_page]
    if direction == "prev":
        rows.reverse()
    keys = [[row.pop(f"_k{n}") for n in range(len(columns))] for row in rows]
    if direction == "next":
        has_next, has_prev = more, bool(cursor) or page > 1
    else:
        has_next, has_prev = True, more
    return {
        "items": [invoice_view(row, today) for row in rows],
        "total": min(counted, COUNT_CAP),
        "total_exact": counted <= COUNT_CAP,
        "page": None if cursor else page,
        "per_page": per_page,
        "next": _encode_cursor(sort, order, "next", keys[-1]) if rows and has_next else None,
        "prev": _encode_cursor(sort, order, "prev", keys[0]) if rows and has_prev else None,
    }


def _month_keys(today: date) -> list[date]:
    """The first days of the 12 calendar months up to ``today``'s, oldest first."""
    year, month = (today.year - 1, today.month + 1) if today.month < 12 else (today.year, 1)
    months = []
    for _ in range(12):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def dashboard(cur: Cursor, member: Member, *, today: date | None = None) -> dict[str, Any]:
    """The organisation's figures per currency (invoices only; credit notes
    count through the invoices they reduce)::

        {"today": date, "currencies": {"EUR": {
            "outstanding": Decimal,        # sum of balance due of issued, sent, partially_paid
            "overdue": Decimal,            # the part of it past its due date
            "paid_last_30_days": Decimal,  # payments dated today-29 .. today
            "counts": {status: n},         # every status of STATUSES; an overdue invoice counts only as overdue
            "ageing": {"not_due", "1_30", "31_60", "61_90", "over_90": Decimal},  # unpaid balance by days overdue
            "months": [{"month": "2026-01", "invoiced": Decimal, "paid": Decimal}],  # 12, oldest first
        }}}

    ``months`` are the 12 calendar months up to ``today``'s: ``invoiced`` the
    gross of the invoices issued in the month, ``paid`` what has been paid of
    those invoices so far. Amounts are rounded to the currency's minor unit.

    Exact and independent of history: outstanding, overdue and ageing sum the
    open invoices through the partial index ``invoices_open``; counts and
    months come from ``invoice_summary``, payments of the last 30 days from
    ``payment_summary`` (both kept by triggers, see migration 0006).
    """
    today = today or date.today()
    months = _month_keys(today)
    params = {
        "org": member.organisation_id,
        "today": today,
        "since": today - timedelta(days=29),
        "first": months[0],
        "last": months[-1],
    }
    cur.execute(
        f"""
        SELECT i.currency, i.status,
               count(*) FILTER (WHERE {_OVERDUE}) AS overdue_n,
               sum(i.balance_due) AS outstanding,
               sum(i.balance_due) FILTER (WHERE {_OVERDUE}) AS overdue,
               sum(i.balance_due) FILTER (WHERE i.balance_due > 0
                                          AND (i.due_date IS NULL OR i.due_date >= %(today)s)) AS not_due,
               sum(i.balance_due) FILTER (WHERE {_OVERDUE} AND %(today)s - i.due_date BETWEEN 1 AND 30) AS "1_30",
               sum(i.balance_due) FILTER (WHERE {_OVERDUE} AND %(today)s - i.due_date BETWEEN 31 AND 60) AS "31_60",
               sum(i.balance_due) FILTER (WHERE {_OVERDUE} AND %(today)s - i.due_date BETWEEN 61 AND 90) AS "61_90",
               sum(i.balance_due) FILTER (WHERE {_OVERDUE} AND %(today)s - i.due_date > 90) AS over_90
          FROM invoices i
         WHERE i.organisation_id = %(org)s AND i.kind = 'invoice' AND {_OPEN}
         GROUP BY 1, 2
        """,
        params,
    )
    open_rows = cur.fetchall()
    cur.execute(
        """
        SELECT currency, status, sum(n) AS n FROM invoice_summary
         WHERE organisation_id = %(org)s AND kind = 'invoice'
         GROUP BY 1, 2 HAVING sum(n) > 0
        """,
        params,
    )
    counts: dict[str, dict[str, int]] = {}
    for row in cur.fetchall():
        counts.setdefault(row["currency"], dict.fromkeys(STATUSES, 0))[row["status"]] = int(row["n"])
    sums: dict[str, dict[str, Decimal]] = {}
    for row in open_rows:
        by_currency = counts.setdefault(row["currency"], dict.fromkeys(STATUSES, 0))
        by_currency[row["status"]] -= row["overdue_n"]
        by_currency["overdue"] += row["overdue_n"]
        total = sums.setdefault(row["currency"], {})
        for name in ("outstanding", "overdue", *AGEING_BUCKETS):
            total[name] = total.get(name, Decimal(0)) + Decimal(row[name] or 0)
    cur.execute(
        """
        SELECT currency, sum(amount) AS paid FROM payment_summary
         WHERE organisation_id = %(org)s AND date BETWEEN %(since)s AND %(today)s
         GROUP BY currency HAVING sum(n) > 0
        """,
        params,
    )
    paid = {row["currency"]: row["paid"] for row in cur.fetchall()}
    cur.execute(
        """
        SELECT currency, month, sum(gross) AS invoiced, sum(paid) AS paid FROM invoice_summary
         WHERE organisation_id = %(org)s AND kind = 'invoice' AND status <> 'draft'
           AND month BETWEEN %(first)s AND %(last)s
         GROUP BY 1, 2
        """,
        params,
    )
    by_month: dict[tuple[str, date], dict[str, Any]] = {(row["currency"], row["month"]): row for row in cur.fetchall()}

    def money(value: Any, currency: str) -> Decimal:
        return quantize_money(Decimal(value or 0), currency)

    figures = {}
    for currency in sorted(set(sums) | set(paid) | set(counts) | {c for c, _ in by_month}):
        sum_row = sums.get(currency, {})
        figures[currency] = {
            "outstanding": money(sum_row.get("outstanding"), currency),
            "overdue": money(sum_row.get("overdue"), currency),
            "paid_last_30_days": money(paid.get(currency), currency),
            "counts": counts.get(currency, dict.fromkeys(STATUSES, 0)),
            "ageing": {bucket: money(sum_row.get(bucket), currency) for bucket in AGEING_BUCKETS},
            "months": [
                {
                    "month": first.strftime("%Y-%m"),
                    "invoiced": money(by_month.get((currency, first), {}).get("invoiced"), currency),
                    "paid": money(by_month.get((currency, first), {}).get("paid"), currency),
                }
                for first in months
            ],
        }
    return {"today": today, "currencies": figures}


_KEYS = {
    "invoice_summary": (("organisation_id", "kind", "currency", "status", "month"), ("n", "gross", "paid", "credited")),
    "payment_summary": (("organisation_id", "currency", "date"), ("n", "amount")),
}


def summary_differences(cur: Cursor, organisation_id: Any = None) -> list[dict[str, Any]]:
    """Where the summaries (``invoice_summary``, ``payment_summary``) differ
    from a full recomputation from the invoices and payments (of one
    organisation, or all with None): one dict per key with ``table``, the
    key's columns (``organisation_id``, ``kind``, ``currency``, ``status``,
    ``month``; or ``organisation_id``, ``currency``, ``date``) and
    ``kept_<figure>`` / ``rows_<figure>`` for each figure (``n``, ``gross``,
    ``paid``, ``credited``; or ``n``, ``amount``). Empty when both are right."""
    found: list[dict[str, Any]] = []
    for table, (keys, figures) in _KEYS.items():
        key_list = ", ".join(f"COALESCE(s.{k}, r.{k}) AS {k}" for k in keys)
        kept = ", ".join(f"s.{f} AS kept_{f}, r.{f} AS rows_{f}" for f in figures)
        join = " AND ".join(f"s.{k} = r.{k}" for k in keys)
        left = ", ".join(f"COALESCE(s.{f}, 0)" for f in figures)
        right = ", ".join(f"COALESCE(r.{f}, 0)" for f in figures)
        cur.execute(
            f"SELECT %(table)s AS table, {key_list}, {kept}"
            f"  FROM (SELECT * FROM {table} WHERE %(org)s::uuid IS NULL OR organisation_id = %(org)s::uuid) AS s"
            f"  FULL JOIN {table}_recompute(%(org)s::uuid) AS r ON {join}"
            f" WHERE ({left}) IS DISTINCT FROM ({right})",
            {"org": organisation_id, "table": table},
        )
        found += [dict(row) for row in cur.fetchall()]
    return found


def rebuild_summary(cur: Cursor, organisation_id: Any = None) -> int:
    """Recompute ``invoice_summary`` and ``payment_summary`` from the rows (of
    one organisation, or all with None), holding writes to invoices and
    payments off meanwhile (``SHARE`` locks; reads go on). Returns how many
    keys were wrong before."""
    cur.execute("LOCK TABLE invoices, payments IN SHARE MODE")
    wrong = len(summary_differences(cur, organisation_id))
    params = {"org": organisation_id}
    for table in _KEYS:
        cur.execute(f"DELETE FROM {table} WHERE %(org)s::uuid IS NULL OR organisation_id = %(org)s::uuid", params)
        cur.execute(f"INSERT INTO {table} SELECT * FROM {table}_recompute(%(org)s::uuid)", params)
    return wrong
