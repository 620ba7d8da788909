"""Clients: the buyers an organisation invoices (EN 16931 BG-7), with their
own currency and payment terms. Archived clients stay readable (invoices
refer to them) but get no new drafts or orders."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from invoicer.common.db import Cursor, one_row

from . import events
from ._sql import as_uuid, version_matches
from .documents import PARTY_FIELDS, check_locale, check_party, party_columns
from .errors import Conflict, NotFound, PreconditionFailed, Unprocessable
from .identity import Member
from .organisations import check_terms_days

__all__ = ["CLIENT_FIELDS", "archive_client", "create_client", "get_client", "list_clients", "update_client"]

#: What a client takes an e-invoice as (``e_invoice``): ``auto`` gives Factur-X when the
#: records hold what EN 16931 needs, else the plain PDF with the missing terms as warnings.
E_INVOICE_CHOICES = ("auto", "factur-x", "xrechnung-cii", "xrechnung-ubl", "peppol-ubl", "none")
#: Fields a client body may hold.
CLIENT_FIELDS = (*PARTY_FIELDS, "currency", "payment_terms_days", "buyer_reference", "locale", "e_invoice")

_COLUMNS = "id, " + ", ".join(CLIENT_FIELDS) + ", archived_at, version, created_at, updated_at"


def _check(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(CLIENT_FIELDS))
    if unknown:
        raise Unprocessable(f"unknown field {unknown[0]!r}", code="unknown_field", pointer=f"/{unknown[0]}")
    party = {key: fields[key] for key in PARTY_FIELDS if fields.get(key) is not None}
    checked, currency = check_party(party, currency=fields.get("currency"))
    values: dict[str, Any] = party_columns(checked)  # the objects (address, contact, …) as jsonb
    values["currency"] = currency
    reference = fields.get("buyer_reference")
    values["buyer_reference"] = reference.strip() or None if isinstance(reference, str) else None
    locale = fields.get("locale")
    values["locale"] = None if locale is None else check_locale(locale)
    choice = fields.get("e_invoice") or "auto"
    if choice not in E_INVOICE_CHOICES:
        raise Unprocessable(
            f"e_invoice must be one of {', '.join(E_INVOICE_CHOICES)}", code="invalid_choice", pointer="/e_invoice"
        )
    values["e_invoice"] = choice
    terms = fields.get("payment_terms_days")
    values["payment_terms_days"] = None if terms is None else check_terms_days(terms)
    return values


def create_client(cur: Cursor, member: Member, fields: dict[str, Any]) -> dict[str, Any]:
    """A new client from ``fields`` (:data:`CLIENT_FIELDS`; ``name`` required;
    party fields by the invoice schema's party rules, ``address`` an object
    ``{line1, line2, city, postal_code, region, country_code}`` or free text,
    stored as the object (EN 16931 BG-8); ``currency`` ISO 4217 or
    None for the organisation's; ``payment_terms_days`` 0-3650 or None).
    Raises :class:`Forbidden` for a viewer, :class:`Unprocessable` for bad
    fields. Returns the client row as a dict."""
    member.require_write()
    values = _check(fields)
    columns = ", ".join(values)
    cur.execute(
        f"INSERT INTO clients (organisation_id, {columns}) VALUES (%(organisation_id)s, "
        + ", ".join(f"%({key})s" for key in values)
        + f") RETURNING {_COLUMNS}",
        {**values, "organisation_id": member.organisation_id},
    )
    row = one_row(cur)
    events.record(cur, member, "client", row["id"], "client.created", {"client_id": row["id"], "name": row["name"]})
    return row


def get_client(cur: Cursor, member: Member, client_id: Any, *, lock: bool = False) -> dict[str, Any]:
    """One client of the member's organisation; :class:`NotFound` otherwise."""
    key = as_uuid(client_id)
    cur.execute(
        f"SELECT {_COLUMNS} FROM clients WHERE id = %s AND organisation_id = %s" + (" FOR UPDATE" if lock else ""),
        (key, member.organisation_id),
    )
    row = cur.fetchone()
    if row is None:
        raise NotFound("no such client", code="client_not_found")
    return dict(row)


def update_client(
    cur: Cursor,
    member: Member,
    client_id: Any,
    changes: dict[str, Any],
    expected_version: int | Collection[int] | None = None,
) -> dict[str, Any]:
    """Change some of a client's fields (None clears an optional one).
    Raises :class:`PreconditionFailed` if ``expected_version`` is given and
    stale, :class:`Conflict` for an archived client. Invoices issued before
    keep the buyer copied at their issue."""
    member.require_write()
    current = get_client(cur, member, client_id, lock=True)
    if not version_matches(expected_version, current["version"]):
        raise PreconditionFailed("the client was changed by someone else; reload it and try again")
    if current["archived_at"] is not None:
        raise Conflict("the client is archived and cannot be changed", code="client_archived")
    unknown = sorted(set(changes) - set(CLIENT_FIELDS))
    if unknown:
        raise Unprocessable(f"unknown field {unknown[0]!r}", code="unknown_field", pointer=f"/{unknown[0]}")
    values = _check({**{key: current[key] for key in CLIENT_FIELDS}, **changes})
    sets = ", ".join(f"{key} = %({key})s" for key in values)
    cur.execute(
        f"UPDATE clients SET {sets}, version = version + 1, updated_at = now() WHERE id = %(id)s RETURNING {_COLUMNS}",
        {**values, "id": current["id"]},
    )
    row = one_row(cur)
    events.record(
        cur, member, "client", row["id"], "client.updated", {"client_id": row["id"], "changed": sorted(changes)}
    )
    return row


def archive_client(cur: Cursor, member: Member, client_id: Any) -> dict[str, Any]:
    """Archive a client (idempotent: archiving an archived client changes nothing)."""
    member.require_write()
    current = get_client(cur, member, client_id, lock=True)
    if current["archived_at"] is not None:
        return current
    cur.execute(
        f"UPDATE clients SET archived_at = now(), version = version + 1, updated_at = now() WHERE id = %s"
        f" RETURNING {_COLUMNS}",
        (current["id"],),
    )
    row = one_row(cur)
    events.record(cur, member, "client", row["id"], "client.archived", {"client_id": row["id"]})
    return row


def list_clients(
    cur: Cursor,
    member: Member,
    *,
    q: str | None = None,
    include_archived: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> dict[str, Any]:
    """``{"items": [client, ...], "total": n}``, by name; ``q`` matches name or
    company case-insensitively; archived clients only with ``include_archived``."""
    where = ["organisation_id = %(org)s"]
    params: dict[str, Any] = {"org": member.organisation_id}
    if not include_archived:
        where.append("archived_at IS NULL")
    if q:
        where.append("(name ILIKE %(q)s OR company ILIKE %(q)s)")
        params["q"] = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), 200)
    params.update(limit=per_page, offset=(page - 1) * per_page)
    condition = " AND ".join(where)
    cur.execute(f"SELECT count(*) AS n FROM clients WHERE {condition}", params)
    total = one_row(cur)["n"]
    cur.execute(
        f"SELECT {_COLUMNS} FROM clients WHERE {condition} ORDER BY lower(name), id LIMIT %(limit)s OFFSET %(offset)s",
        params,
    )
    return {"items": [dict(row) for row in cur.fetchall()], "total": total}
