"""Gapless document numbers, one counter per organisation, series and year.

The counter row is locked with ``SELECT ... FOR UPDATE`` and incremented in
the transaction that issues the document: a concurrent issue of the same
series waits for the lock, and a rolled-back issue gives its number back, so
numbers run 1, 2, 3 ... with no gap and no duplicate (a PostgreSQL SEQUENCE
would leave a gap on every rollback). Many jurisdictions require exactly
this of invoice numbers (e.g. EU VAT Directive 2006/112/EC art. 226(2):
"a sequential number ... which uniquely identifies the invoice").

A number is unique in its organisation whatever its series and case
(``INV-2026-0001`` and ``inv-2026-0001`` are one number; the database's index
``invoices_number_per_organisation`` holds the line): the counter skips a
number an import has taken (:func:`number_taken`), and an import of a taken
number is refused (:mod:`invoicer.invoices.importing`). Both take the
organisation's numbering lock (:func:`lock_numbering`) first, so an import and
an issue never pick the same number at the same time.
"""

from __future__ import annotations

import uuid

from invoicer.common.db import Cursor, one_row

__all__ = [
    "CREDIT_NOTE_SERIES",
    "IMPORTED_SERIES",
    "INVOICE_SERIES",
    "format_number",
    "lock_numbering",
    "next_number",
    "number_taken",
]

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"
#: Imported invoices keep their own numbers in this series.
IMPORTED_SERIES = "imported"


def format_number(series: str, year: int, value: int) -> str:
    """``INV-2026-0001``: series, year, value zero-padded to four digits (more when needed)."""
    return f"{series}-{year}-{value:04d}"


def lock_numbering(cur: Cursor, organisation_id: uuid.UUID) -> None:
    """Hold the organisation's numbering lock until the transaction of
    ``cur`` ends (a PostgreSQL transaction-level advisory lock keyed by the
    organisation): whoever gives out or imports a number takes it first."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 22))", (f"invoicer.numbers.{organisation_id}",))


def number_taken(cur: Cursor, organisation_id: uuid.UUID, number: str) -> str | None:
    """The organisation's number equal to ``number`` ignoring case (in any
    series, as written there), or None when it is free."""
    cur.execute(
        "SELECT number FROM invoices WHERE organisation_id = %s AND lower(number) = lower(%s) LIMIT 1",
        (organisation_id, number),
    )
    row = cur.fetchone()
    return None if row is None else str(row["number"])


def next_number(cur: Cursor, organisation_id: uuid.UUID, series: str, year: int) -> str:
    """Take the next number of ``series`` in ``year`` for the organisation,
    in the transaction of ``cur`` (which holds the counter's lock and the
    numbering lock until it ends), skipping any number already taken (by an
    import). Returns the formatted number, e.g. ``INV-2026-0007``."""
    lock_numbering(cur, organisation_id)
    cur.execute(
        "INSERT INTO number_series (organisation_id, series, year) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (organisation_id, series, year),
    )
    cur.execute(
        "SELECT next_value FROM number_series WHERE organisation_id = %s AND series = %s AND year = %s FOR UPDATE",
        (organisation_id, series, year),
    )
    value = one_row(cur)["next_value"]
    while number_taken(cur, organisation_id, format_number(series, year, value)) is not None:
        value += 1
    cur.execute(
        "UPDATE number_series SET next_value = %s WHERE organisation_id = %s AND series = %s AND year = %s",
        (value + 1, organisation_id, series, year),
    )
    return format_number(series, year, value)
