"""The invoices service's routes: issue 10's "HTTP API", reached through the gateway.

Every route needs ``Authorization: Bearer <JWT>`` (verified here too, with
the gateway's key and claims: :mod:`invoicer.common.tokens`); the caller's
membership is resolved per request (:func:`.identity.resolve_membership`),
so another organisation's record is 404 and a viewer's write 403. Bodies and
answers are JSON, money as decimal strings; errors are the JSON error body
with RFC 6901 pointers into the request body.

* ``GET|PATCH /organisation``; ``GET|PUT|DELETE /organisation/logo``; ``GET|POST /organisation/members``;
  ``GET /organisation/numbering``; ``GET|PUT /organisation/numbering/<series>``
* ``GET|POST /clients``; ``GET|PATCH|DELETE /clients/<id>`` (DELETE archives)
* ``GET|POST /invoices``; ``POST /invoices/import``; ``GET|PATCH|DELETE /invoices/<id>``;
  ``POST /invoices/<id>/issue|send|payments|refunds|credit-notes``; ``GET /invoices/<id>/events``
* ``GET|POST /orders``; ``GET /orders/<id>``; ``POST /orders/<id>/invoice``
* ``GET /dashboard``
* ``GET|POST /webhooks``; ``PATCH|DELETE /webhooks/<id>``; ``POST /webhooks/<id>/rotate-secret``;
  ``GET /webhooks/<id>/deliveries``; ``POST /webhooks/<id>/deliveries/<delivery_id>/retry`` (owners only)

Conventions: a ``POST`` takes ``Idempotency-Key`` (the same key and body
replay the first answer, with ``Idempotent-Replayed: true``; the key with
another body is 409). ``GET`` of a record answers ``ETag: "v<version>"``;
``PATCH /invoices/<id>`` needs ``If-Match`` with it (stale: 412, missing:
428), other PATCHes and DELETEs take it optionally. Lists answer ``{"items",
"page", "per_page", "total"}`` (``?page=`` from 1, ``?per_page=`` 1-100); the
invoice list also ``total_exact``, ``next`` and ``prev`` (keyset cursors, ``?cursor=``).
Links (``Location``) are built from ``PUBLIC_URL``, never from the request.
The rules live in the domain modules of this package; this module only
speaks HTTP.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request, send_file, stream_with_context
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError

from ..common import metrics
from ..common.config import Settings
from ..common.db import Database
from ..common.errors import ApiError
from ..common.sessions import session_active
from ..common.storage import BlobStore
from ..common.users import email_verified
from ..common.web import bearer_claims, int_arg, json_document, json_object
from ..invoice.errors import field_errors
from ..invoice.formats import RenderOptions
from ..invoice.logo import MAX_LOGO_BYTES, LogoError
from ..invoice.schema import problems
from . import (
    clients,
    credit_notes,
    events,
    exports,
    idempotency,
    identity,
    importing,
    numbering,
    orders,
    organisations,
    payments,
    queries,
    refunds,
    rendering,
    webhooks,
)
from . import invoices as drafts
from .errors import Unprocessable
from .identity import Actor, Member
from .models import (
    ClientCreate,
    ClientUpdate,
    CreditNoteCreate,
    CreditNoteIssued,
    InputModel,
    InvitationAnswer,
    InvitationRead,
    InvoiceCreate,
    InvoicePage,
    InvoiceUpdate,
    IssueRequest,
    MemberCreate,
    MemberUpdate,
    NumberingList,
    NumberingRead,
    NumberingUpdate,
    OrderCreate,
    OrderInvoiced,
    OrganisationMembership,
    OrganisationUpdate,
    Page,
    PaymentCreate,
    PaymentRecorded,
    RefundCreate,
    RefundRecorded,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryRead,
    WebhookRead,
    WebhookUpdate,
)
from .views import (
    client_view,
    dashboard_view,
    dump,
    event_view,
    invoice_detail,
    invoice_summary,
    member_view,
    order_view,
    organisation_view,
    payment_view,
)

__all__ = ["Services", "blueprint"]

blueprint = Blueprint("invoices", __name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_PER_PAGE = 100
_ETAG = re.compile(r'^"v(\d{1,9})"$')  # our strong entity-tags; a weak W/"v3" never matches If-Match
_Input = TypeVar("_Input", bound=InputModel)


class Services:
    """What the routes use, built once per app: ``settings``, ``db`` (a
    PostgreSQL pool) and ``blobs`` (GridFS: the kept documents of issued
    invoices); neither connects before first use."""

    def __init__(self, settings: Settings, db: Database, blobs: BlobStore) -> None:
        self.settings = settings
        self.db = db
        self.blobs = blobs


def services() -> Services:
    """The app's :class:`Services` (built by :func:`invoicer.invoices.app.create_app`)."""
    app_services: Services = current_app.extensions["invoicer"]
    return app_services


# --- identity -------------------------------------------------------------------


@blueprint.before_request
def _authenticate() -> None:
    """401 unless the request carries a valid Bearer JWT; the actor is ``g.actor``."""
    claims = bearer_claims()
    if not session_active(services().db, claims):  # signed out: its tokens die with it
        raise ApiError(401, "session_ended", "this session has ended; sign in again")
    g.actor = Actor(uuid.UUID(claims.sub), claims.email)  # verify_token has checked sub is a UUID


