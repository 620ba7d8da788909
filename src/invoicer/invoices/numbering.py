"""Gapless document numbers, one counter per organisation, series and year.

The counter row is locked with ``SELECT ... FOR UPDATE`` and incremented in
the transaction that issues the document: a concurrent issue of the same
series waits for the lock, and a rolled-back issue gives its number back, so
numbers run 1, 2, 3 ... with no gap and no duplicate (a PostgreSQL SEQUENCE
would leave a gap on every rollback). Many jurisdictions require exactly
this of invoice numbers (e.g. EU VAT Directive 2006/112/EC art. 226(2):
"a sequential number ... which uniquely identifies the invoice").
"""

from __future__ import annotations

import uuid

from invoicer.common.db import Cursor, one_row

__all__ = ["CREDIT_NOTE_SERIES", "IMPORTED_SERIES", "INVOICE_SERIES", "format_number", "next_number"]

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"
#: Imported invoices keep their own numbers in this series.
IMPORTED_SERIES = "imported"


def format_number(series: str, year: int, value: int) -> str:
    """``INV-2026-0001``: series, year, value zero-padded to four digits (more when needed)."""
    return f"{series}-{year}-{value:04d}"


def next_number(cur: Cursor, organisation_id: uuid.UUID, series: str, year: int) -> str:
    """Take the next number of ``series`` in ``year`` for the organisation,
    in the transaction of ``cur`` (which holds the counter's lock until it
    ends). Returns the formatted number, e.g. ``INV-2026-0007``."""
    cur.execute(
        "INSERT INTO number_series (organisation_id, series, year) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (organisation_id, series, year),
    )
    cur.execute(
        "SELECT next_value FROM number_series WHERE organisation_id = %s AND series = %s AND year = %s FOR UPDATE",
        (organisation_id, series, year),
    )
    value = one_row(cur)["next_value"]
    cur.execute(
        "UPDATE number_series SET next_value = next_value + 1 WHERE organisation_id = %s AND series = %s AND year = %s",
        (organisation_id, series, year),
    )
    return format_number(series, year, value)
