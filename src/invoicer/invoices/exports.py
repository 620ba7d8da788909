"""The lists as CSV for a spreadsheet or an accountant (issue 22, "Lists"):
``GET /invoices.csv`` and ``GET /clients.csv``, with the lists' filters.

The files are RFC 4180 CSV (CRLF line ends, a header row), written as
UTF-8 with a byte-order mark so that Excel reads it as UTF-8. Text cells a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or CR) are prefixed with ``'`` (OWASP "CSV injection"); ids,
codes, amounts and dates are written as they are, so that they stay numbers
and dates. A credit note's amounts are negative: it takes money off what the
client owes (EN 16931 BT-3 type 381), and a column's sum is what is owed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

__all__ = ["CLIENT_COLUMNS", "INVOICE_COLUMNS", "client_row", "csv_lines", "inert", "invoice_row"]

#: The columns of ``GET /invoices.csv``; amounts are the list's ``totals`` (EN 16931 BT-109, BT-110, BT-112, BT-115).
INVOICE_COLUMNS = (
    "id",
    "kind",
    "number",
    "status",
    "overdue",
    "client_name",
    "issue_date",
    "due_date",
    "currency",
    "net",
    "tax",
    "gross",
    "paid",
    "credited",
    "balance_due",
)
#: The columns of ``GET /clients.csv``.
CLIENT_COLUMNS = (
    "id",
    "name",
    "company",
    "email",
    "phone",
    "vat_id",
    "buyer_reference",
    "currency",
    "payment_terms_days",
    "locale",
    "archived",
)
#: Columns whose values are never user text: written as they are.
_NOT_TEXT = frozenset(
    {
        "id",
        "kind",
        "status",
        "overdue",
        "issue_date",
        "due_date",
        "currency",
        "net",
        "tax",
        "gross",
        "paid",
        "credited",
        "balance_due",
        "payment_terms_days",
        "archived",
    }
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> str:
    """``value`` as a text cell no spreadsheet runs as a formula: ``'`` before
    a leading ``=``, ``+``, ``-``, ``@``, tab or CR; None is ``""``."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _cell(column: str, value: Any) -> Any:
    if column not in _NOT_TEXT:
        return inert(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def invoice_row(summary: Mapping[str, Any]) -> list[Any]:
    """The cells of one invoice list item (``InvoiceSummary`` as JSON), in
    :data:`INVOICE_COLUMNS` order; a credit note's amounts negated."""
    totals = summary.get("totals") or {}
    sign = -1 if summary.get("kind") == "credit_note" else 1
    record = dict(summary)
    for name in ("net", "tax", "gross", "paid", "credited", "balance_due"):
        amount = totals.get(name)
        record[name] = None if amount is None else str(sign * Decimal(amount) + 0)
    return [_cell(column, record.get(column)) for column in INVOICE_COLUMNS]


def client_row(client: Mapping[str, Any]) -> list[Any]:
    """The cells of one client (``ClientRead`` as JSON), in :data:`CLIENT_COLUMNS` order."""
    return [_cell(column, client.get(column)) for column in CLIENT_COLUMNS]


def csv_lines(header: Iterable[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """The CSV file as UTF-8 chunks: the byte-order mark and ``header``
    first, then one chunk per row, so that a long list streams."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def take() -> bytes:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text.encode("utf-8")

    writer.writerow(header)
    yield "\ufeff".encode() + take()
    for row in rows:
        writer.writerow(row)
        yield take()
