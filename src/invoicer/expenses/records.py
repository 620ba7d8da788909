"""The expenses' rules: who may do what, the lifecycle, the checks that need a person.

Every function takes the caller's transaction (``cur``) and, where a person acts, the
:class:`Member` acting; every query is scoped by ``member.organisation_id``, so another
organisation's expense is :class:`NotFound`, like an unknown one.

Lifecycle (issue 19)::

    processing -> needs_review | submitted      (the intake worker read the document)
    processing -> failed                        (nothing could be read: encrypted, broken)
    needs_review -> submitted                   (a person checked the fields)
    submitted -> approved | rejected            (an owner or accountant decided)
    approved -> paid                            (payments reach the gross total)
    needs_review | submitted | rejected | failed -> needs_review   (a person corrected a field)

The worker submits on its own only when every key field (:data:`KEY_FIELDS`) is read with
a confidence of at least ``threshold`` (0.9: something checked it) and no check failed.
Nobody approves what they submitted, unless no other member could (no other owner or
accountant: a viewer cannot decide, so a viewer beside a lone owner blocks nothing).
Duplicates (the same supplier and invoice number as an earlier expense) and a supplier's
bank details that changed (an IBAN other than the last one seen: the classic payment fraud)
are warnings that a submission must confirm explicitly.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..common import errors as common
from ..common import outbox
from ..common.db import Cursor, jsonb, one_row
from ..common.messages import ExpenseRead as ReadDocument
from ..invoice.reading import FIELD_NAMES, Extraction, Field, checks

__all__ = [
    "DEFAULT_CATEGORIES",
    "KEY_FIELDS",
    "Member",
    "actions",
    "apply_extraction",
    "approve",
    "create_from_document",
    "create_from_fields",
    "csv_export",
    "get",
    "list_expenses",
    "mark_failed",
    "reject",
    "resolve_member",
    "submit",
    "update",
]

#: The fields an expense cannot be submitted without, and that decide whether the worker
#: may submit on its own (the key fields of the intake examples' score.py, less the number:
#: receipts rarely carry one).
KEY_FIELDS = ("supplier_name", "issue_date", "currency", "total_gross")
#: The categories a new organisation starts with (editable: PUT /expenses/categories).
DEFAULT_CATEGORIES = (
    "Goods for resale",
    "Office supplies",
    "Software and subscriptions",
    "Travel",
    "Meals and entertainment",
    "Rent and utilities",
    "Telephone and internet",
    "Professional services",
    "Vehicle",
    "Other",
)
_WRITERS = frozenset({"owner", "accountant"})
_PERSON_CONFIDENCE = 1.0


class NotFound(common.NotFound):
    code = "expense_not_found"


class Forbidden(common.NotPermitted):
    code = "forbidden"


class Conflict(common.Conflict):
    code = "conflict"


class Unprocessable(common.InvalidInput):
    code = "invalid_expense"


class PreconditionFailed(common.PreconditionFailed):
    code = "version_mismatch"


@dataclass(frozen=True)
class Member:
    """A user acting for ``organisation_id`` with ``role`` (owner, accountant, viewer)."""

    user_id: uuid.UUID
    email: str
    organisation_id: uuid.UUID
    role: str

    def require_write(self) -> None:
        """Raises :class:`Forbidden` (``read_only_role``) for a viewer."""
        if self.role not in _WRITERS:
            raise Forbidden(f"the {self.role} role can read but not change expenses", code="read_only_role")


def resolve_member(cur: Cursor, user_id: uuid.UUID, email: str, organisation_id: str | None = None) -> Member:
    """The caller's membership (the invoices service's ``memberships``, which makes
    organisations): of ``organisation_id`` when the request names one (``X-Organisation``;
    :class:`NotFound` ``organisation_not_found`` unless the caller is a member of it, so a
    member of A never reaches B by naming it), else their oldest. Raises :class:`Forbidden`
    (``no_organisation``) for a user who belongs to none yet."""
    if organisation_id is not None:
        try:
            wanted = uuid.UUID(organisation_id)
        except ValueError:
            raise NotFound("you are not a member of this organisation", code="organisation_not_found") from None
        cur.execute(
            "SELECT organisation_id, role FROM memberships WHERE user_id = %s AND organisation_id = %s",
            (user_id, wanted),
        )
        row = cur.fetchone()
        if row is None:
            raise NotFound("you are not a member of this organisation", code="organisation_not_found")
        return Member(user_id, email, row["organisation_id"], row["role"])
    cur.execute(
        "SELECT organisation_id, role FROM memberships WHERE user_id = %s"
        " ORDER BY joined_at NULLS LAST, created_at, organisation_id LIMIT 1",
        (user_id,),
    )
    row = cur.fetchone()
    if row is None:
        raise Forbidden(
            "you belong to no organisation yet: open the web app or GET /organisation first",
            code="no_organisation",
        )
    return Member(user_id, email, row["organisation_id"], row["role"])


# --- creating ---------------------------------------------------------------------------


def create_from_document(
    cur: Cursor, member: Member, *, fid: str, filename: str, content_type: str, size: int
) -> dict[str, Any]:
    """A new expense in ``processing`` for the stored document ``fid``, and in the same
    transaction the command that has the intake worker read it (the outbox: nothing is
    queued unless the row is committed, nothing committed stays unread). Returns the row."""
    member.require_write()
    cur.execute(
        "INSERT INTO expenses (organisation_id, status, created_by, created_by_email, document_fid,"
        " document_name, document_type, document_size) VALUES (%s, 'processing', %s, %s, %s, %s, %s, %s)"
        " RETURNING *",
        (member.organisation_id, member.user_id, member.email, fid, filename, content_type, size),
    )
    row = one_row(cur)
    outbox.send(
        cur,
        ReadDocument(expense_id=str(row["id"]), organisation_id=str(member.organisation_id)),
        aggregate_type="expense",
        aggregate_id=row["id"],
        organisation_id=member.organisation_id,
        actor_id=member.user_id,
        actor_email=member.email,
    )
    return dict(row)


def create_from_fields(cur: Cursor, member: Member, values: dict[str, Any]) -> dict[str, Any]:
    """A new expense without a document from ``values`` (the fields of
    :class:`~.models.ExpenseCreate`, all by a person); it starts in ``needs_review``."""
    member.require_write()
    fields = {name: _person_field(str(values[name])) for name in FIELD_NAMES if values.get(name) not in (None, "")}
    cur.execute(
        "INSERT INTO expenses (organisation_id, status, created_by, created_by_email, kind, category, notes)"
        " VALUES (%s, 'needs_review', %s, %s, 'manual', %s, %s) RETURNING *",
        (member.organisation_id, member.user_id, member.email, values.get("category"), values.get("notes")),
    )
    row = one_row(cur)
    _check_category(cur, member.organisation_id, values.get("category"))
    return _store_fields(cur, row, fields, lines=[])


# --- the intake worker's side ------------------------------------------------------------


def document_of(cur: Cursor, expense_id: str) -> dict[str, Any] | None:
    """The expense the worker is to read (``id``, ``status``, ``document_fid``,
    ``document_name``), or None when there is none."""
    cur.execute(
        "SELECT id, organisation_id, status, document_fid, document_name FROM expenses WHERE id = %s",
        (expense_id,),
    )
    row = cur.fetchone()
    return dict(row) if row else None


def apply_extraction(cur: Cursor, expense_id: str, extraction: Extraction, *, threshold: float) -> str | None:
    """Store what the worker read on the expense, once: only an expense still in
    ``processing`` takes it (a redelivered message finds it done and changes nothing).
    Returns the new status, or None if the expense was not in ``processing``."""
    cur.execute("SELECT * FROM expenses WHERE id = %s FOR UPDATE", (expense_id,))
    row = cur.fetchone()
    if row is None or row["status"] != "processing":
        return None
    if extraction.kind == "unreadable" or not extraction.fields:
        reason = extraction.error or "nothing could be read from the document"
        _set(cur, row, status="failed", failure_reason=reason, kind=extraction.kind, pages=extraction.pages)
        _event(cur, row, "expense.failed", {"reason": reason}, actor=None)
        return "failed"
    _set(cur, row, kind=extraction.kind, pages=extraction.pages)
    stored = _store_fields(cur, row, dict(extraction.fields), lines=[line.to_json() for line in extraction.lines])
    confident = all(
        name in extraction.fields and extraction.fields[name].confidence >= threshold for name in KEY_FIELDS
    )
    failed = any(check.get("ok") is False for check in stored["checks"])
    if confident and not failed:
        status = "submitted"
        cur.execute(
            "UPDATE expenses SET status = 'submitted', submitted_by = created_by, submitted_at = now() WHERE id = %s",
            (expense_id,),
        )
    else:
        status = "needs_review"
        cur.execute("UPDATE expenses SET status = 'needs_review' WHERE id = %s", (expense_id,))
    _event(cur, row, "expense.received", {"status": status, "kind": extraction.kind}, actor=None)
    if status == "submitted":
        _event(cur, row, "expense.submitted", {"by": "intake"}, actor=None)
    return status


def mark_failed(cur: Cursor, expense_id: str, reason: str) -> None:
    """The worker gave up on the expense's document (``reason`` says why): ``failed``,
    unless a person has moved it on meanwhile."""
    cur.execute("SELECT * FROM expenses WHERE id = %s FOR UPDATE", (expense_id,))
    row = cur.fetchone()
    if row is not None and row["status"] == "processing":
        _set(cur, row, status="failed", failure_reason=reason)
        _event(cur, row, "expense.failed", {"reason": reason}, actor=None)


# --- reading -----------------------------------------------------------------------------


def get(cur: Cursor, member: Member, expense_id: str, *, lock: bool = False) -> dict[str, Any]:
    """The expense ``expense_id`` of the member's organisation; :class:`NotFound` otherwise
    (a malformed id included)."""
    try:
        uuid.UUID(expense_id)
    except ValueError:
        raise NotFound("no such expense") from None
    cur.execute(
        "SELECT * FROM expenses WHERE id = %s AND organisation_id = %s" + (" FOR UPDATE" if lock else ""),
        (expense_id, member.organisation_id),
    )
    row = cur.fetchone()
    if row is None:
        raise NotFound("no such expense")
    return dict(row)


def payments_of(cur: Cursor, expense_id: uuid.UUID) -> list[dict[str, Any]]:
    cur.execute(
        "SELECT id, amount, paid_on, method, reference FROM expense_payments WHERE expense_id = %s"
        " ORDER BY created_at, id",
        (expense_id,),
    )
    return [dict(row) for row in cur.fetchall()]


def list_expenses(
    cur: Cursor,
    member: Member,
    *,
    status: str | None = None,
    supplier: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the organisation's expenses, newest first, and how many match.
    ``supplier`` and ``q`` match parts of the supplier's name (``q`` also of the invoice
    number), case-insensitively; ``date_from``/``date_to`` bound the issue date."""
    where = ["organisation_id = %s"]
    args: list[Any] = [member.organisation_id]
    if status:
        where.append("status = %s")
        args.append(status)
    if supplier:
        where.append("supplier_name ILIKE %s")
        args.append(f"%{_like(supplier)}%")
    if q:
        where.append("(supplier_name ILIKE %s OR invoice_number ILIKE %s)")
        args += [f"%{_like(q)}%"] * 2
    if date_from:
        where.append("issue_date >= %s")
        args.append(date_from)
    if date_to:
        where.append("issue_date <= %s")
        args.append(date_to)
    condition = " AND ".join(where)
    cur.execute(f"SELECT count(*) AS n FROM expenses WHERE {condition}", args)
    total = int(one_row(cur)["n"])
    cur.execute(
        f"SELECT * FROM expenses WHERE {condition} ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s",
        [*args, per_page, (page - 1) * per_page],
    )
    return [dict(row) for row in cur.fetchall()], total


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- a person's changes ------------------------------------------------------------------