#: The request header naming the organisation a request acts for (a person may belong to several).
ORGANISATION_HEADER = "X-Organisation"


def _actor(cur: Any) -> Actor:
    """``g.actor`` with whether its address is verified (read in ``cur``'s transaction)."""
    actor: Actor = g.actor
    return replace(actor, email_verified=email_verified(cur, actor.user_id))


@contextmanager
def _session() -> Iterator[tuple[Any, Member]]:
    """One transaction and the caller's membership in it, of the
    organisation ``X-Organisation`` names (checked on every request: 404
    ``organisation_not_found`` unless the caller is a member of it), else
    of their first; commits when the block ends, rolls back if it raises."""
    chosen = request.headers.get(ORGANISATION_HEADER) or None
    with services().db.transaction() as cur:
        yield cur, identity.resolve_membership(cur, g.actor, chosen)


@contextmanager
def _personal() -> Iterator[tuple[Any, Actor]]:
    """One transaction and the caller as a person (not acting for an
    organisation), with ``email_verified`` read from the accounts table."""
    with services().db.transaction() as cur:
        yield cur, _actor(cur)


# --- request and response helpers -------------------------------------------------


def _public() -> str:
    """``PUBLIC_URL``: where links in answers point."""
    return services().settings.public_url


def _link(path: str) -> str:
    """An absolute link to ``path`` under ``PUBLIC_URL`` (never the request's Host)."""
    return services().settings.public_url.rstrip("/") + path


def _body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object; ``{}`` for an empty body when ``optional``.
    400 ``malformed_json`` (with line and column) for bad JSON, a non-object,
    nesting deeper than 32 levels or a lone surrogate
    (:func:`invoicer.common.web.json_object`), 415 for a body that is not JSON."""
    raw = request.get_data(cache=True)
    if not raw.strip() and optional:
        return {}
    mimetype = (request.mimetype or "").lower()
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", f"send the body as application/json, not {mimetype}")
    body = json_object(raw)
    nul = _nul_pointer(body, "")
    if nul is not None:
        raise Unprocessable("text cannot hold the NUL character", code="invalid_text", pointer=nul)
    return body


def parse(model: type[_Input], *, optional: bool = False) -> dict[str, Any]:
    """The request body checked by ``model`` (a Create/Update model of
    :mod:`.models`), as the JSON object of the fields it sent (values
    normalised: decimals and dates as strings), for the domain function.

    Errors: those of :func:`_body` (400 ``malformed_json``, 415, 422
    ``invalid_text`` for U+0000), then 422 with one detail per problem
    (RFC 6901 pointer, code, message; :func:`invoicer.invoice.schema.problems`).
    The error's code is ``unknown_field`` if a field is unknown, else the
    code ``model.error_codes`` gives the first problem's field (e.g.
    ``invalid_party``), else that problem's own code (``required``,
    ``invalid_amount``, ``invalid_terms`` ...). Unknown fields are listed first."""
    body = _body(optional=optional)
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        # Unknown fields first: a client that misspells a field learns that before anything else.
        found = sorted(field_errors(problems(exc, model)), key=lambda error: error.code != "unknown_field")
        details = [{"pointer": error.pointer, "code": error.code, "message": error.message} for error in found]
        first = found[0]
        codes = {error.code for error in found}
        top = first.pointer.split("/")[1] if first.pointer.count("/") else ""
        code = "unknown_field" if "unknown_field" in codes else model.error_codes.get(top, first.code)
        raise Unprocessable(first.message, code=code, details=details) from None
    fields: dict[str, Any] = parsed.model_dump(mode="json", exclude_unset=True)
    return fields


def _nul_pointer(value: Any, pointer: str) -> str | None:
    """The RFC 6901 pointer of the first string (or key) holding U+0000,
    which PostgreSQL cannot store; None if there is none."""
    if isinstance(value, str):
        return pointer if "\x00" in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)  # type: ignore[assignment]
    else:
        return None
    for key, item in items:
        where = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
        if "\x00" in str(key):
            return where
        found = _nul_pointer(item, where)
        if found is not None:
            return found
    return None


def _text_arg(name: str) -> str | None:
    """A free-text query parameter (400 if it holds U+0000); None when empty."""
    raw = request.args.get(name)
    if not raw:
        return None
    if "\x00" in raw:
        raise ApiError(
            400,
            "invalid_parameter",
            f"{name} cannot hold the NUL character",
            [{"parameter": name, "message": "NUL character"}],
        )
    return raw


def _choice_arg(name: str, choices: tuple[str, ...] | list[str]) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise ApiError(
            400,
            "invalid_parameter",
            f"{name} must be one of {', '.join(choices)}",
            [{"parameter": name, "message": f"got {raw!r}"}],
        )
    return raw


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
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


def _page_args() -> tuple[int, int]:
    return int_arg("page", 1, 1, 1_000_000), int_arg("per_page", 20, 1, MAX_PER_PAGE)


def _page(items: list[Any], page: int, per_page: int, total: int | None = None) -> dict[str, Any]:
    """A page of ``items`` (Read models) as JSON (:class:`.models.Page`): all
    of them sliced here unless ``total`` says they are one page already."""
    if total is None:
        total = len(items)
        items = items[(page - 1) * per_page : page * per_page]
    return dump(Page[Any](items=items, page=page, per_page=per_page, total=total))


def _etag(version: int) -> str:
    return f'"v{version}"'


def _if_match() -> tuple[bool, frozenset[int] | None]:
    """``(sent, versions)`` from ``If-Match`` (RFC 9110 section 13.1.1):
    ``sent`` is False without the header; ``versions`` is None for ``*``
    (any version), else the versions its entity-tags name, every tag of the
    list. The comparison is strong: a weak tag (``W/"v3"``) names none, and
    so does a tag that is not one of ours; an If-Match naming none can never
    match, which the domain answers with 412."""
    header = request.headers.get("If-Match")
    if header is None:
        return False, None
    header = header.strip()
    if header == "*":
        return True, None
    versions = {int(match.group(1)) for tag in header.split(",") if (match := _ETAG.match(tag.strip()))}
    return True, frozenset(versions)


def _optional_version() -> frozenset[int] | None:
    return _if_match()[1]


def _answer(body: Any, status: int = 200, *, etag: int | None = None, location: str | None = None) -> Response:
    """``body`` (a Read model, or JSON already) as the answer, with ``ETag`` and ``Location``."""
    response = jsonify(dump(body) if isinstance(body, BaseModel) else body)
    response.status_code = status
    if etag is not None:
        response.headers["ETag"] = _etag(etag)
    if location is not None:
        response.headers["Location"] = location
    return response


def _create(
    cur: Any,
    member: Member,
    action: Callable[[], tuple[int, Any]],
    location: Callable[[Any], str | None],
    *,
    body_bytes: bytes | None = None,
) -> Response:
    """Run ``action`` (returns ``(status, JSON body)``) once per
    ``Idempotency-Key`` when one is sent (see :mod:`.idempotency`: stored in
    the same transaction; a replay answers the first status and body with
    ``Idempotent-Replayed: true``); ``location(body)`` is the answer's
    ``Location`` path (or None)."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    replayed = False
    if key is None:
        status, body = action()
    else:
        raw = request.get_data(cache=True) if body_bytes is None else body_bytes
        fingerprint = idempotency.fingerprint(request.method, request.full_path.rstrip("?"), raw)
        (status, body), replayed = idempotency.idempotent(cur, member.actor, key.strip(), fingerprint, action)
    path = location(body)
    response = _answer(body, status, location=_link(path) if path else None)
    if key is not None:
        response.headers[REPLAYED_HEADER] = "true" if replayed else "false"
    return response


