"""The organisation's seller profile (EN 16931 BG-4 seller, plus defaults
for new invoices: currency, locale, payment terms in days)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from invoicer.common.db import Cursor, one_row
from invoicer.invoice.logo import LogoError, clean_logo

from . import events
from ._sql import version_matches
from .documents import PARTY_FIELDS, check_locale, check_party, party_columns
from .errors import NotFound, PreconditionFailed, Unprocessable
from .identity import Member

__all__ = [
    "PROFILE_FIELDS",
    "check_logo",
    "delete_logo",
    "get_logo",
    "get_organisation",
    "seller_party",
    "set_logo",
    "update_organisation",
]

#: Fields :func:`update_organisation` accepts.
PROFILE_FIELDS = (*PARTY_FIELDS, "bank_details", "currency", "locale", "payment_terms_days", "payment_reference")
#: What the payer quotes (BT-83): the invoice number, or an ISO 11649 creditor reference made from it.
PAYMENT_REFERENCES = ("invoice_number", "rf")

_COLUMNS = "id, " + ", ".join(PROFILE_FIELDS) + ", (logo IS NOT NULL) AS has_logo, version, created_at, updated_at"


def get_organisation(cur: Cursor, member: Member, *, lock: bool = False) -> dict[str, Any]:
    """The member's organisation as a dict of :data:`PROFILE_FIELDS` plus
    ``id``, ``version``, ``created_at``, ``updated_at``."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM organisations WHERE id = %s" + (" FOR UPDATE" if lock else ""),
        (member.organisation_id,),
    )
    row = cur.fetchone()
    if row is None:  # deleted under our feet
        raise NotFound("no such organisation", code="organisation_not_found")
    return dict(row)


def check_terms_days(value: Any, pointer: str = "/payment_terms_days") -> int:
    """A payment term in whole days, 0-3650; raises :class:`Unprocessable`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
        raise Unprocessable("must be a whole number of days from 0 to 3650", code="invalid_terms", pointer=pointer)
    return value


def update_organisation(
    cur: Cursor, member: Member, changes: dict[str, Any], expected_version: int | Collection[int] | None = None
) -> dict[str, Any]:
    """Change the profile (owner only). ``changes`` maps some of
    :data:`PROFILE_FIELDS` to new values (None clears an optional field);
    party fields follow the invoice schema's party rules (``address`` an
    object or free text, stored as the object, EN 16931 BG-5), ``currency``
    is an ISO 4217 code. ``expected_version``, when given, must be the current
    version (:class:`PreconditionFailed` otherwise). Returns the profile.
    Issued invoices keep the seller copied when they were issued."""
    member.require_owner()
    unknown = sorted(set(changes) - set(PROFILE_FIELDS))
    if unknown:
        raise Unprocessable(f"unknown field {unknown[0]!r}", code="unknown_field", pointer=f"/{unknown[0]}")
    current = get_organisation(cur, member, lock=True)
    if not version_matches(expected_version, current["version"]):
        raise PreconditionFailed("the organisation was changed by someone else; reload it and try again")
    merged = {**current, **changes}
    party = {key: merged[key] for key in PARTY_FIELDS if merged.get(key) is not None}
    named = bool(str(party.get("name") or "").strip())
    if not named:  # a fresh organisation has no name yet; the schema needs one
        party["name"] = "-"
    checked, currency = check_party(party, currency=merged["currency"])
    values = party_columns(checked)  # the objects (address, contact, …) as jsonb
    if not named:
        values["name"] = ""
    values["currency"] = currency
    values["bank_details"] = merged["bank_details"]
    values["locale"] = check_locale(merged["locale"])
    values["payment_terms_days"] = check_terms_days(merged["payment_terms_days"])
    reference = merged.get("payment_reference") or "invoice_number"
    if reference not in PAYMENT_REFERENCES:
        raise Unprocessable(
            "payment_reference must be invoice_number or rf", code="invalid_choice", pointer="/payment_reference"
        )
    values["payment_reference"] = reference
    sets = ", ".join(f"{key} = %({key})s" for key in values)
    cur.execute(
        f"UPDATE organisations SET {sets}, version = version + 1, updated_at = now()"
        f" WHERE id = %(id)s RETURNING {_COLUMNS}",
        {**values, "id": member.organisation_id},
    )
    row = one_row(cur)
    events.record(
        cur, member, "organisation", member.organisation_id, "organisation.updated", {"changed": sorted(changes)}
    )
    return row


def seller_party(organisation: dict[str, Any]) -> dict[str, Any]:
    """The organisation as the seller of an invoice (stored with the invoice
    at issue): its party fields that are set, plus ``bank_details``."""
    seller = {key: organisation[key] for key in PARTY_FIELDS if organisation.get(key)}
    if organisation.get("bank_details"):
        seller["bank_details"] = organisation["bank_details"]
    return seller


def set_logo(cur: Cursor, member: Member, data: bytes) -> dict[str, Any]:
    """Store ``data`` (PNG or JPEG bytes, at most 1 MB and 4000x4000 px) as
    the organisation's logo (owner only), decoded and re-encoded
    (:func:`invoicer.invoice.logo.clean_logo`): the stored bytes are ours,
    never the upload's. Raises :class:`Unprocessable` (``invalid_logo``)
    with the reason in ``details`` (``LogoError`` codes), or
    :class:`~invoicer.invoice.logo.LogoError` itself for ``too_large`` so
    the route can answer 413. Returns the profile."""
    member.require_owner()
    cleaned, media_type = check_logo(data)
    cur.execute(
        f"UPDATE organisations SET logo = %s, logo_media_type = %s, version = version + 1, updated_at = now()"
        f" WHERE id = %s RETURNING {_COLUMNS}",
        (cleaned, media_type, member.organisation_id),
    )
    row = one_row(cur)
    events.record(cur, member, "organisation", member.organisation_id, "organisation.updated", {"changed": ["logo"]})
    return row


def check_logo(data: bytes) -> tuple[bytes, str]:
    """:func:`~invoicer.invoice.logo.clean_logo` of ``data``; a refusal other
    than ``too_large`` (left to the caller: 413) is :class:`Unprocessable`
    ``invalid_logo`` with the reason's code in ``details``."""
    try:
        return clean_logo(data)
    except LogoError as exc:
        if exc.code == "too_large":
            raise
        raise Unprocessable(
            exc.message, code="invalid_logo", details=[{"pointer": "", "code": exc.code, "message": exc.message}]
        ) from None


def get_logo(cur: Cursor, member: Member) -> tuple[bytes, str] | None:
    """The organisation's logo as ``(bytes, media_type)``; None when it has none."""
    cur.execute("SELECT logo, logo_media_type FROM organisations WHERE id = %s", (member.organisation_id,))
    row = cur.fetchone()
    if row is None or row["logo"] is None:
        return None
    return bytes(row["logo"]), str(row["logo_media_type"])


def delete_logo(cur: Cursor, member: Member) -> None:
    """Remove the organisation's logo (owner only); nothing to remove is fine."""
    member.require_owner()
    cur.execute(
        "UPDATE organisations SET logo = NULL, logo_media_type = NULL, version = version + 1, updated_at = now()"
        " WHERE id = %s AND logo IS NOT NULL",
        (member.organisation_id,),
    )
    if cur.rowcount:
        events.record(
            cur, member, "organisation", member.organisation_id, "organisation.updated", {"changed": ["logo"]}
        )