def update(
    cur: Cursor, member: Member, expense_id: str, versions: frozenset[int] | None, changes: dict[str, Any]
) -> dict[str, Any]:
    """Correct fields (each then ``person``-sourced, confidence 1.0; ``None`` clears one),
    ``category`` and ``notes``; the checks run again. Allowed while the expense is
    ``needs_review``, ``submitted``, ``rejected`` or ``failed``; it is ``needs_review``
    afterwards (a submission is of what was checked). ``versions``: what If-Match named
    (None for ``*``); :class:`PreconditionFailed` when the expense moved on."""
    member.require_write()
    row = get(cur, member, expense_id, lock=True)
    _check_version(row, versions)
    if row["status"] not in ("needs_review", "submitted", "rejected", "failed"):
        raise Conflict(f"an expense that is {row['status']} cannot be changed", code="expense_locked")
    fields: dict[str, Field] = {name: _field_of(value) for name, value in row["fields"].items()}
    for name in FIELD_NAMES:
        if name in changes:
            if changes[name] is None:
                fields.pop(name, None)
            else:
                fields[name] = _person_field(str(changes[name]))
    if "category" in changes:
        _check_category(cur, member.organisation_id, changes["category"])
    _set(
        cur,
        row,
        status="needs_review",
        category=changes.get("category", row["category"]),
        notes=changes.get("notes", row["notes"]),
        submitted_by=None,
        submitted_at=None,
        rejection_reason=None,
        failure_reason=None,
        confirmed=jsonb([]),
    )
    stored = _store_fields(cur, {**row, "status": "needs_review"}, fields, lines=row["lines"])
    _event(cur, row, "expense.corrected", {"fields": sorted(set(changes) & set(FIELD_NAMES))}, actor=member)
    return stored