def _count_committed(response: Response, *counters: Counter) -> None:
    """Increment ``counters`` (:mod:`invoicer.common.metrics`) for a change
    that committed now: a success that is not an idempotent replay."""
    if response.status_code < 300 and response.headers.get(REPLAYED_HEADER) != "true":
        for counter in counters:
            counter.inc()


# --- organisation -------------------------------------------------------------------


@blueprint.get("/organisation")
def get_organisation() -> Response:
    """The caller's organisation (the seller profile)."""
    with _session() as (cur, member):
        row = organisations.get_organisation(cur, member)
    return _answer(organisation_view(row), etag=row["version"])


@blueprint.patch("/organisation")
def update_organisation() -> Response:
    """Change the profile (owner only; optional ``If-Match``)."""
    changes = parse(OrganisationUpdate)
    with _session() as (cur, member):
        row = organisations.update_organisation(cur, member, changes, _optional_version())
    return _answer(organisation_view(row), etag=row["version"])


def _logo_upload() -> bytes:
    """The image of ``PUT /organisation/logo``: the raw body sent as
    ``image/png`` or ``image/jpeg``, or the multipart field ``file``. Any
    other body is 422 ``invalid_logo`` (``wrong_type``); more than
    :data:`~invoicer.invoice.logo.MAX_LOGO_BYTES` is 413 ``invalid_logo``."""
    mimetype = (request.mimetype or "").lower()
    if mimetype in ("image/png", "image/jpeg"):
        data = request.get_data(cache=False)
    elif mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Unprocessable("send the image in the multipart field 'file'", code="invalid_logo", pointer="/file")
        data = upload.read(MAX_LOGO_BYTES + 1)
    else:
        raise Unprocessable(
            f"send the logo as image/png or image/jpeg (or multipart field 'file'), not {mimetype or 'nothing'}",
            code="invalid_logo",
            details=[{"pointer": "", "code": "wrong_type", "message": "not image/png or image/jpeg"}],
        )
    if len(data) > MAX_LOGO_BYTES:
        raise ApiError(413, "invalid_logo", f"the logo is larger than {MAX_LOGO_BYTES} bytes")
    return data


@blueprint.put("/organisation/logo")
def put_organisation_logo() -> Response:
    """Set the logo (owner only): PNG or JPEG, at most 1 MB and 4000x4000 px,
    stored as we re-encode it; answers the organisation (``has_logo`` true)."""
    with _session() as (cur, member):
        member.require_owner()  # a viewer learns 403 before anything about the image
        try:
            row = organisations.set_logo(cur, member, _logo_upload())
        except LogoError as exc:  # too many bytes
            raise ApiError(413, "invalid_logo", exc.message) from None
    return _answer(organisation_view(row), etag=row["version"])


