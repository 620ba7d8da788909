"""The web app's blueprint: sign-in, sign-out, uploads with live job status,
their downloads, and error pages. The records pages (dashboard, invoices,
clients, orders, organisation) are in :mod:`.pages`."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ...common.amqp import BrokerUnavailable
from ...common.db import DatabaseUnavailable
from ...common.errors import ApiError
from ...common.jobs import Job
from ...common.logging import get_logger
from ...common.storage import StorageUnavailable
from ...common.web import request_id
from ...invoice import formats as output_formats
from .. import routes
from . import session
from .blueprint import blueprint
from .records import RecordsError, RecordsUnavailable, records

__all__ = ["CONTENT_SECURITY_POLICY", "error_page", "job_files"]

log = get_logger(__name__)


#: The policy of every HTML page: scripts, styles, images, frames (the PDF
#: preview) and form targets from this origin only; no inline script or
#: style, no plugins, no <base>, and no framing by other sites.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
_UNAVAILABLE: dict[type[Exception], str] = {
    DatabaseUnavailable: "database",
    StorageUnavailable: "file storage",
    BrokerUnavailable: "message broker",
    RecordsUnavailable: "invoices service",
}
_ERROR_TITLES = {
    400: "That request could not be handled",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    413: "Too large",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


@blueprint.before_request
def _before() -> None:
    session.check_csrf()


@blueprint.after_request
def _headers(response: Response) -> Response:
    session.renew_cookie(response)
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@blueprint.app_context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf_token": session.csrf_token, "user": session.current_claims}


# --- errors -----------------------------------------------------------------------


def error_page(status: int, message: str, *, headers: dict[str, str] | None = None) -> tuple[str, int, dict[str, str]]:
    """An error as a page: the status's title, ``message`` (escaped like
    all text), a way back, and the request id to quote to support."""
    title = _ERROR_TITLES.get(status, "Something went wrong")
    body = render_template("error.html", status=status, title=title, message=message, request_id=request_id())
    return body, status, dict(headers or {})


@blueprint.errorhandler(Exception)
def _any_error(exc: Exception) -> ResponseReturnValue:
    if isinstance(exc, CSRFError):
        return error_page(400, "The form had expired or did not come from this site. Go back, reload and try again.")
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        messages = {
            404: "There is nothing at this address, or it belongs to another organisation.",
            403: "Your role in this organisation does not allow this.",
            413: "The upload is larger than this server accepts.",
        }
        return error_page(status, messages.get(status, exc.description or ""))
    if isinstance(exc, RecordsError):
        if exc.code == "organisation_not_found" and flask_session.pop("organisation_id", None):
            # The organisation chosen in this browser is no longer one of the person's (removed meanwhile).
            flash("You are no longer a member of that organisation; back to your first one.", "error")
            return redirect(url_for("web.dashboard"))
        if exc.status == 401:
            # The session was valid here (page_login_required checked it): the
            # invoices service refusing it is a configuration fault, not a sign-in.
            log.warning("invoices service refused the session", extra={"code": exc.code})
            return error_page(503, "The invoice records did not accept your session. Try again shortly.")
        return error_page(exc.status if exc.status in _ERROR_TITLES else 400, exc.message)
    if isinstance(exc, ApiError):
        return error_page(exc.status if exc.status in _ERROR_TITLES else 400, exc.message)
    for exc_type, what in _UNAVAILABLE.items():
        if isinstance(exc, exc_type):
            log.warning("dependency unavailable", extra={"dependency": what, "error": repr(exc)})
            return error_page(
                503, f"The {what} is not answering just now. Try again in a moment.", headers={"Retry-After": "5"}
            )
    log.error("unhandled error", extra={"path": request.path}, exc_info=exc)
    return error_page(500, "This is our fault, not yours. Try again; if it keeps happening, quote the reference below.")


@blueprint.route("/<path:anything>")
def _not_found(anything: str) -> ResponseReturnValue:
    abort(404)


# --- session ----------------------------------------------------------------------


def _auth_login(email: str, password: str) -> tuple[dict[str, Any], int]:
    """Ask the auth service for a token, exactly as ``POST /login`` does
    (the gateway's forwarding: same request id, the client's address for
    its per-address throttle); returns its JSON answer and status."""
    basic = base64.b64encode(f"{email}:{password}".encode()).decode()
    status, body, _ = routes.ask_auth(
        "/login", headers={"Authorization": f"Basic {basic}", "X-Client-Address": request.remote_addr or ""}
    )
    return body, status


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The sign-in form; on success the JWT becomes the session cookie."""
    next_url = session.safe_next(request.values.get("next"), url_for("web.dashboard"))
    if request.method == "GET":
        if session.current_claims() is not None:
            return redirect(next_url)
        return render_template("account/login.html", next=next_url, email="", error=None)
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    if not email or not password:
        return render_template(
            "account/login.html", next=next_url, email=email, error="Enter your e-mail address and your password."
        ), 422
    body, status = _auth_login(email, password)
    if status != 200 or "access_token" not in body:
        message = body.get("error", {}).get("message") or "Sign-in failed."
        if status == 401:
            message = "That e-mail address and password do not match an account."
        return render_template(
            "account/login.html", next=next_url, email=email, error=message
        ), 401 if status == 401 else status
    session.rotate_csrf()
    return session.start_session(redirect(next_url), body["access_token"])