def submit(cur: Cursor, member: Member, expense_id: str, confirm: list[str]) -> dict[str, Any]:
    """``needs_review`` -> ``submitted``. Raises :class:`Unprocessable` (``fields_missing``)
    naming each missing key field, :class:`Conflict` (``confirmation_required``) while a
    warning (duplicate, bank details changed) is not in ``confirm``."""
    member.require_write()
    row = get(cur, member, expense_id, lock=True)
    if row["status"] != "needs_review":
        raise Conflict(
            f"only an expense that needs review can be submitted; this one is {row['status']}",
            code="invalid_transition",
        )
    missing = [name for name in KEY_FIELDS if name not in row["fields"]]
    if missing:
        raise Unprocessable(
            f"fill in {', '.join(missing)} before submitting",
            code="fields_missing",
            details=[
                {"pointer": f"/fields/{name}", "code": "required", "message": f"{name} is missing"} for name in missing
            ],
        )
    open_warnings = [name for name in _warnings(row["checks"]) if name not in confirm]
    if open_warnings:
        raise Conflict(
            "confirm the warnings first: " + ", ".join(open_warnings),
            code="confirmation_required",
            details=[
                {"pointer": "/confirm", "code": name, "message": _warning_text(row["checks"], name)}
                for name in open_warnings
            ],
        )
    _set(cur, row, status="submitted", submitted_by=member.user_id, confirmed=jsonb(sorted(set(confirm))))
    cur.execute("UPDATE expenses SET submitted_at = now() WHERE id = %s", (row["id"],))
    _event(cur, row, "expense.submitted", {"by": "person"}, actor=member)
    return get(cur, member, expense_id)