@blueprint.get("/organisation/logo")
def get_organisation_logo() -> Response:
    """The logo as stored (``image/png`` or ``image/jpeg``); 404 when there is none."""
    with _session() as (cur, member):
        found = organisations.get_logo(cur, member)
    if found is None:
        raise ApiError(404, "no_logo", "the organisation has no logo")
    data, media_type = found
    response = Response(data, mimetype=media_type)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.delete("/organisation/logo")
def delete_organisation_logo() -> Response:
    """Remove the logo (owner only); 204, also when there was none."""
    with _session() as (cur, member):
        organisations.delete_logo(cur, member)
    return Response(status=204)


@blueprint.get("/organisation/numbering")
def list_numbering() -> Response:
    """Every series' numbering: ``{"items": [NumberingRead, ...]}``."""
    with _session() as (cur, member):
        rows = numbering.list_numbering(cur, member)
    return _answer(NumberingList.model_validate({"items": rows}))


@blueprint.get("/organisation/numbering/<series>")
def get_numbering(series: str) -> Response:
    """One series' numbering (``invoices`` or ``credit_notes``; else 404 ``series_not_found``)."""
    with _session() as (cur, member):
        row = numbering.get_numbering(cur, member, series)
    return _answer(NumberingRead.model_validate(row))


@blueprint.put("/organisation/numbering/<series>")
def set_numbering(series: str) -> Response:
    """``{"prefix", "format", "next_number"?}`` for a series (owner only):
    422 ``invalid_numbering`` naming the field, 409 ``number_taken`` or
    ``sequence_started`` (:func:`invoicer.invoices.numbering.set_numbering`)."""
    body = parse(NumberingUpdate)
    with _session() as (cur, member):
        row = numbering.set_numbering(cur, member, series, body["prefix"], body["format"], body.get("next_number"))
    return _answer(NumberingRead.model_validate(row))


@blueprint.get("/organisation/members")
def list_members() -> Response:
    """The members and open invitations of the organisation, oldest first."""
    page, per_page = _page_args()
    with _session() as (cur, member):
        rows = identity.list_members(cur, member)
    return _answer(_page([member_view(row) for row in rows], page, per_page))


@blueprint.post("/organisation/members")
def invite_member() -> Response:
    """Invite ``{"email", "role"}`` (owner only); 201 with the invitation."""
    body = parse(MemberCreate)
    with _session() as (cur, member):
        settings = services().settings

        def action() -> tuple[int, Any]:
            row = identity.invite(
                cur,
                member,
                body["email"],
                body["role"],
                public_url=settings.public_url,
                ttl_seconds=settings.invitation_ttl_seconds,
            )
            return 201, dump(member_view({**row, "user_id": None}))

        return _create(cur, member, action, lambda _: None)


@blueprint.patch("/organisation/members/<membership_id>")
def change_member_role(membership_id: str) -> Response:
    """``{"role"}`` for a member (owner only); 409 ``last_owner`` for the last owner's demotion."""
    body = parse(MemberUpdate)
    with _session() as (cur, member):
        row = identity.change_role(cur, member, membership_id, body["role"])
    return _answer(member_view(row))


@blueprint.delete("/organisation/members/<membership_id>")
def remove_member(membership_id: str) -> Response:
    """Remove a member (owner only); 204; 409 ``last_owner`` for the last owner."""
    with _session() as (cur, member):
        identity.remove_member(cur, member, membership_id)
    return Response(status=204)


@blueprint.delete("/organisation/invitations/<invitation_id>")
def revoke_invitation(invitation_id: str) -> Response:
    """Withdraw an open invitation (owner only); 204; its link stops working."""
    with _session() as (cur, member):
        identity.revoke_invitation(cur, member, invitation_id)
    return Response(status=204)


# --- the caller's organisations and invitations ----------------------------------------


@blueprint.get("/organisations")
def list_organisations() -> Response:
    """The organisations the caller belongs to, with their role in each (a
    request acts for one of them with ``X-Organisation: <organisation_id>``)."""
    page, per_page = _page_args()
    with _session() as (cur, member):  # a person with none gets their own first
        rows = identity.list_organisations(cur, member.actor)
    return _answer(_page([OrganisationMembership.model_validate(row) for row in rows], page, per_page))


@blueprint.get("/invitations")
def list_invitations() -> Response:
    """The open invitations to the caller's address (403 ``email_not_verified`` before it is verified)."""
    page, per_page = _page_args()
    with _personal() as (cur, actor):
        rows = identity.my_invitations(cur, actor)
    return _answer(_page([InvitationRead.model_validate(row) for row in rows], page, per_page))


def _answer_invitation(accept: bool, invitation_id: str | None) -> Response:
    token = parse(InvitationAnswer)["token"] if invitation_id is None else None
    with _personal() as (cur, actor):
        row = identity.answer_invitation(cur, actor, accept=accept, invitation_id=invitation_id, token=token)
    return _answer(InvitationRead.model_validate(row))