@blueprint.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    """Create an account (the auth service's rules), then sign in."""
    minimum = routes.services().settings.password_min_length
    if request.method == "GET":
        return render_template("account/register.html", email="", errors={}, minimum=minimum)
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    status, body, _ = routes.ask_auth("/register", json={"email": email, "password": password})
    if status != 201:
        error = body.get("error", {})
        errors: dict[str, str] = {}
        for detail in error.get("details") or []:
            if isinstance(detail, dict):
                key = str(detail.get("field") or detail.get("parameter") or detail.get("pointer", "")).strip("/")
                errors.setdefault(key if key in ("email", "password") else "", str(detail.get("message", "")))
        if not errors:
            errors[""] = error.get("message", "The account could not be created.")
        return render_template("account/register.html", email=email, errors=errors, minimum=minimum), status
    body, status = _auth_login(email, password)
    if status != 200:
        return redirect(url_for("web.login"))
    session.rotate_csrf()
    return session.start_session(redirect(url_for("web.dashboard")), body["access_token"])


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session at auth (every token of it is refused from now on,
    also a copy of the cookie), then delete the cookie and the CSRF secret."""
    token = request.cookies.get(session.COOKIE, "")
    claims = session.current_claims()
    if token and claims is not None and claims.session_id is not None:
        # Auth unreachable: ApiError 503, an error page, and the cookie stays until sign-out reaches it.
        routes.ask_auth("/logout", headers={"Authorization": f"Bearer {g.token or token}"})
    session.rotate_csrf()
    g.pop("renewed_token", None)
    return session.end_session(redirect(url_for("web.login", signed_out=1)))


# --- uploads ----------------------------------------------------------------------


@blueprint.get("/upload")
@session.page_login_required
def upload_page() -> ResponseReturnValue:
    """The upload form and the user's recent uploads (the documents of issued
    invoices, also jobs, are on each invoice's page, not here)."""
    jobs, _total = routes.services().jobs.list_for_owner(g.claims.sub, limit=10, offset=0, kind="upload")
    return render_template(
        "uploads/upload.html", results=[], jobs=jobs, formats=_format_choices(), chosen=["pdf", "xlsx"]
    )


@blueprint.post("/upload")
@session.page_login_required
def upload() -> ResponseReturnValue:
    """Queue each uploaded file as its own job (through
    :func:`invoicer.gateway.routes.submit_upload`, the API's own logic); a
    file that is refused shows why, beside the ones that were queued. With
    ``import`` checked, each queued file is also kept as an issued invoice
    record numbered as in the document (``POST /invoices/import``), or says
    why it could not be."""
    received = time.time()
    known = output_formats.names()
    chosen = [name for name in known if name in request.form.getlist("formats")] or ["pdf"]
    keep = bool(request.form.get("import"))
    results: list[dict[str, Any]] = []
    for upload_file in request.files.getlist("files"):
        if not upload_file.filename and not upload_file.content_length:
            continue
        name = upload_file.filename or "upload.json"
        raw = upload_file.read()
        try:
            job = routes.submit_upload(raw, chosen, g.claims, received=received)
        except ApiError as exc:
            results.append({"filename": name, "job": None, "error": exc.message, "details": exc.details[:10]})
        except tuple(_UNAVAILABLE) as exc:
            what = next(words for kind, words in _UNAVAILABLE.items() if isinstance(exc, kind))
            results.append(
                {"filename": name, "job": None, "error": f"the {what} is unavailable; try again shortly", "details": []}
            )
        else:
            results.append({"filename": name, "job": job, "error": None, "details": [], **_imported(raw, keep)})
    if not results:
        results.append({"filename": "", "job": None, "error": "Choose at least one JSON file.", "details": []})
    if request.headers.get("HX-Request"):
        return render_template("uploads/_upload_results.html", results=results)
    jobs, _total = routes.services().jobs.list_for_owner(g.claims.sub, limit=10, offset=0, kind="upload")
    return render_template("uploads/upload.html", results=results, jobs=jobs, formats=_format_choices(), chosen=chosen)


def _imported(raw: bytes, keep: bool) -> dict[str, Any]:
    """``{"record": the imported invoice}`` or ``{"record_error": why}`` for an
    upload kept as a record (``keep``); ``{}`` when it is not to be kept."""
    if not keep:
        return {}
    try:
        record = records().request("POST", "/invoices/import", data=raw, headers={"Content-Type": "application/json"})
    except RecordsError as exc:
        return {"record_error": exc.message}
    except RecordsUnavailable:
        return {"record_error": "the invoices service is unavailable; the document was rendered only"}
    return {"record": record}


def _format_choices() -> list[tuple[str, str]]:
    return [(name, name.upper()) for name in output_formats.names()]


@blueprint.get("/jobs/<job_id>")
@session.page_login_required
def job_row(job_id: str) -> ResponseReturnValue:
    """One job's status row (htmx polls it until the job is done or failed)."""
    job = routes.services().jobs.get(job_id, owner_id=g.claims.sub)
    if job is None:
        abort(404)
    return render_template("uploads/_job.html", job=job, filename=request.args.get("filename", ""))


@blueprint.get("/files/<fid>")
@session.page_login_required
def download(fid: str) -> ResponseReturnValue:
    """One of the user's rendered files; anyone else's is 404."""
    blob = routes.services().blobs.get(fid, owner=g.claims.sub)
    if blob is None:
        abort(404)
    return send_file(
        io.BytesIO(blob.data or b""),
        mimetype=blob.content_type,
        as_attachment=True,
        download_name=blob.filename,
        max_age=0,
    )


def job_files(job: Job) -> list[dict[str, Any]]:
    """The downloads of a finished job for the templates."""
    return [
        {"format": item["format"], "url": url_for("web.download", fid=item["fid"]), "size": item["size"]}
        for item in job.files
    ]


@blueprint.app_template_filter("job_files")
def _job_files_filter(job: Job) -> list[dict[str, Any]]:
    return job_files(job)