def approve(cur: Cursor, member: Member, expense_id: str) -> dict[str, Any]:
    """``submitted`` -> ``approved`` by an owner or accountant who did not submit it
    (unless no other owner or accountant could); the supplier's IBAN becomes the one
    expected next time."""
    member.require_write()
    row = get(cur, member, expense_id, lock=True)
    if row["status"] != "submitted":
        raise Conflict(
            f"only a submitted expense can be approved; this one is {row['status']}", code="invalid_transition"
        )
    _not_own_submission(cur, member, row, "approve")
    _set(cur, row, status="approved", decided_by=member.user_id)
    cur.execute("UPDATE expenses SET decided_at = now() WHERE id = %s", (row["id"],))
    iban = (row["fields"].get("iban") or {}).get("value")
    if row["supplier_id"] and iban:
        cur.execute(
            "UPDATE expense_suppliers SET ibans = array_prepend(%s, array_remove(ibans, %s)) WHERE id = %s",
            (iban, iban, row["supplier_id"]),
        )
    _event(cur, row, "expense.approved", {"total_gross": row["total_gross"], "currency": row["currency"]}, actor=member)
    return get(cur, member, expense_id)


def reject(cur: Cursor, member: Member, expense_id: str, reason: str) -> dict[str, Any]:
    """``submitted`` -> ``rejected`` with ``reason``; the same rule as :func:`approve`."""
    member.require_write()
    row = get(cur, member, expense_id, lock=True)
    if row["status"] != "submitted":
        raise Conflict(
            f"only a submitted expense can be rejected; this one is {row['status']}", code="invalid_transition"
        )
    _not_own_submission(cur, member, row, "reject")
    _set(cur, row, status="rejected", decided_by=member.user_id, rejection_reason=reason)
    cur.execute("UPDATE expenses SET decided_at = now() WHERE id = %s", (row["id"],))
    _event(cur, row, "expense.rejected", {"reason": reason}, actor=member)
    return get(cur, member, expense_id)