@blueprint.post("/invitations/preview")
def preview_invitation() -> Response:
    """The invitation of a mailed link, ``{"token"}``, to show before answering it (nothing changes)."""
    token = parse(InvitationAnswer)["token"]
    with _personal() as (cur, actor):
        row = identity.preview_invitation(cur, actor, token)
    return _answer(InvitationRead.model_validate(row))


@blueprint.post("/invitations/accept")
def accept_invitation_by_token() -> Response:
    """Accept the invitation of a mailed link: ``{"token"}``."""
    return _answer_invitation(True, None)


@blueprint.post("/invitations/decline")
def decline_invitation_by_token() -> Response:
    """Decline the invitation of a mailed link: ``{"token"}``."""
    return _answer_invitation(False, None)


@blueprint.post("/invitations/<invitation_id>/accept")
def accept_invitation(invitation_id: str) -> Response:
    """Accept one of :func:`list_invitations`."""
    return _answer_invitation(True, invitation_id)


@blueprint.post("/invitations/<invitation_id>/decline")
def decline_invitation(invitation_id: str) -> Response:
    """Decline one of :func:`list_invitations`."""
    return _answer_invitation(False, invitation_id)


# --- clients --------------------------------------------------------------------------


@blueprint.get("/clients")
def list_clients() -> Response:
    """Clients by name; ``?q=`` on name or company; ``?archived=true`` includes archived ones."""
    page, per_page = _page_args()
    archived = _choice_arg("archived", ("true", "false")) == "true"
    with _session() as (cur, member):
        found = clients.list_clients(
            cur, member, q=_text_arg("q"), include_archived=archived, page=page, per_page=per_page
        )
    return _answer(_page([client_view(row) for row in found["items"]], page, per_page, found["total"]))


@blueprint.get("/clients.csv")
def export_clients() -> Response:
    """Every client ``GET /clients`` with the same ``q`` and ``archived``
    finds, by name, as CSV (:mod:`.exports`); read in batches of
    :data:`_EXPORT_BATCH`, each in its own transaction."""
    archived = _choice_arg("archived", ("true", "false")) == "true"
    q = _text_arg("q")

    def batch(page: int) -> list[list[Any]]:
        with _session() as (cur, member):
            found = clients.list_clients(cur, member, q=q, include_archived=archived, page=page, per_page=_EXPORT_BATCH)
        return [exports.client_row(dump(client_view(row))) for row in found["items"]]

    first = batch(1)

    def rows() -> Iterator[list[Any]]:
        yield from first
        page, last = 1, first
        while len(last) == _EXPORT_BATCH:
            page += 1
            last = batch(page)
            yield from last

    return _csv("clients.csv", exports.csv_lines(exports.CLIENT_COLUMNS, rows()))


@blueprint.post("/clients")
def create_client() -> Response:
    """A new client; 201 with it and its ``Location``."""
    body = parse(ClientCreate)
    with _session() as (cur, member):

        def action() -> tuple[int, Any]:
            return 201, dump(client_view(clients.create_client(cur, member, body)))

        return _create(cur, member, action, lambda view: f"/clients/{view['id']}")


@blueprint.get("/clients/<client_id>")
def get_client(client_id: str) -> Response:
    with _session() as (cur, member):
        row = clients.get_client(cur, member, client_id)
    return _answer(client_view(row), etag=row["version"])


@blueprint.patch("/clients/<client_id>")
def update_client(client_id: str) -> Response:
    """Change some fields (``null`` clears an optional one; optional ``If-Match``)."""
    changes = parse(ClientUpdate)
    with _session() as (cur, member):
        row = clients.update_client(cur, member, client_id, changes, _optional_version())
    return _answer(client_view(row), etag=row["version"])


@blueprint.delete("/clients/<client_id>")
def archive_client(client_id: str) -> Response:
    """Archive the client (its invoices keep referring to it); 200 with it."""
    with _session() as (cur, member):
        row = clients.archive_client(cur, member, client_id)
    return _answer(client_view(row), etag=row["version"])


# --- invoices ---------------------------------------------------------------------------


def _invoice_filters() -> dict[str, Any]:
    """The invoice list's filters and sort from the query string
    (:func:`.queries.list_invoices`'s keywords); 400 for an unknown value."""
    return {
        "status": _choice_arg("status", queries.STATUSES),
        "client_id": _text_arg("client_id"),
        "issued_from": _date_arg("issued_from"),
        "issued_to": _date_arg("issued_to"),
        "q": _text_arg("q"),
        "kind": _choice_arg("kind", ("invoice", "credit_note")),
        "sort": _choice_arg("sort", tuple(queries.SORTS)) or "created_at",
        "order": _choice_arg("order", ("asc", "desc")) or "desc",
    }


@blueprint.get("/invoices")
def list_invoices() -> Response:
    """Invoices and credit notes, filtered, sorted and paginated."""
    page, per_page = _page_args()
    filters = _invoice_filters()
    with _session() as (cur, member):
        found = queries.list_invoices(cur, member, **filters, page=page, per_page=per_page, cursor=_text_arg("cursor"))
    found["items"] = [invoice_summary(view) for view in found["items"]]
    return _answer(dump(InvoicePage.model_validate(found)))


