"""The expenses service's routes (issue 19), reached through the gateway.

* ``POST /expenses``: a multipart ``file`` (PDF, PNG, JPEG, TIFF, CII/UBL XML; at most
  ``EXPENSE_MAX_BYTES``, 10 MB) -> 202 with the expense in ``processing``; or a JSON body
  (:class:`~.models.ExpenseCreate`) -> 201, an expense without a document.
* ``GET /expenses?status=&supplier=&from=&to=&q=&page=&per_page=``; ``GET /expenses.csv``
  (the same filters, every match, for the accountant).
* ``GET /expenses/<id>`` (``ETag``); ``GET /expenses/<id>/document``;
  ``PATCH /expenses/<id>`` (``If-Match`` required).
* ``POST /expenses/<id>/submit | approve | reject | payments``.
* ``GET | PUT /expenses/categories``.

Every route needs ``Authorization: Bearer <JWT>``; viewers read, owners and accountants
write (:mod:`.records` has the rules). Errors are the JSON error body of every service.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request, send_file
from pydantic import ValidationError

from ..common.config import Settings
from ..common.db import Cursor, Database
from ..common.errors import ApiError
from ..common.sessions import session_active
from ..common.storage import BlobStore
from ..common.web import bearer_claims, int_arg
from ..invoice.errors import field_errors
from ..invoice.reading import FIELD_NAMES
from ..invoice.schema import problems
from . import records
from .models import (
    EXPENSE_STATUSES,
    ExpenseCategories,
    ExpenseCreate,
    ExpensePaymentCreate,
    ExpenseRead,
    ExpenseReject,
    ExpenseSubmit,
    ExpenseUpdate,
    InputModel,
)
from .records import Member

__all__ = ["Services", "blueprint"]

blueprint = Blueprint("expenses", __name__)

_ETAG = re.compile(r'^"v(\d{1,9})"$')
_Input = TypeVar("_Input", bound=InputModel)
#: What a document may be, by its first bytes (the name and the client's type are not trusted).
_DOCUMENT_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
_CSV_LIMIT = 100_000


class Services:
    """What the routes use: ``settings``, ``db`` and ``blobs`` (the documents, GridFS)."""

    def __init__(self, settings: Settings, db: Database, blobs: BlobStore) -> None:
        self.settings = settings
        self.db = db
        self.blobs = blobs


def services() -> Services:
    found: Services = current_app.extensions["invoicer"]
    return found


#: The request header naming the organisation a request acts for (a person may belong to several).
ORGANISATION_HEADER = "X-Organisation"


@blueprint.before_request
def _authenticate() -> None:
    """401 unless the request carries a valid Bearer JWT of a session that has not ended."""
    claims = bearer_claims()
    if not session_active(services().db, claims):  # signed out: its tokens die with it
        raise ApiError(401, "session_ended", "this session has ended; sign in again")
    g.user_id, g.email = uuid.UUID(claims.sub), claims.email


@contextmanager
def _session() -> Iterator[tuple[Cursor, Member]]:
    """One transaction and the caller's membership of the organisation ``X-Organisation``
    names (else their first), checked on every request."""
    chosen = request.headers.get(ORGANISATION_HEADER) or None
    with services().db.transaction() as cur:
        yield cur, records.resolve_member(cur, g.user_id, g.email, chosen)


# --- helpers ------------------------------------------------------------------------------


def _parse(model: type[_Input], *, optional: bool = False) -> dict[str, Any]:
    """The JSON body checked by ``model``: 415 if not JSON, 400 if malformed, 422 with one
    detail (RFC 6901 pointer) per problem."""
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        return {}
    mimetype = (request.mimetype or "").lower()
    if mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ApiError(400, "malformed_json", "the body is not valid UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", "the body must be a JSON object")
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        found = sorted(field_errors(problems(exc, model)), key=lambda error: error.code != "unknown_field")
        details = [{"pointer": e.pointer, "code": e.code, "message": e.message} for e in found]
        raise records.Unprocessable(found[0].message, code=found[0].code, details=details) from None
    fields: dict[str, Any] = parsed.model_dump(mode="json", exclude_unset=True)
    return fields


def _if_match(required: bool) -> frozenset[int] | None:
    """The versions ``If-Match`` names (strong comparison, RFC 9110 13.1.1); None for ``*``.
    428 when ``required`` and absent."""
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise ApiError(428, "precondition_required", 'send If-Match with the ETag of the expense (e.g. "v3")')
        return None
    if header.strip() == "*":
        return None
    return frozenset(int(m.group(1)) for tag in header.split(",") if (m := _ETAG.match(tag.strip())))


def _arg_choice(name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.args.get(name) or None
    if raw is not None and raw not in choices:
        raise ApiError(
            400,
            "invalid_parameter",
            f"{name} must be one of {', '.join(choices)}",
            [{"parameter": name, "message": f"got {raw!r}"}],
        )
    return raw


def _arg_text(name: str) -> str | None:
    raw = request.args.get(name) or None
    if raw is not None and (len(raw) > 200 or re.search(r"[\x00-\x1f\ud800-\udfff]", raw)):
        raise ApiError(
            400,
            "invalid_parameter",
            f"{name} must be printable text of at most 200 characters",
            [{"parameter": name, "message": "not printable or too long"}],
        )
    return raw


def _arg_date(name: str) -> date | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            400,
            "invalid_parameter",
            f"{name} must be a date written YYYY-MM-DD",
            [{"parameter": name, "message": f"got {raw!r}"}],
        ) from None


def _filters() -> dict[str, Any]:
    return {
        "status": _arg_choice("status", EXPENSE_STATUSES),
        "supplier": _arg_text("supplier"),
        "q": _arg_text("q"),
        "date_from": _arg_date("from"),
        "date_to": _arg_date("to"),
    }


def _money(value: Any) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def view(cur: Cursor, member: Member, row: dict[str, Any]) -> ExpenseRead:
    """The expense ``row`` as its answer to ``member``."""
    public = services().settings.public_url.rstrip("/")
    payments = records.payments_of(cur, row["id"])
    paid = sum((Decimal(p["amount"]) for p in payments), Decimal("0"))
    gross = row["total_gross"]
    document = None
    if row["document_fid"]:
        document = {
            "filename": row["document_name"],
            "content_type": row["document_type"],
            "size": row["document_size"],
            "url": f"{public}/expenses/{row['id']}/document",
        }
    return ExpenseRead.model_validate(
        {
            "id": str(row["id"]),
            "status": row["status"],
            "version": row["version"],
            "fields": {name: row["fields"][name] for name in FIELD_NAMES if name in row["fields"]},
            "lines": row["lines"],
            "checks": row["checks"],
            "warnings": records.warnings(row),
            "confirmed": row["confirmed"],
            "duplicate_of": str(row["duplicate_of"]) if row["duplicate_of"] else None,
            "supplier_id": str(row["supplier_id"]) if row["supplier_id"] else None,
            "category": row["category"],
            "notes": row["notes"],
            "kind": row["kind"],
            "pages": row["pages"],
            "failure_reason": row["failure_reason"],
            "rejection_reason": row["rejection_reason"],
            "document": document,
            "created_by": str(row["created_by"]),
            "submitted_by": str(row["submitted_by"]) if row["submitted_by"] else None,
            "decided_by": str(row["decided_by"]) if row["decided_by"] else None,
            "payments": [{**p, "id": str(p["id"]), "amount": _money(p["amount"])} for p in payments],
            "paid": _money(paid) if payments else None,
            "balance": _money(Decimal(gross) - paid) if gross is not None else None,
            "actions": records.actions(cur, member, row),
            "created_at": row["created_at"].isoformat(),
            "updated_at": row["updated_at"].isoformat(),
        }
    )


def _answer(cur: Cursor, member: Member, row: dict[str, Any], status: int = 200, *, location: bool = False) -> Response:
    response = jsonify(view(cur, member, row).model_dump(mode="json"))
    response.status_code = status
    response.headers["ETag"] = f'"v{row["version"]}"'
    if location:
        response.headers["Location"] = f"{services().settings.public_url.rstrip('/')}/expenses/{row['id']}"
    return response


# --- routes -------------------------------------------------------------------------------


@blueprint.post("/expenses")
def create_expense() -> Response:
    """A document (multipart ``file``) to read, or an expense typed in (JSON)."""
    if (request.mimetype or "").lower() == "multipart/form-data":
        return _create_from_upload()
    values = _parse(ExpenseCreate)
    with _session() as (cur, member):
        row = records.create_from_fields(cur, member, values)
        return _answer(cur, member, row, 201, location=True)


def _create_from_upload() -> Response:
    settings = services().settings
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(
            400,
            "file_missing",
            "send the document as the multipart field 'file'",
            [{"field": "file", "message": "missing"}],
        )
    data = upload.read(settings.expense_max_bytes + 1)
    if len(data) > settings.expense_max_bytes:
        raise ApiError(413, "document_too_large", f"a document may have at most {settings.expense_max_bytes} bytes")
    if not data:
        raise ApiError(422, "document_empty", "the file is empty", [{"field": "file", "message": "empty"}])
    content_type = _document_type(data)
    if content_type is None:
        raise ApiError(
            415, "unsupported_document", "send a PDF, a PNG, JPEG or TIFF image, or a CII or UBL XML invoice"
        )
    filename = _safe_name(upload.filename or "document")
    with _session() as (cur, member):
        member.require_write()  # before anything is stored
        fid = f"expense-{uuid.uuid4().hex}"
        services().blobs.put(
            fid,
            data,
            filename=filename,
            metadata={"organisation": str(member.organisation_id), "content_type": content_type, "kind": "expense"},
        )
        row = records.create_from_document(
            cur, member, fid=fid, filename=filename, content_type=content_type, size=len(data)
        )
        return _answer(cur, member, row, 202, location=True)


def _document_type(data: bytes) -> str | None:
    for magic, content_type in _DOCUMENT_TYPES:
        if data.startswith(magic):
            return content_type
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and (
        b"CrossIndustryInvoice" in data[:4096]
        or b"<Invoice" in data[:4096]
        or b":Invoice" in data[:4096]
        or b"CreditNote" in data[:4096]
    ):
        return "application/xml"
    return None


def _safe_name(name: str) -> str:
    """The file's base name, printable, at most 200 characters."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[\x00-\x1f\x7f\ud800-\udfff]", "", base).strip() or "document"
    return cleaned[:200]