def record_payment(cur: Cursor, member: Member, expense_id: str, payment: dict[str, Any]) -> dict[str, Any]:
    """Money paid to the supplier of an ``approved`` expense; ``paid`` once the payments
    reach its gross total. Raises :class:`Unprocessable` (``overpayment``) beyond the
    balance, :class:`Conflict` unless approved."""
    member.require_write()
    row = get(cur, member, expense_id, lock=True)
    if row["status"] != "approved":
        raise Conflict(f"only an approved expense can be paid; this one is {row['status']}", code="invalid_transition")
    gross = Decimal(row["total_gross"])
    paid = sum((Decimal(p["amount"]) for p in payments_of(cur, row["id"])), Decimal("0"))
    amount = Decimal(payment["amount"])
    if amount > gross - paid:
        raise Unprocessable(f"the balance is {gross - paid}; {amount} is more", code="overpayment", pointer="/amount")
    cur.execute(
        "INSERT INTO expense_payments (organisation_id, expense_id, amount, paid_on, method, reference, recorded_by)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            member.organisation_id,
            row["id"],
            amount,
            payment["paid_on"],
            payment.get("method"),
            payment.get("reference"),
            member.user_id,
        ),
    )
    if paid + amount == gross:
        _set(cur, row, status="paid")
        _event(cur, row, "expense.paid", {"amount": gross, "currency": row["currency"]}, actor=member)
    else:
        _set(cur, row)
    return get(cur, member, expense_id)


def _others_decide(cur: Cursor, member: Member) -> bool:
    """Whether another owner or accountant of the member's organisation could decide."""
    cur.execute(
        "SELECT count(*) AS n FROM memberships WHERE organisation_id = %s AND user_id <> %s AND role = ANY(%s)",
        (member.organisation_id, member.user_id, sorted(_WRITERS)),
    )
    return int(one_row(cur)["n"]) > 0


def _not_own_submission(cur: Cursor, member: Member, row: dict[str, Any], what: str) -> None:
    if row["submitted_by"] == member.user_id and _others_decide(cur, member):
        raise Forbidden(f"someone else must {what} what you submitted", code="own_submission")


def actions(cur: Cursor, member: Member, row: dict[str, Any]) -> list[str]:
    """What ``member`` may do with the expense ``row`` now, by the rules the routes
    enforce: nothing for a viewer; ``correct`` (PATCH) while it is ``needs_review``,
    ``submitted``, ``rejected`` or ``failed``; ``submit`` when ``needs_review``;
    ``approve`` and ``reject`` when ``submitted``, unless they submitted it and another
    owner or accountant could decide; ``pay`` when ``approved``."""
    if member.role not in _WRITERS:
        return []
    status = row["status"]
    found = ["correct"] if status in ("needs_review", "submitted", "rejected", "failed") else []
    if status == "needs_review":
        found.append("submit")
    elif status == "submitted" and not (row["submitted_by"] == member.user_id and _others_decide(cur, member)):
        found += ["approve", "reject"]
    elif status == "approved":
        found.append("pay")
    return found


def _check_version(row: dict[str, Any], versions: frozenset[int] | None) -> None:
    if versions is not None and row["version"] not in versions:
        raise PreconditionFailed(
            f"the expense changed meanwhile (it is at version {row['version']}); reload it and try again"
        )


# --- categories --------------------------------------------------------------------------