#: Rows read per transaction while a CSV export streams.
_EXPORT_BATCH = 200


@blueprint.get("/invoices.csv")
def export_invoices() -> Response:
    """Every invoice and credit note the list's filters match (``GET
    /invoices``'s, without paging), sorted the same, as CSV
    (:mod:`.exports`). Streamed: each batch of :data:`_EXPORT_BATCH` rows is
    read in its own transaction, walking the list's keyset cursors, so a
    long export holds no transaction open. 400/422 for a bad filter, before
    the first byte."""
    filters = _invoice_filters()

    def batch(cursor: str | None) -> tuple[list[list[Any]], str | None]:
        with _session() as (cur, member):
            found = queries.list_invoices(cur, member, **filters, per_page=_EXPORT_BATCH, cursor=cursor)
        rows = [exports.invoice_row(dump(invoice_summary(view))) for view in found["items"]]
        return rows, found.get("next")

    first, following = batch(None)  # a refused filter answers its 4xx here

    def rows() -> Iterator[list[Any]]:
        yield from first
        cursor = following
        while cursor:
            more, cursor = batch(cursor)
            yield from more

    return _csv("invoices.csv", exports.csv_lines(exports.INVOICE_COLUMNS, rows()))


def _csv(filename: str, chunks: Iterator[bytes]) -> Response:
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.post("/invoices")
def create_invoice() -> Response:
    """A new draft; 201 with it, its ``ETag`` and ``Location``."""
    body = parse(InvoiceCreate)
    with _session() as (cur, member):

        def action() -> tuple[int, Any]:
            return 201, dump(invoice_detail(cur, member, drafts.create_draft(cur, member, body), _public()))

        response = _create(cur, member, action, lambda view: f"/invoices/{view['id']}")
    response.headers["ETag"] = _etag(response.get_json()["version"])
    return response


@blueprint.post("/invoices/import")
def import_invoice() -> Response:
    """An existing canonical or legacy invoice document (raw JSON body or
    multipart field ``file``, as ``POST /upload`` takes it) becomes an issued
    invoice record numbered as in the document (series ``imported``);
    ``?client_id=`` links it to a client. 201 with it."""
    raw = json_document()
    client_id = _text_arg("client_id")
    settings = services().settings
    with _session() as (cur, member):

        def action() -> tuple[int, Any]:
            view = importing.import_invoice(
                cur,
                member,
                raw,
                client_id=client_id,
                legacy_currency=settings.legacy_currency,
                max_lines=settings.max_lines,
                blobs=services().blobs,
            )
            return 201, dump(invoice_detail(cur, member, view, _public()))

        response = _create(cur, member, action, lambda view: f"/invoices/{view['id']}", body_bytes=raw)
    _count_committed(response, metrics.JOBS_ACCEPTED.labels("record"))
    return response


@blueprint.get("/invoices/<invoice_id>")
def get_invoice(invoice_id: str) -> Response:
    """One invoice or credit note, with ``ETag``."""
    with _session() as (cur, member):
        detail = invoice_detail(cur, member, drafts.get_invoice(cur, member, invoice_id), _public())
    return _answer(detail, etag=detail.version)


@blueprint.patch("/invoices/<invoice_id>")
def update_invoice(invoice_id: str) -> Response:
    """Change a draft; needs ``If-Match`` with the draft's ``ETag``."""
    # HTTP preconditions come before any domain check (issue 17): a missing If-Match is
    # 428 whatever the draft's state or the caller's role (RFC 6585 section 3).
    sent, version = _if_match()
    if not sent:
        raise ApiError(
            428,
            "precondition_required",
            "send If-Match with the ETag of the draft you changed (from GET /invoices/{id}),"
            " so that nobody's edit is overwritten",
        )
    changes = parse(InvoiceUpdate)
    with _session() as (cur, member):
        view = drafts.update_draft(cur, member, invoice_id, changes, version)
        detail = invoice_detail(cur, member, view, _public())
    return _answer(detail, etag=detail.version)


@blueprint.delete("/invoices/<invoice_id>")
def delete_invoice(invoice_id: str) -> Response:
    """Delete a draft (optional ``If-Match``); 204."""
    with _session() as (cur, member):
        drafts.delete_draft(cur, member, invoice_id, _optional_version())
    return Response(status=204)


@blueprint.post("/invoices/<invoice_id>/issue")
def issue_invoice(invoice_id: str) -> Response:
    """Issue a draft: its number is assigned; optional ``{"issue_date"}`` and ``If-Match``."""
    body = parse(IssueRequest, optional=True)
    with _session() as (cur, member):

        def action() -> tuple[int, Any]:
            view = drafts.issue(
                cur,
                member,
                invoice_id,
                issue_date=body.get("issue_date"),
                expected_version=_optional_version(),
                blobs=services().blobs,
            )
            return 200, dump(invoice_detail(cur, member, view, _public()))

        response = _create(cur, member, action, lambda _: None)
    _count_committed(response, metrics.INVOICES_ISSUED.labels("invoice"), metrics.JOBS_ACCEPTED.labels("record"))
    return response


