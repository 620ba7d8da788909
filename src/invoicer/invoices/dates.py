"""The dates of issued documents and payments, checked against the calendar
and against the numbers (issue 22).

* An issue date lies in a window around today: not more than
  :data:`MAX_BACKDATING` before it, not more than :data:`FUTURE_TOLERANCE`
  after it (a day, for the client's time zone being ahead of the server's).
  A future date would give today's invoice next year's number
  (``INV-2027-0001``), a date of year 1 the number ``INV-1-0001``.
* Numbers and dates agree: within a series and year, a document is not dated
  before the last one numbered before it (EU VAT Directive 2006/112/EC art.
  226(1)-(2): a date of issue and "a sequential number"; an auditor reads a
  later number with an earlier date as a back-dated invoice).
* A credit note and a payment are dated neither before their invoice nor
  after today (same tolerance).

Every refusal is :class:`~invoicer.invoices.errors.Unprocessable` with code
``invalid_date`` and the pointer of the field.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from invoicer.common.db import Cursor

from .errors import Unprocessable

__all__ = ["FUTURE_TOLERANCE", "MAX_BACKDATING", "check_in_sequence", "check_issue_date", "check_since"]

#: How far after today a date may lie (time zones ahead of the server's).
FUTURE_TOLERANCE = timedelta(days=1)
#: How far before today an issue date may lie; older invoices are imported.
MAX_BACKDATING = timedelta(days=365)


def _refuse(message: str, pointer: str) -> Unprocessable:
    return Unprocessable(message, code="invalid_date", pointer=pointer)


def _latest(today: date) -> date:
    return today + FUTURE_TOLERANCE


def check_issue_date(when: date, today: date, pointer: str = "/issue_date") -> date:
    """``when`` if it is from ``today`` - :data:`MAX_BACKDATING` to ``today``
    + :data:`FUTURE_TOLERANCE`; else raises ``invalid_date`` at ``pointer``."""
    if when > _latest(today):
        raise _refuse(
            f"the issue date {when.isoformat()} is in the future; a document is issued on the day it is dated"
            f" (at most {_latest(today).isoformat()})",
            pointer,
        )
    if when < today - MAX_BACKDATING:
        raise _refuse(
            f"the issue date {when.isoformat()} is more than {MAX_BACKDATING.days} days ago"
            f" (at least {(today - MAX_BACKDATING).isoformat()}); import older invoices instead",
            pointer,
        )
    return when


def check_since(when: date, earliest: date | None, today: date, *, what: str, since: str, pointer: str) -> date:
    """``when`` (the date of ``what``, e.g. "the payment") if it is neither
    before ``earliest`` (the date of ``since``, e.g. "invoice INV-2026-0001")
    nor after ``today`` + :data:`FUTURE_TOLERANCE`; else raises
    ``invalid_date`` at ``pointer``."""
    if earliest is not None and when < earliest:
        raise _refuse(
            f"{what} cannot be dated {when.isoformat()}, before {since} of {earliest.isoformat()}",
            pointer,
        )
    if when > _latest(today):
        raise _refuse(
            f"{what} cannot be dated {when.isoformat()}, in the future (at most {_latest(today).isoformat()})",
            pointer,
        )
    return when


def check_in_sequence(
    cur: Cursor, organisation_id: uuid.UUID, series: str, when: date, number: str, pointer: str = "/issue_date"
) -> None:
    """Refuse (``invalid_date`` at ``pointer``) to give ``number`` of
    ``series`` to a document dated ``when`` if a document of the same
    series and year is dated later: call it holding the series' counter
    lock (:func:`invoicer.invoices.numbering.next_number`), so no other
    document of the series is being numbered meanwhile."""
    cur.execute(
        "SELECT number, issue_date FROM invoices WHERE organisation_id = %s AND series = %s"
        " AND issue_date > %s AND issue_date < %s ORDER BY issue_date DESC, number DESC LIMIT 1",
        (organisation_id, series, when, date(when.year + 1, 1, 1) if when.year < 9999 else date.max),
    )
    later = cur.fetchone()
    if later is not None:
        raise _refuse(
            f"{later['number']} is dated {later['issue_date'].isoformat()}: {number}, numbered after it, cannot be"
            f" dated {when.isoformat()}; date it {later['issue_date'].isoformat()} or later",
            pointer,
        )