def categories(cur: Cursor, organisation_id: uuid.UUID) -> list[str]:
    """The organisation's categories (:data:`DEFAULT_CATEGORIES` until it sets its own)."""
    cur.execute("SELECT name FROM expense_categories WHERE organisation_id = %s ORDER BY name", (organisation_id,))
    names = [row["name"] for row in cur.fetchall()]
    return names or list(DEFAULT_CATEGORIES)


def set_categories(cur: Cursor, member: Member, names: list[str]) -> list[str]:
    """Replace the organisation's categories (owners and accountants)."""
    member.require_write()
    cur.execute("DELETE FROM expense_categories WHERE organisation_id = %s", (member.organisation_id,))
    for name in dict.fromkeys(names):
        cur.execute(
            "INSERT INTO expense_categories (organisation_id, name) VALUES (%s, %s)", (member.organisation_id, name)
        )
    return categories(cur, member.organisation_id)


def _check_category(cur: Cursor, organisation_id: uuid.UUID, name: str | None) -> None:
    if name is not None and name not in categories(cur, organisation_id):
        raise Unprocessable(
            f"{name!r} is not one of the organisation's categories", code="unknown_category", pointer="/category"
        )


# --- CSV ---------------------------------------------------------------------------------

_CSV_COLUMNS = (
    "id",
    "status",
    "supplier_name",
    "supplier_vat_id",
    "invoice_number",
    "issue_date",
    "due_date",
    "currency",
    "total_net",
    "total_tax",
    "total_gross",
    "category",
    "iban",
    "notes",
)