@blueprint.post("/invoices/<invoice_id>/send")
def send_invoice(invoice_id: str) -> Response:
    """Send an issued invoice to its client; it becomes ``sent``."""
    _body(optional=True)
    with _session() as (cur, member):

        def action() -> tuple[int, Any]:
            # Marks it sent and queues the mail with the kept PDF attached, in this transaction.
            sent = drafts.send(cur, member, invoice_id, blobs=services().blobs)
            return 200, dump(invoice_detail(cur, member, sent, _public()))

        return _create(cur, member, action, lambda _: None)


@blueprint.post("/invoices/<invoice_id>/payments")
def record_payment(invoice_id: str) -> Response:
    """``{"amount", "date", "method", "reference"}``; 201 ``{"payment", "invoice"}``."""
    body = parse(PaymentCreate)
    with _session() as (cur, member):

        def action() -> tuple[int, Any]:
            done = payments.record_payment(
                cur,
                member,
                invoice_id,
                body["amount"],
                paid_on=body.get("date"),
                method=body.get("method"),
                reference=body.get("reference"),
            )
            return 201, dump(
                PaymentRecorded(
                    payment=payment_view(done["payment"]),
                    invoice=invoice_detail(cur, member, done["invoice"], _public()),
                )
            )

        response = _create(cur, member, action, lambda body: f"/invoices/{body['invoice']['id']}")
    _count_committed(response, metrics.PAYMENTS_RECORDED)
    return response


@blueprint.post("/invoices/<invoice_id>/refunds")
def record_refund(invoice_id: str) -> Response:
    """``{"amount", "date", "method", "reference"}`` paid back to the client,
    at most the refund due; 201 ``{"refund", "invoice"}``."""
    body = parse(RefundCreate)
    with _session() as (cur, member):

        def action() -> tuple[int, Any]:
            done = refunds.record_refund(
                cur,
                member,
                invoice_id,
                body["amount"],
                refunded_on=body.get("date"),
                method=body.get("method"),
                reference=body.get("reference"),
                applied_to=body.get("applied_to"),
            )
            return 201, dump(
                RefundRecorded(
                    refund=payment_view(done["refund"]),
                    invoice=invoice_detail(cur, member, done["invoice"], _public()),
                )
            )

        return _create(cur, member, action, lambda body: f"/invoices/{body['invoice']['id']}")


@blueprint.post("/invoices/<invoice_id>/credit-notes")
def create_credit_note(invoice_id: str) -> Response:
    """``{"lines": [{"position", "quantity"}], "reason"}`` (no lines: the
    whole invoice); 201 ``{"credit_note", "invoice"}``, ``Location`` the credit note."""
    body = parse(CreditNoteCreate, optional=True)
    with _session() as (cur, member):

        def action() -> tuple[int, Any]:
            done = credit_notes.issue_credit_note(
                cur,
                member,
                invoice_id,
                lines=body.get("lines"),
                reason=body.get("reason"),
                issue_date=body.get("issue_date"),
                blobs=services().blobs,
            )
            return 201, dump(
                CreditNoteIssued(
                    credit_note=invoice_detail(cur, member, done["credit_note"], _public()),
                    invoice=invoice_detail(cur, member, done["invoice"], _public()),
                )
            )

        response = _create(cur, member, action, lambda body: f"/invoices/{body['credit_note']['id']}")
    _count_committed(response, metrics.INVOICES_ISSUED.labels("credit_note"), metrics.JOBS_ACCEPTED.labels("record"))
    return response


@blueprint.get("/invoices/<invoice_id>/<kept_format:fmt>")
def invoice_document(invoice_id: str, fmt: str) -> Response:
    """The invoice in a kept format (``pdf``, ``xlsx``: the registry's
    :func:`~invoicer.invoice.formats.kept_names`) as an attachment: for an issued invoice or a
    credit note the kept file (503 with ``Retry-After`` while the worker is
    still rendering it); for a draft a preview rendered now, marked DRAFT
    and without a number."""
    svc = services()
    settings = svc.settings
    with _session() as (cur, member):
        view = drafts.get_invoice(cur, member, invoice_id)
        if view["status"] == "draft":
            options = RenderOptions(settings.invoice_page_size, settings.invoice_locale)
            found: tuple[bytes, str, str] | None = rendering.preview(cur, member, invoice_id, fmt, options)
    if view["status"] != "draft":
        found = rendering.document(svc.db, svc.blobs, member, invoice_id, fmt)
    if found is None:
        raise ApiError(
            503,
            "rendering",
            f"the {fmt} of {view['number']} is still being rendered; try again shortly",
            headers={"Retry-After": "2"},
        )
    data, filename, media_type = found
    return send_file(io.BytesIO(data), mimetype=media_type, as_attachment=True, download_name=filename, max_age=0)


@blueprint.get("/invoices/<invoice_id>/events")
def invoice_events(invoice_id: str) -> Response:
    """The invoice's activity log, oldest first: ``{id, type, actor, occurred_at, data}``."""
    page, per_page = _page_args()
    with _session() as (cur, member):
        items = [event_view(row) for row in events.activity(cur, member, invoice_id)]
    return _answer(_page(items, page, per_page))


# --- orders ---------------------------------------------------------------------------------


