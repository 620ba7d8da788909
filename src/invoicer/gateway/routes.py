"""The gateway's routes. Every error is ``{"error": {"code", "message", "details"}}``.

* ``POST /login`` (HTTP Basic or JSON ``{"email", "password"}``) and ``POST /register``: passed to the auth service.
* ``POST /upload``: an invoice as multipart field ``file`` or a raw JSON body;
  ``?formats=pdf,xlsx`` (default ``pdf``; legacy ``?format=pdf|excel``).
  202 with the job; the document's EN 16931 codes and identifiers are checked
  (and, for ``cii``, ``ubl`` or ``facturx``, the profile's business terms),
  and what fails is a warning on the job (``warnings``), never a refusal;
  400 malformed JSON or parameters; 401 no valid token, or its account is gone;
  413 too large; 415 not JSON; 422 invalid invoice (JSON-pointer details);
  503 with ``Retry-After`` when storage or database is down (nothing is
  queued then, and the job is not kept). The broker is not asked: the job
  and its render request commit together in PostgreSQL (the transactional
  outbox) and the outbox relay publishes it, once the broker is back if it
  is down.
* ``GET /jobs`` (own, newest first, ``?page=&per_page=&status=``; any other
  parameter is 400), ``GET /jobs/<id>``.
* ``GET /download?fid=``: own files only; anyone else's, or unknown, is 404.
* ``GET /healthz``, ``GET /readyz``, ``GET /openapi.json``.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import requests
from flask import Blueprint, Response, current_app, g, jsonify, request, send_file
from flask.typing import ResponseReturnValue

from ..common import metrics, outbox
from ..common.db import DatabaseUnavailable
from ..common.errors import ApiError
from ..common.jobs import KINDS, STATUSES, Job, insert_job
from ..common.logging import get_logger
from ..common.messages import RenderRequest
from ..common.sessions import session_active
from ..common.storage import StorageUnavailable
from ..common.tokens import Claims
from ..common.users import account_exists
from ..common.web import (
    REQUEST_ID_HEADER,
    bearer_claims,
    int_arg,
    json_document,
    login_credentials,
    public_url_for,
    request_id,
)
from ..invoice import formats as output_formats
from ..invoice.einvoice.checks import invoice_problems
from ..invoice.einvoice.writer import missing_terms
from ..invoice.errors import InvalidInvoice, MalformedDocument, label, pointer
from ..invoice.loader import load_invoice
from ..invoice.model import Invoice
from ..invoice.parsing import parse_document
from .models import JobError, JobFile, JobRead, JobTotals, JobWarning, Notification
from .openapi import openapi_document
from .services import Services

__all__ = ["blueprint", "job_view", "parse_formats", "submit_upload"]

log = get_logger(__name__)
blueprint = Blueprint("gateway", __name__)

#: The parameters and result of a view that :func:`require_user` wraps.
P = ParamSpec("P")
R = TypeVar("R")


def services() -> Services:
    """The app's :class:`Services` (built by :func:`invoicer.gateway.app.create_app`)."""
    found: Services = current_app.extensions["invoicer"]
    return found


def live_bearer_claims() -> Claims:
    """:func:`~invoicer.common.web.bearer_claims`, and 401 ``session_ended``
    when the token's session was signed out (or reset, or is past its
    limit): a token stops working when its session ends, not at its ``exp``."""
    claims = bearer_claims()
    db = services().db
    if not session_active(db, claims):
        if not account_exists(db, claims.sub):  # the account is gone (and its sessions with it)
            raise ApiError(401, "invalid_token", "the account of this token no longer exists")
        raise ApiError(
            401, "session_ended", "this session has ended; sign in again", headers={"WWW-Authenticate": "Bearer"}
        )
    return claims


def require_user(view: Callable[P, R]) -> Callable[P, R]:
    """Reject the request with 401 unless it carries a valid Bearer JWT of
    a live session; the claims are in ``g.claims``."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        g.claims = live_bearer_claims()
        return view(*args, **kwargs)

    return wrapper


def parse_formats(args: Mapping[str, str]) -> list[str]:
    """The requested output formats from the query string, in a stable
    order without duplicates; raises :class:`ApiError` 400 for unknown ones.
    The accepted names, their order and the messages come from the format
    registry (:mod:`invoicer.invoice.formats`); the legacy ``?format=`` also
    takes a format's aliases (``excel``)."""
    known = output_formats.names()
    if "formats" in args:
        raw = [part.strip().lower() for part in args.get("formats", "").split(",") if part.strip()]
        unknown = [part for part in raw if part not in known]
        if unknown or not raw:
            raise ApiError(
                400,
                "invalid_parameter",
                f"formats must be a comma list of {', '.join(known)}",
                [{"parameter": "formats", "message": f"unknown format(s): {', '.join(unknown) or '(empty)'}"}],
            )
    elif "format" in args:
        legacy = args.get("format", "").strip().lower()
        try:
            raw = [output_formats.resolve(legacy).name]
        except KeyError:
            *others, last = output_formats.legacy_names()
            choices = f"{', '.join(others)} or {last}" if others else last
            raise ApiError(
                400,
                "invalid_parameter",
                f"format must be {choices}",
                [{"parameter": "format", "message": f"unknown format: {legacy or '(empty)'}"}],
            ) from None
    else:
        raw = ["pdf"]
    return [fmt for fmt in known if fmt in raw]


