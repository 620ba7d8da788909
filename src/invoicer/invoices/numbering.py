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

An owner chooses each series' prefix and format (:func:`set_numbering`,
``PUT /organisation/numbering/{series}``); a change that would make the series
issue a number the organisation already holds is refused (409
``number_taken``), so the skipping above stays for numbers imported later.
"""

from __future__ import annotations

import re
import string
import uuid
from datetime import date
from typing import Any

from invoicer.common.db import Cursor, one_row

from . import events
from .dates import MAX_BACKDATING
from .errors import Conflict, NotFound, Unprocessable
from .principals import Member

__all__ = [
    "CREDIT_NOTE_SERIES",
    "DEFAULT_FORMAT",
    "IMPORTED_SERIES",
    "INVOICE_SERIES",
    "SERIES",
    "check_format",
    "format_number",
    "get_numbering",
    "list_numbering",
    "lock_numbering",
    "next_number",
    "number_taken",
    "set_numbering",
]

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"
#: Imported invoices keep their own numbers in this series.
IMPORTED_SERIES = "imported"
#: The series an owner can shape, by their API name: the code stored in ``invoices.series``.
SERIES = {"invoices": INVOICE_SERIES, "credit_notes": CREDIT_NOTE_SERIES}
#: ``INV-2026-0001``: prefix, year, the counter zero-padded to four digits (more when needed).
DEFAULT_FORMAT = "{prefix}-{year}-{seq:04d}"
#: What a prefix and the literal text of a format may hold: no spaces, no braces, no markup.
_LITERAL = re.compile(r"[A-Za-z0-9._/-]*")
_SEQ_SPEC = re.compile(r"(0[1-9]|0?1[0-2])?d?")
MAX_PREFIX = 20
MAX_FORMAT = 60


def format_number(series: str, year: int, value: int, *, prefix: str | None = None, fmt: str = DEFAULT_FORMAT) -> str:
    """The number ``value`` of ``year`` in ``fmt`` (placeholders ``{prefix}``,
    ``{year}``, ``{seq}`` with an optional zero-padding width such as
    ``{seq:04d}``); ``prefix`` defaults to the series' code. With the
    defaults: ``INV-2026-0001``."""
    return fmt.format(prefix=series if prefix is None else prefix, year=year, seq=value)


def check_format(fmt: str, prefix: str) -> tuple[str, str]:
    """``(fmt, prefix)`` when ``fmt`` can number a series: at most
    :data:`MAX_FORMAT` characters, the placeholders ``{year}`` and ``{seq}``
    exactly once each (the counter restarts every year, so a number without
    its year would repeat), ``{prefix}`` at most once, ``{seq}`` padded with
    at most 12 zeros (``{seq:04d}``), literal text and ``prefix`` (at most
    :data:`MAX_PREFIX`) of letters, digits and ``. _ / -`` only. Raises
    :class:`Unprocessable` ``invalid_numbering`` at ``/format`` or ``/prefix``."""

    def refuse(message: str, pointer: str = "/format") -> Unprocessable:
        return Unprocessable(message, code="invalid_numbering", pointer=pointer)

    if len(prefix) > MAX_PREFIX or not _LITERAL.fullmatch(prefix):
        raise refuse(f"a prefix is at most {MAX_PREFIX} letters, digits, '.', '_', '/' or '-'", "/prefix")
    if not fmt or len(fmt) > MAX_FORMAT:
        raise refuse(f"a format is 1 to {MAX_FORMAT} characters, e.g. {DEFAULT_FORMAT}")
    try:
        parts = list(string.Formatter().parse(fmt))
    except ValueError as exc:
        raise refuse(f"not a format ({exc}); write placeholders as {{prefix}}, {{year}}, {{seq:04d}}") from None
    seen: list[str] = []
    for literal, field, spec, conversion in parts:
        if not _LITERAL.fullmatch(literal):
            raise refuse(f"{literal!r}: text around the placeholders is letters, digits, '.', '_', '/' or '-' only")
        if field is None:
            continue
        if field not in ("prefix", "year", "seq") or conversion:
            shown = field + (f"!{conversion}" if conversion else "")
            raise refuse(f"unknown placeholder {{{shown}}}: use {{prefix}}, {{year}} and {{seq}}")
        if field in seen:
            raise refuse(f"{{{field}}} appears twice")
        if spec and (field != "seq" or not _SEQ_SPEC.fullmatch(spec)):
            raise refuse(f"{{{field}:{spec}}}: only {{seq}} takes a width, as {{seq:04d}} (at most 12 digits)")
        seen.append(field)
    if "seq" not in seen:
        raise refuse("the format needs {seq}, the series' counter, e.g. {seq:04d}")
    if "year" not in seen:
        raise refuse("the format needs {year}: the counter restarts at 1 every year, so each number names its year")
    return fmt, prefix


def _pattern(fmt: str, prefix: str) -> str:
    """A regular expression (Python and PostgreSQL alike) matching every
    number of ``fmt`` and ``prefix``: groups year then seq, in their order."""
    out = ["^"]
    for literal, field, _spec, _conversion in string.Formatter().parse(fmt):
        out.append(re.escape(literal))
        if field == "prefix":
            out.append(re.escape(prefix))
        elif field == "year":
            out.append("([0-9]{4})")
        elif field == "seq":
            out.append("([0-9]+)")
    out.append("$")
    return "".join(out)


def _fields_order(fmt: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(fmt) if field in ("year", "seq")]


def numbering_of(cur: Cursor, organisation_id: uuid.UUID, series: str) -> tuple[str, str]:
    """``(prefix, format)`` of the organisation's ``series`` (a code such as
    ``INV``): what the owner set, else the code and :data:`DEFAULT_FORMAT`."""
    cur.execute(
        "SELECT prefix, format FROM numbering_formats WHERE organisation_id = %s AND series = %s",
        (organisation_id, series),
    )
    row = cur.fetchone()
    return (series, DEFAULT_FORMAT) if row is None else (str(row["prefix"]), str(row["format"]))


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
    prefix, fmt = numbering_of(cur, organisation_id, series)
    while number_taken(cur, organisation_id, format_number(series, year, value, prefix=prefix, fmt=fmt)) is not None:
        value += 1
    cur.execute(
        "UPDATE number_series SET next_value = %s WHERE organisation_id = %s AND series = %s AND year = %s",
        (value + 1, organisation_id, series, year),
    )
    return format_number(series, year, value, prefix=prefix, fmt=fmt)


#: Counter values at which two series' formats are compared (:func:`_refuse_overlap`).
_PROBES = (1, 7, 42, 999, 1000, 12345)


def _refuse_overlap(cur: Cursor, organisation_id: uuid.UUID, name: str, prefix: str, fmt: str, year: int) -> None:
    """Refuse (409 ``series_overlap``) a format whose numbers another series
    of the organisation writes too, ignoring case (invoices prefixed ``CN``
    beside credit notes ``CN-…``): the two counters would come to the same
    number, and the later one would have to skip it, leaving a gap. Compared
    on a few counter values of ``year`` either way round."""
    mine = re.compile(_pattern(fmt, prefix), re.IGNORECASE)
    for other, code in SERIES.items():
        if other == name:
            continue
        other_prefix, other_fmt = numbering_of(cur, organisation_id, code)
        theirs = re.compile(_pattern(other_fmt, other_prefix), re.IGNORECASE)
        for value in _PROBES:
            written = format_number(code, year, value, prefix=other_prefix, fmt=other_fmt)
            own = format_number(SERIES[name], year, value, prefix=prefix, fmt=fmt)
            if mine.match(written) or theirs.match(own):
                example = written if mine.match(written) else own
                raise Conflict(
                    f"the {other} series writes numbers of this shape too (e.g. {example}):"
                    " choose a prefix or format of its own",
                    code="series_overlap",
                )


def _counters(cur: Cursor, organisation_id: uuid.UUID, series: str) -> dict[int, int]:
    cur.execute(
        "SELECT year, next_value FROM number_series WHERE organisation_id = %s AND series = %s",
        (organisation_id, series),
    )
    return {int(row["year"]): int(row["next_value"]) for row in cur.fetchall()}


def _series_code(name: str) -> str:
    code = SERIES.get(name)
    if code is None:
        raise NotFound(f"no series {name!r}: there are {', '.join(SERIES)}", code="series_not_found")
    return code


def get_numbering(cur: Cursor, member: Member, name: str, today: date | None = None) -> dict[str, Any]:
    """The series ``name`` (``invoices`` or ``credit_notes``; else
    :class:`NotFound` ``series_not_found``) as ``{"series", "code",
    "prefix", "format", "next_number", "next"}``: ``next_number`` is the
    counter's next value in ``today``'s year, ``next`` the number it gives
    (unless an import takes it first)."""
    code = _series_code(name)
    year = (today or date.today()).year
    prefix, fmt = numbering_of(cur, member.organisation_id, code)
    value = _counters(cur, member.organisation_id, code).get(year, 1)
    return {
        "series": name,
        "code": code,
        "prefix": prefix,
        "format": fmt,
        "next_number": value,
        "next": format_number(code, year, value, prefix=prefix, fmt=fmt),
    }


def list_numbering(cur: Cursor, member: Member, today: date | None = None) -> list[dict[str, Any]]:
    """:func:`get_numbering` of every series of :data:`SERIES`."""
    return [get_numbering(cur, member, name, today) for name in SERIES]


def set_numbering(
    cur: Cursor,
    member: Member,
    name: str,
    prefix: str,
    fmt: str,
    next_value: int | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Set the prefix and format of series ``name`` (owner only) and, when
    ``next_value`` is given, the counter's next value in ``today``'s year.
    Returns :func:`get_numbering`.

    Raises :class:`Unprocessable` ``invalid_numbering`` (:func:`check_format`);
    :class:`Conflict` ``sequence_started`` when ``next_value`` differs from the
    counter of a year in which the series has already numbered a document (it
    would leave a gap or repeat, EU VAT Directive 2006/112/EC art. 226(2));
    :class:`Conflict` ``series_overlap`` when another series writes numbers
    of the same shape (:func:`_refuse_overlap`);
    :class:`Conflict` ``number_taken`` when the series would come to issue a
    number the organisation already holds in any series, ignoring case (for
    every year a document can still be dated in, :data:`~.dates.MAX_BACKDATING`,
    each counter's next value onwards), naming that number."""
    member.require_owner()
    code = _series_code(name)
    fmt, prefix = check_format(fmt, prefix)
    today = today or date.today()
    year = today.year
    earliest = (today - MAX_BACKDATING).year  # no document is numbered in a year before this one any more
    lock_numbering(cur, member.organisation_id)
    counters = _counters(cur, member.organisation_id, code)
    if next_value is not None and next_value != counters.get(year, 1):
        if counters.get(year, 1) > 1:
            raise Conflict(
                f"the {name} series has numbered documents in {year} up to"
                f" {format_number(code, year, counters[year] - 1, prefix=prefix, fmt=fmt)};"
                f" its next number stays {counters[year]} so that numbering has no gap",
                code="sequence_started",
            )
        counters[year] = next_value
    _refuse_overlap(cur, member.organisation_id, name, prefix, fmt, year)
    order = _fields_order(fmt)
    cur.execute(
        "SELECT number FROM invoices WHERE organisation_id = %s AND number ~* %s ORDER BY number",
        (member.organisation_id, _pattern(fmt, prefix)),
    )
    matcher = re.compile(_pattern(fmt, prefix), re.IGNORECASE)
    for row in cur.fetchall():
        found = matcher.match(row["number"])
        if found is None:
            continue
        parts = dict(zip(order, (int(group) for group in found.groups()), strict=True))
        year_of, seq = parts["year"], parts["seq"]
        issued = format_number(code, year_of, seq, prefix=prefix, fmt=fmt)
        if year_of >= earliest and seq >= counters.get(year_of, 1) and issued.lower() == str(row["number"]).lower():
            raise Conflict(
                f"the {name} series would issue {issued}, and the organisation already has {row['number']}:"
                " choose another prefix or format",
                code="number_taken",
            )
    cur.execute(
        "INSERT INTO numbering_formats (organisation_id, series, prefix, format) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (organisation_id, series) DO UPDATE SET prefix = EXCLUDED.prefix,"
        " format = EXCLUDED.format, updated_at = now()",
        (member.organisation_id, code, prefix, fmt),
    )
    if next_value is not None:
        cur.execute(
            "INSERT INTO number_series (organisation_id, series, year, next_value) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (organisation_id, series, year) DO UPDATE SET next_value = EXCLUDED.next_value",
            (member.organisation_id, code, year, counters.get(year, 1)),
        )
    events.record(
        cur, member, "organisation", member.organisation_id, "organisation.updated", {"changed": [f"numbering.{name}"]}
    )
    return get_numbering(cur, member, name, today)
