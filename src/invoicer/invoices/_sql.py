"""Small helpers shared by the modules of this package: JSON for jsonb
columns (Decimal, date and UUID as strings), UUID parsing that treats a
malformed id as "no such record", and Totals as stored."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from invoicer.common.db import Cursor, jsonb
from invoicer.invoice.model import Totals

from .errors import NotFound
from .principals import Member

# jsonb is the one adapter of invoicer.common.db, re-exported for this package's modules.
__all__ = ["as_uuid", "fetch_invoice", "jsonb", "totals_json", "version_matches"]


def as_uuid(value: Any) -> uuid.UUID | None:
    """``value`` as a UUID, or None when it is not one (an id from a URL that
    cannot name any record)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def totals_json(totals: Totals) -> dict[str, Any]:
    """The stored shape of :class:`~invoicer.invoice.model.Totals`: amounts as
    decimal strings, ``{"currency", "net", "tax", "gross", "vat_breakdown":
    [{"rate", "taxable_amount", "tax_amount"}], "line_nets": [...]}``."""
    return {
        **totals.as_strings(),
        "vat_breakdown": [
            {"rate": str(vat.rate), "taxable_amount": str(vat.taxable_amount), "tax_amount": str(vat.tax_amount)}
            for vat in totals.vat_breakdown
        ],
        "line_nets": [str(net) for net in totals.line_nets],
    }


def fetch_invoice(cur: Cursor, member: Member, invoice_id: Any, *, lock: bool = False) -> dict[str, Any]:
    """The raw invoice (or credit note) row of the member's organisation
    (``FOR UPDATE`` with ``lock``); :class:`NotFound` for an unknown or
    foreign id, which are told apart by nobody."""
    cur.execute(
        "SELECT * FROM invoices WHERE id = %s AND organisation_id = %s" + (" FOR UPDATE" if lock else ""),
        (as_uuid(invoice_id), member.organisation_id),
    )
    row = cur.fetchone()
    if row is None:
        raise NotFound("no such invoice", code="invoice_not_found")
    return dict(row)


def version_matches(expected: int | Collection[int] | None, current: int) -> bool:
    """Whether ``current`` satisfies an If-Match precondition: ``expected``
    None (no header, or ``*``), the version, or the versions of every tag of
    the header's list (RFC 9110 section 13.1.1: any one matching is enough)."""
    if expected is None:
        return True
    if isinstance(expected, int):
        return expected == current
    return current in expected