def job_view(job: Job) -> dict[str, Any]:
    """The public JSON of a job: :class:`.models.JobRead` (the OpenAPI ``Job`` schema)."""
    view = JobRead(
        job_id=job.id,
        status=job.status,
        kind=job.kind,
        invoice_number=job.invoice_number,
        formats=job.formats,
        created_at=job.created_at,
        updated_at=job.updated_at,
        totals=JobTotals.model_validate(job.totals) if job.totals is not None else None,
        files=[
            JobFile(
                format=item["format"],
                fid=item["fid"],
                size=item["size"],
                download_url=public_url_for("gateway.download", fid=item["fid"]),
            )
            for item in job.files
        ],
        error=JobError.model_validate(job.error) if job.error is not None else None,
        notification=Notification.model_validate(job.notification) if job.notification is not None else None,
        warnings=[JobWarning.model_validate(item) for item in job.warnings],
        status_url=public_url_for("gateway.get_job", job_id=job.id),
    )
    return view.model_dump(mode="json")


# --- accounts ---------------------------------------------------------------


def ask_auth(
    path: str, headers: dict[str, str] | None = None, *, method: str = "POST", **kwargs: Any
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """POST ``path`` to the auth service with this request's id; returns its
    status, its JSON body and the headers worth passing on
    (``WWW-Authenticate``, ``Retry-After``). An answer that is not JSON is 502
    with an ``upstream_error`` body. Raises :class:`ApiError` 503 when auth
    cannot be reached. The API's routes and the web app's forms both use it."""
    settings = services().settings
    # The same request id, so that the auth service's log lines carry it too.
    headers = {**(headers or {}), REQUEST_ID_HEADER: request_id()}
    try:
        reply = requests.request(
            method, f"{settings.auth_url.rstrip('/')}{path}", headers=headers, timeout=10, **kwargs
        )
    except requests.RequestException as exc:
        log.warning("auth service unreachable", extra={"error": repr(exc)})
        raise ApiError(
            503, "unavailable", "the auth service is unavailable; try again shortly", headers={"Retry-After": "5"}
        ) from None
    if reply.status_code == 204:
        return 204, {}, {}
    try:
        body = reply.json()
    except ValueError:
        return 502, {"error": {"code": "upstream_error", "message": "auth service answered badly", "details": []}}, {}
    passed = {key: reply.headers[key] for key in ("WWW-Authenticate", "Retry-After") if key in reply.headers}
    return reply.status_code, body, passed


def _forward_to_auth(path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> ResponseReturnValue:
    status, body, passed = ask_auth(path, headers, **kwargs)
    if status == 204:
        return Response(status=204)
    return jsonify(body), status, passed


def _json_body(shape: str) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", f"the body must be a JSON object {shape}")
    return body


def _bearer_to_auth(path: str, *, method: str = "POST") -> ResponseReturnValue:
    """Pass the caller's Bearer token to auth's ``path`` (401 here first without a valid one)."""
    bearer_claims()
    headers = {"Authorization": request.headers["Authorization"], "X-Client-Address": request.remote_addr or ""}
    return _forward_to_auth(path, headers=headers, method=method)


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    """End the Bearer token's session (asks auth): 204, and every token of
    that session is refused from now on, by the API and the web app."""
    return _bearer_to_auth("/logout")


@blueprint.post("/refresh")
def refresh() -> ResponseReturnValue:
    """A fresh token of the same session (sliding renewal, never past
    ``SESSION_MAX_SECONDS`` after sign-in); 401 once the session ended."""
    return _bearer_to_auth("/refresh")


@blueprint.get("/me")
def me() -> ResponseReturnValue:
    """The signed-in account, with whether its address is verified."""
    return _bearer_to_auth("/me", method="GET")


@blueprint.post("/verify-email")
def verify_email() -> ResponseReturnValue:
    """Confirm an address with the token of its mailed link: ``{"token"}``."""
    return _forward_to_auth("/verify-email", json=_json_body('{"token"}'))


@blueprint.post("/verify-email/resend")
def resend_verification() -> ResponseReturnValue:
    """Mail the signed-in account a new verification link: 202; 409 when verified already; 429."""
    return _bearer_to_auth("/verify-email/resend")


@blueprint.post("/password-reset")
def request_password_reset() -> ResponseReturnValue:
    """Mail a reset link to ``{"email"}``: 202 whether or not it has an
    account; 429 with ``Retry-After`` past the limits per address and client."""
    headers = {"X-Client-Address": request.remote_addr or ""}
    return _forward_to_auth("/password-reset", headers=headers, json=_json_body('{"email"}'))


@blueprint.post("/password-reset/confirm")
def confirm_password_reset() -> ResponseReturnValue:
    """Set a new password with the link's token: ``{"token", "password"}``; 204."""
    return _forward_to_auth("/password-reset/confirm", json=_json_body('{"token", "password"}'))


@blueprint.post("/login")
def login() -> ResponseReturnValue:
    """Exchange the e-mail and password for a JWT (asks the auth service): HTTP
    Basic (UTF-8, RFC 7617) or a JSON body ``{"email", "password"}``; both
    reach auth as they came, checked here first (401, 400, 422)."""
    login_credentials()
    headers = {"X-Client-Address": request.remote_addr or ""}
    if request.headers.get("Authorization"):
        return _forward_to_auth("/login", headers={**headers, "Authorization": request.headers["Authorization"]})
    return _forward_to_auth("/login", headers=headers, json=request.get_json(force=True))


@blueprint.post("/register")
def register() -> ResponseReturnValue:
    """Create an account (asks the auth service)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", 'the body must be a JSON object {"email", "password"}')
    return _forward_to_auth("/register", json=body)


# --- invoices -----------------------------------------------------------------


@blueprint.post("/upload")
@require_user
def upload() -> ResponseReturnValue:
    """Validate an invoice, store it and queue its rendering."""
    received = time.time()
    formats = parse_formats(request.args)
    raw = json_document()  # bodies over MAX_UPLOAD_BYTES, chunked or not, were refused with 413
    job = submit_upload(raw, formats, g.claims, received=received)
    status_url = public_url_for("gateway.get_job", job_id=job.id)
    return jsonify({"job_id": job.id, "status": job.status, "status_url": status_url}), 202, {"Location": status_url}


def submit_upload(raw: bytes, formats: list[str], claims: Claims, *, received: float | None = None) -> Job:
    """Validate the invoice document ``raw`` (canonical or legacy JSON bytes),
    store it in GridFS, record its job for ``claims.sub`` and queue its
    rendering into ``formats`` (names from :func:`parse_formats`); returns
    the new, queued :class:`Job`. ``received`` (epoch seconds) is when the
    request arrived, for the job's timings. The API's ``POST /upload`` and
    the web app's upload page both call this.

    The upload is stored in GridFS first; then one transaction inserts the
    job and its :class:`RenderRequest` as an outbox command
    (:mod:`invoicer.common.outbox`), which the outbox relay publishes after
    the commit: the broker being down delays the rendering, never refuses
    the upload or loses it.

    A valid document is rendered even when its EN 16931 codes and
    identifiers fail their checks, or it lacks what a requested e-invoice
    format's profile needs: those are the job's ``warnings``
    (:func:`upload_warnings`), not a refusal, so that documents made by
    other systems still render.

    Raises :class:`ApiError` 400 ``malformed_json`` (details: message, line,
    column) and 422 ``invalid_invoice`` (details: JSON-pointer errors);
    :class:`DatabaseUnavailable` or :class:`StorageUnavailable` when a
    dependency is down, leaving no job and no stored upload behind.
    """
    received = time.time() if received is None else received
    svc = services()
    settings = svc.settings
    if not account_exists(svc.db, claims.sub):  # a token outlives its account: nothing is stored
        raise ApiError(401, "invalid_token", "the account of this token no longer exists")
    try:
        document = parse_document(raw)
        invoice = load_invoice(document, max_lines=settings.max_lines, legacy_currency=settings.legacy_currency)
    except MalformedDocument as exc:
        detail = {"message": exc.message, "line": exc.line, "column": exc.column}
        raise ApiError(400, "malformed_json", f"the upload is not valid JSON: {exc.message}", [detail]) from None
    except InvalidInvoice as exc:
        raise ApiError(
            422,
            "invalid_invoice",
            f"the invoice has {len(exc.errors)} error(s)",
            [error.as_dict() for error in exc.errors],
        ) from None
    warnings = upload_warnings(document, invoice, formats)

    job_id = str(uuid.uuid4())
    input_fid = str(uuid.uuid4())
    svc.blobs.put(
        input_fid,
        raw,
        filename=f"{job_id}.json",
        metadata={"owner": claims.sub, "job_id": job_id, "kind": "input", "content_type": "application/json"},
        fresh=True,  # input_fid was made just above: nothing to look up or clean up
    )
    message = RenderRequest(job_id=job_id, owner_id=claims.sub, input_fid=input_fid, formats=tuple(formats))
    try:
        # One transaction: the job and its render request (an outbox command,
        # id = job id, published by the outbox relay) commit together or not at all.
        with svc.db.transaction() as cur:
            job = insert_job(
                cur,
                job_id=job_id,
                owner_id=claims.sub,
                owner_email=claims.email,
                formats=formats,
                input_fid=input_fid,
                invoice_number=invoice.invoice_number,
                totals=invoice.totals.as_strings(),
                timings={"received": received},
                warnings=warnings,
                kind="upload",
            )
            outbox.send(
                cur,
                message,
                aggregate_type="job",
                aggregate_id=job_id,
                actor_id=claims.sub,
                actor_email=claims.email,
                command_id=job_id,  # its message_id and correlation id: the job's, as the worker logs it
            )
    except DatabaseUnavailable:
        _forget_blob(svc, input_fid)
        raise
    metrics.JOBS_ACCEPTED.labels("upload").inc()
    # "published" (epoch seconds) is when the job and its render request
    # committed (the relay publishes it at once); read by bench/bench_e2e.py.
    log.info("job queued", extra={"job_id": job_id, "formats": formats, "published": time.time()})
    return job


#: The e-invoice profile each e-invoice format of an upload writes (an upload
#: names no profile: each syntax's default, as the worker renders it).
_UPLOAD_PROFILES = {"cii": "factur-x", "facturx": "factur-x", "ubl": "peppol-ubl"}


def upload_warnings(document: Any, invoice: Invoice, formats: list[str]) -> list[dict[str, str]]:
    """The warnings of a valid uploaded ``document`` (loaded as ``invoice``)
    to be rendered into ``formats``: every problem of its codes and
    identifiers (:func:`invoicer.invoice.einvoice.checks.invoice_problems`:
    VAT IDs, IBAN, BIC, unit, VAT category, VATEX and EAS codes), then, for
    each e-invoice profile the formats write (``cii`` and ``facturx``:
    ``factur-x``; ``ubl``: ``peppol-ubl``), each business term it misses
    (code ``missing_term``; the message names the term, the rule and the
    profile). ``{"pointer", "code", "message"}`` each, without repeats."""
    found: dict[tuple[str, str, str], dict[str, str]] = {}
    if isinstance(document, Mapping):
        for problem in invoice_problems(document):
            where = pointer(problem.path)
            found.setdefault(
                (where, problem.code, ""),
                {"pointer": where, "code": problem.code, "message": f"{label(problem.path)}: {problem.text}"},
            )
    for profile in dict.fromkeys(_UPLOAD_PROFILES[fmt] for fmt in formats if fmt in _UPLOAD_PROFILES):
        for missing in missing_terms(invoice, profile):
            found.setdefault(
                (missing.pointer, "missing_term", missing.term),
                {
                    "pointer": missing.pointer,
                    "code": "missing_term",
                    "message": f"{missing.term} ({missing.rule}, {profile}): {missing.message}",
                },
            )
    return list(found.values())


def _forget_blob(svc: Services, fid: str) -> None:
    """Best effort: remove an upload that will not become a job."""
    try:
        svc.blobs.delete(fid)
    except StorageUnavailable:
        log.warning("could not remove an orphaned upload", extra={"fid": fid})


@blueprint.get("/jobs")
@require_user
def list_jobs() -> Response:
    """The caller's jobs, newest first, a page at a time; ``?status=`` keeps
    those with that status, ``?kind=`` those of that kind (``upload``: sent
    to ``POST /upload``; ``record``: the kept documents of an issued invoice).
    Any other query parameter, a parameter given twice, or a status or kind
    that is not one of :data:`~invoicer.common.jobs.STATUSES` or
    :data:`~invoicer.common.jobs.KINDS` is 400 naming the parameter, so that
    no filter is silently ignored.

    Pages are walked by keyset: the answer's ``next`` and ``prev`` (or null)
    go back as ``?cursor=``, and the page they name does not shift while new
    jobs arrive; ``?page=`` still skips rows (an OFFSET). ``total`` is exact
    up to :data:`~invoicer.common.jobs.COUNT_CAP`; beyond it is the cap and
    ``total_exact`` is false."""
    _only_parameters(JOBS_PARAMETERS)
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 20, 1, 100)
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(
            400,
            "invalid_parameter",
            f"status must be {', '.join(STATUSES[:-1])} or {STATUSES[-1]}",
            [{"parameter": "status", "message": f"unknown status: {status or '(empty)'}"}],
        )
    kind = request.args.get("kind")
    if kind is not None and kind not in KINDS:
        raise ApiError(
            400,
            "invalid_parameter",
            f"kind must be {' or '.join(KINDS)}",
            [{"parameter": "kind", "message": f"unknown kind: {kind or '(empty)'}"}],
        )
    raw_cursor = request.args.get("cursor")
    direction, position = _job_cursor(raw_cursor) if raw_cursor is not None else ("next", None)
    jobs, total, exact, more = services().jobs.page_for_owner(
        g.claims.sub,
        kind=kind,
        limit=per_page,
        offset=(page - 1) * per_page,
        status=status,
        after=position if direction == "next" else None,
        before=position if direction == "prev" else None,
    )
    has_next, has_prev = (more, raw_cursor is not None or page > 1) if direction == "next" else (True, more)
    return jsonify(
        {
            "items": [job_view(job) for job in jobs],
            "page": None if raw_cursor is not None else page,
            "per_page": per_page,
            "total": total,
            "total_exact": exact,
            "next": _encode_job_cursor("next", jobs[-1]) if jobs and has_next else None,
            "prev": _encode_job_cursor("prev", jobs[0]) if jobs and has_prev else None,
        }
    )


def _encode_job_cursor(direction: str, job: Job) -> str:
    raw = json.dumps({"d": direction, "c": job.created_at.isoformat(), "i": job.id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _job_cursor(raw: str) -> tuple[str, tuple[datetime, uuid.UUID]]:
    """``(direction, (created_at, id))`` of a ``GET /jobs`` cursor; 400
    ``invalid_parameter`` naming ``cursor`` for anything this route did not hand out."""
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(data, dict) or data.get("d") not in ("next", "prev"):
            raise ValueError(raw)
        at = datetime.fromisoformat(str(data["c"]))
        if at.tzinfo is None:
            raise ValueError(raw)
        return str(data["d"]), (at, uuid.UUID(str(data["i"])))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(
            400,
            "invalid_parameter",
            "cursor is not one this list handed out",
            [{"parameter": "cursor", "message": "unknown cursor"}],
        ) from None


#: The query parameters ``GET /jobs`` takes.
JOBS_PARAMETERS = ("cursor", "kind", "page", "per_page", "status")


def _only_parameters(known: tuple[str, ...]) -> None:
    """400 ``invalid_parameter`` for a query parameter not in ``known`` or
    given more than once (details name it)."""
    for name in request.args:
        if name not in known:
            raise ApiError(
                400,
                "invalid_parameter",
                f"unknown query parameter: {name} (this route takes {', '.join(known)})",
                [{"parameter": name, "message": "unknown parameter"}],
            )
        if len(request.args.getlist(name)) > 1:
            raise ApiError(
                400,
                "invalid_parameter",
                f"{name} may be given only once",
                [{"parameter": name, "message": "given more than once"}],
            )


@blueprint.get("/jobs/<job_id>")
@require_user
def get_job(job_id: str) -> Response:
    """One of the caller's jobs; anyone else's is 404."""
    job = services().jobs.get(job_id, owner_id=g.claims.sub)
    if job is None:
        raise ApiError(404, "not_found", "no such job")
    return jsonify(job_view(job))


@blueprint.get("/download")
@require_user
def download() -> Response:
    """One of the caller's files, as an attachment named after the invoice."""
    fid = request.args.get("fid", "").strip()
    if not fid:
        raise ApiError(400, "invalid_parameter", "fid is required", [{"parameter": "fid", "message": "missing"}])
    blob = services().blobs.get(fid, owner=g.claims.sub)
    if blob is None or blob.data is None:  # get() reads the data; None only narrows the type
        raise ApiError(404, "not_found", "no such file")
    return send_file(
        io.BytesIO(blob.data), mimetype=blob.content_type, as_attachment=True, download_name=blob.filename, max_age=0
    )


# --- operations ---------------------------------------------------------------


# GET /healthz and /readyz come with every app: see invoicer.common.web.


@blueprint.get("/openapi.json")
def openapi() -> Response:
    settings = services().settings
    return jsonify(openapi_document(settings.public_url.rstrip("/"), settings.password_min_length))