def csv_export(rows: list[dict[str, Any]]) -> str:
    """The expenses as CSV (RFC 4180, a header row of :data:`_CSV_COLUMNS`) for the
    accountant. Text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab,
    CR first) is prefixed with ``'`` (OWASP CSV injection); amounts and dates are not text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_CSV_COLUMNS)
    for row in rows:
        values = {name: (field or {}).get("value") for name, field in row["fields"].items()}
        record = {
            **values,
            "id": str(row["id"]),
            "status": row["status"],
            "category": row["category"],
            "notes": row["notes"],
        }
        writer.writerow(
            [record.get(column) if column in _NOT_TEXT else _inert(record.get(column)) for column in _CSV_COLUMNS]
        )
    return out.getvalue()


_NOT_TEXT = frozenset({"id", "status", "issue_date", "due_date", "currency", "total_net", "total_tax", "total_gross"})


def _inert(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- storing fields and checks ------------------------------------------------------------


def _person_field(value: str) -> Field:
    return Field(value, _PERSON_CONFIDENCE, "person")


def _field_of(stored: dict[str, Any]) -> Field:
    bbox = stored.get("bbox")
    return Field(
        str(stored["value"]),
        float(stored["confidence"]),
        stored["source"],
        stored.get("page"),
        (bbox[0], bbox[1], bbox[2], bbox[3]) if bbox else None,
    )


def _supplier_key(fields: dict[str, Field]) -> str | None:
    vat = fields.get("supplier_vat_id")
    if vat is not None:
        return "vat:" + re.sub(r"[^0-9A-Z]", "", vat.value.upper())
    name = fields.get("supplier_name")
    if name is not None:
        return "name:" + " ".join(name.value.casefold().split())
    return None


def _store_fields(cur: Cursor, row: dict[str, Any], fields: dict[str, Field], *, lines: list[Any]) -> dict[str, Any]:
    """Write ``fields`` and their checks (the reading checks, ``duplicate`` and
    ``bank_details_changed``) onto the expense ``row``; returns the stored row."""
    organisation_id = row["organisation_id"]
    supplier_id = None
    key = _supplier_key(fields)
    known_ibans: list[str] = []
    if key is not None:
        name = fields["supplier_name"].value if "supplier_name" in fields else fields["supplier_vat_id"].value
        vat = fields["supplier_vat_id"].value if "supplier_vat_id" in fields else None
        cur.execute(
            "INSERT INTO expense_suppliers (organisation_id, name, supplier_key, vat_id) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (organisation_id, supplier_key) DO UPDATE SET name = expense_suppliers.name"
            " RETURNING id, ibans",
            (organisation_id, name, key, vat),
        )
        supplier = one_row(cur)
        supplier_id, known_ibans = supplier["id"], list(supplier["ibans"])
    found = [check.to_json() for check in checks(fields)]
    number = fields.get("invoice_number")
    duplicate_of = None
    if supplier_id is not None and number is not None:
        cur.execute(
            "SELECT id FROM expenses WHERE organisation_id = %s AND supplier_id = %s"
            " AND lower(invoice_number) = lower(%s) AND id <> %s AND status <> 'failed'"
            " ORDER BY created_at, id LIMIT 1",
            (organisation_id, supplier_id, number.value, row["id"]),
        )
        earlier = cur.fetchone()
        duplicate_of = earlier["id"] if earlier else None
        found.append(
            {
                "name": "duplicate",
                "ok": duplicate_of is None,
                "detail": f"the same supplier and number as expense {duplicate_of}"
                if duplicate_of
                else "no earlier expense has this supplier and number",
            }
        )
    else:
        found.append({"name": "duplicate", "ok": None, "detail": "needs the supplier and the invoice number"})
    iban = fields.get("iban")
    if iban is not None and known_ibans:
        same = _compact(iban.value) == _compact(known_ibans[0])
        found.append(
            {
                "name": "bank_details_changed",
                "ok": same,
                "detail": "the IBAN is the one seen last for this supplier"
                if same
                else f"the IBAN {iban.value} differs from {known_ibans[0]}, the one seen last for this supplier",
            }
        )
    else:
        found.append(
            {
                "name": "bank_details_changed",
                "ok": None,
                "detail": "no earlier IBAN of this supplier to compare with" if iban else "no IBAN read",
            }
        )
    values = {name: fields[name].value if name in fields else None for name in FIELD_NAMES}
    cur.execute(
        "UPDATE expenses SET fields = %s, lines = %s, checks = %s, supplier_id = %s, duplicate_of = %s,"
        " supplier_name = %s, invoice_number = %s, issue_date = %s, currency = %s, total_gross = %s,"
        " updated_at = now() WHERE id = %s RETURNING *",
        (
            jsonb({name: field.to_json() for name, field in fields.items()}),
            jsonb(lines),
            jsonb(found),
            supplier_id,
            duplicate_of,
            values["supplier_name"],
            values["invoice_number"],
            _date_or_none(values["issue_date"]),
            values["currency"],
            _decimal_or_none(values["total_gross"]),
            row["id"],
        ),
    )
    return dict(one_row(cur))


def _compact(iban: str) -> str:
    return re.sub(r"\s", "", iban).upper()


def _date_or_none(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _decimal_or_none(value: str | None) -> Decimal | None:
    try:
        amount = Decimal(value) if value else None
    except ArithmeticError:
        return None
    return amount if amount is not None and amount.is_finite() and abs(amount) < Decimal("1e15") else None


def _warnings(found: list[dict[str, Any]]) -> list[str]:
    return [
        check["name"]
        for check in found
        if check["name"] in ("duplicate", "bank_details_changed") and check["ok"] is False
    ]


def warnings(row: dict[str, Any]) -> list[str]:
    """The warnings of an expense that a submission must confirm (not yet confirmed)."""
    return [name for name in _warnings(row["checks"]) if name not in row["confirmed"]]


def _warning_text(found: list[dict[str, Any]], name: str) -> str:
    return next((str(check["detail"]) for check in found if check["name"] == name), name)


def _set(cur: Cursor, row: dict[str, Any], **changes: Any) -> None:
    """Update ``changes`` on the expense, bump its version."""
    assignments = "".join(f", {column} = %s" for column in changes)
    cur.execute(
        f"UPDATE expenses SET version = version + 1, updated_at = now(){assignments} WHERE id = %s",
        [*changes.values(), row["id"]],
    )


def _event(cur: Cursor, row: dict[str, Any], type_: str, data: dict[str, Any], *, actor: Member | None) -> None:
    outbox.record(
        cur,
        organisation_id=row["organisation_id"],
        aggregate_type="expense",
        aggregate_id=row["id"],
        type_=type_,
        payload={"expense_id": row["id"], **data},
        actor_id=actor.user_id if actor else None,
        actor_email=actor.email if actor else None,
    )