@blueprint.get("/expenses")
def list_expenses() -> Response:
    page, per_page = int_arg("page", 1, 1, 1_000_000), int_arg("per_page", 20, 1, 100)
    with _session() as (cur, member):
        rows, total = records.list_expenses(cur, member, **_filters(), page=page, per_page=per_page)
        items = [view(cur, member, row).model_dump(mode="json") for row in rows]
    return jsonify({"items": items, "page": page, "per_page": per_page, "total": total})


@blueprint.get("/expenses.csv")
def export_expenses() -> Response:
    with _session() as (cur, member):
        rows, _ = records.list_expenses(cur, member, **_filters(), page=1, per_page=_CSV_LIMIT)
    body = records.csv_export(rows)
    response = Response(body.encode("utf-8-sig"), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="expenses.csv"'
    return response


@blueprint.get("/expenses/categories")
def get_categories() -> Response:
    with _session() as (cur, member):
        return jsonify({"categories": records.categories(cur, member.organisation_id)})


@blueprint.put("/expenses/categories")
def put_categories() -> Response:
    values = _parse(ExpenseCategories)
    with _session() as (cur, member):
        return jsonify({"categories": records.set_categories(cur, member, values["categories"])})


@blueprint.get("/expenses/<expense_id>")
def get_expense(expense_id: str) -> Response:
    with _session() as (cur, member):
        return _answer(cur, member, records.get(cur, member, expense_id))


@blueprint.get("/expenses/<expense_id>/document")
def get_document(expense_id: str) -> Response:
    """The document as uploaded. PDFs and images inline, XML as an attachment; a sandbox
    CSP, so a hostile document runs nothing on our origin."""
    with _session() as (cur, member):
        row = records.get(cur, member, expense_id)
    if not row["document_fid"]:
        raise records.NotFound("this expense has no document", code="document_not_found")
    blob = services().blobs.get(row["document_fid"])
    if blob is None or blob.data is None:
        raise records.NotFound("the document is no longer kept", code="document_not_found")
    inline = row["document_type"] != "application/xml"
    response = send_file(
        io.BytesIO(blob.data),
        mimetype=row["document_type"],
        as_attachment=not inline,
        download_name=row["document_name"] or "document",
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.patch("/expenses/<expense_id>")
def patch_expense(expense_id: str) -> Response:
    versions = _if_match(required=True)
    values = _parse(ExpenseUpdate)
    with _session() as (cur, member):
        records.update(cur, member, expense_id, versions, values)
        return _answer(cur, member, records.get(cur, member, expense_id))


@blueprint.post("/expenses/<expense_id>/submit")
def submit_expense(expense_id: str) -> Response:
    values = _parse(ExpenseSubmit, optional=True)
    with _session() as (cur, member):
        return _answer(cur, member, records.submit(cur, member, expense_id, values.get("confirm", [])))


@blueprint.post("/expenses/<expense_id>/approve")
def approve_expense(expense_id: str) -> Response:
    with _session() as (cur, member):
        return _answer(cur, member, records.approve(cur, member, expense_id))


@blueprint.post("/expenses/<expense_id>/reject")
def reject_expense(expense_id: str) -> Response:
    values = _parse(ExpenseReject)
    with _session() as (cur, member):
        return _answer(cur, member, records.reject(cur, member, expense_id, values["reason"]))


@blueprint.post("/expenses/<expense_id>/payments")
def pay_expense(expense_id: str) -> Response:
    values = _parse(ExpensePaymentCreate)
    with _session() as (cur, member):
        return _answer(cur, member, records.record_payment(cur, member, expense_id, values), 201)