@blueprint.get("/orders")
def list_orders() -> Response:
    """Orders, newest first; ``?status=open|invoiced``."""
    page, per_page = _page_args()
    status = _choice_arg("status", ("open", "invoiced"))
    with _session() as (cur, member):
        rows = orders.list_orders(cur, member, status=status)
    return _answer(_page([order_view(row) for row in rows], page, per_page))


@blueprint.post("/orders")
def create_order() -> Response:
    """``{"client_id", "lines", "currency", "notes"}``; 201 with the open order."""
    body = parse(OrderCreate)
    with _session() as (cur, member):

        def action() -> tuple[int, Any]:
            return 201, dump(order_view(orders.create_order(cur, member, body)))

        return _create(cur, member, action, lambda view: f"/orders/{view['id']}")


@blueprint.get("/orders/<order_id>")
def get_order(order_id: str) -> Response:
    with _session() as (cur, member):
        return _answer(order_view(orders.get_order(cur, member, order_id)))


@blueprint.post("/orders/<order_id>/invoice")
def invoice_order(order_id: str) -> Response:
    """A draft invoice from an open order; 201 ``{"order", "invoice"}``, ``Location`` the draft."""
    _body(optional=True)
    with _session() as (cur, member):

        def action() -> tuple[int, Any]:
            done = orders.invoice_order(cur, member, order_id)
            return 201, dump(
                OrderInvoiced(
                    order=order_view(done["order"]), invoice=invoice_detail(cur, member, done["invoice"], _public())
                )
            )

        return _create(cur, member, action, lambda body: f"/invoices/{body['invoice']['id']}")


# --- dashboard ---------------------------------------------------------------------------------


@blueprint.get("/dashboard")
def dashboard() -> Response:
    """Per currency: outstanding, overdue, paid in the last 30 days, counts
    by status and the ageing of the unpaid balance (see :func:`.queries.dashboard`)."""
    with _session() as (cur, member):
        figures = queries.dashboard(cur, member)
        refunds_due = refunds.refunds_due_by_currency(cur, member)
    return _answer(dashboard_view(figures, refunds_due))
    return _answer(dashboard_view(figures))


# --- webhooks (owners only) ------------------------------------------------------------------


def _delivery_view(row: dict[str, Any]) -> dict[str, Any]:
    return dump(WebhookDeliveryRead.model_validate(row))


@blueprint.get("/webhooks")
def list_webhooks() -> Response:
    """The organisation's webhook endpoints, without their secrets."""
    page, per_page = _page_args()
    with _session() as (cur, member):
        rows = webhooks.list_endpoints(cur, member)
    return _answer(_page([WebhookRead.model_validate(row) for row in rows], page, per_page))


@blueprint.post("/webhooks")
def create_webhook() -> Response:
    """A new endpoint; 201 with its ``secret``, answered this once (so no
    ``Idempotency-Key`` replay, which would keep it a second time)."""
    body = parse(WebhookCreate)
    with _session() as (cur, member):
        row = webhooks.create_endpoint(cur, member, body, services().settings.allowed_networks)
    return _answer(WebhookCreated.model_validate(row), 201, location=_link(f"/webhooks/{row['id']}"))


@blueprint.patch("/webhooks/<webhook_id>")
def update_webhook(webhook_id: str) -> Response:
    """Change ``url``, ``events``, ``description``, ``enabled``."""
    changes = parse(WebhookUpdate)
    with _session() as (cur, member):
        row = webhooks.update_endpoint(cur, member, webhook_id, changes, services().settings.allowed_networks)
    return _answer(WebhookRead.model_validate(row))


@blueprint.delete("/webhooks/<webhook_id>")
def delete_webhook(webhook_id: str) -> Response:
    """Remove the endpoint, its deliveries and their log; 204."""
    with _session() as (cur, member):
        webhooks.delete_endpoint(cur, member, webhook_id)
    return Response(status=204)


@blueprint.post("/webhooks/<webhook_id>/rotate-secret")
def rotate_webhook_secret(webhook_id: str) -> Response:
    """A new secret (answered this once); the old one signs too for ``WEBHOOK_SECRET_GRACE_SECONDS``."""
    _body(optional=True)
    with _session() as (cur, member):
        row = webhooks.rotate_secret(cur, member, webhook_id, services().settings.webhook_secret_grace_seconds)
    return _answer(WebhookCreated.model_validate(row))


@blueprint.get("/webhooks/<webhook_id>/deliveries")
def list_webhook_deliveries(webhook_id: str) -> Response:
    """The endpoint's deliveries, newest first, each with its attempts."""
    page, per_page = _page_args()
    with _session() as (cur, member):
        rows, total = webhooks.list_deliveries(cur, member, webhook_id, page=page, per_page=per_page)
    return _answer(_page([WebhookDeliveryRead.model_validate(row) for row in rows], page, per_page, total))


@blueprint.post("/webhooks/<webhook_id>/deliveries/<delivery_id>/retry")
def retry_webhook_delivery(webhook_id: str, delivery_id: str) -> Response:
    """Send a succeeded or dead delivery again (same ``webhook-id``); 202 with it, now ``pending``."""
    _body(optional=True)
    with _session() as (cur, member):
        row = webhooks.retry_delivery(cur, member, webhook_id, delivery_id)
    return _answer(_delivery_view(row), 202)
