"""How every HTTP service of invoicer is assembled: :func:`make_app`.

A service is one call plus its blueprints::

    def create_app(settings: Settings | None = None) -> Flask:
        settings = settings or Settings.from_env()
        db = Database(settings.database_url)
        return make_app(
            __name__,
            settings,
            blueprints=[routes.blueprint],
            readiness=[("database", db.ping)],
            unavailable={DatabaseUnavailable: "database"},
            max_body=64 * 1024,
            extensions={"invoicer": db},
        )

and every such app then behaves the same way:

* **Errors** leave as ``{"error": {"code", "message", "details"}}`` (see
  :mod:`invoicer.common.errors`): :class:`~invoicer.common.errors.ApiError`
  with its own status, :class:`~invoicer.common.errors.DomainError` with its
  family's status, Werkzeug's HTTP errors with their status and headers (e.g.
  ``Allow`` on 405, RFC 9110 15.5.6), the exception types named in
  ``unavailable`` as 503 with ``Retry-After``,
  :class:`~invoicer.common.db.DatabaseBusy` (a statement or lock time limit:
  rolled back) as 503 ``busy`` with ``Retry-After: 2``, and anything else as
  a logged 500 that reveals nothing.
* **Health**: ``GET /healthz`` answers 200 ``{"status": "ok"}`` while the
  process serves; ``GET /readyz`` runs every readiness check and answers 200
  ``{"status": "ready"}``, or 503 with ``Retry-After`` and an error body whose
  ``details`` name each failed check (``{"check": name, "message"}``).
* **Security headers** on every response (OWASP REST Security and HTTP
  Headers cheat sheets): ``X-Content-Type-Options: nosniff``,
  ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer``; JSON answers
  also get ``Cache-Control: no-store`` (they hold private data) and
  ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'``.
  Five constant headers are set here rather than through flask-talisman,
  whose defaults (HTTPS redirects, HTML-page policies) are for HTML sites;
  TLS ends at the ingress.
* **Request id**: the client's ``X-Request-ID`` if it is 1 to 128 characters
  of ``[A-Za-z0-9._-]``, else a new UUID4; answered in ``X-Request-ID`` and
  set as the logging correlation id (:data:`invoicer.common.logging.correlation_id`),
  so every log line written while the request is handled carries it.
* **Proxies**: with ``TRUSTED_PROXY_HOPS`` > 0, Werkzeug's ProxyFix takes the
  client address, scheme and host from that many ``X-Forwarded-*`` hops.
* **Body size**: bodies over ``max_body`` are 413 however they are framed;
  a chunked body (no ``Content-Length``) is read up to the limit before any
  route runs, and refused whole if it goes on. A 413 says ``Connection:
  close`` and the connection is closed, so the unread rest of the body is
  neither read nor taken for a next request.
* **Links**: absolute URLs come from :func:`public_url_for`, built on
  ``PUBLIC_URL`` alone; the request's ``Host`` and ``X-Forwarded-Host`` are
  the client's to choose and never reach a link.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter
from werkzeug.routing import ValidationError as NoMatch

from ..invoice import formats as output_formats
from ..invoice.errors import MalformedDocument
from ..invoice.parsing import parse_document
from . import logging as logs
from . import metrics, tracing
from .config import Settings
from .db import DatabaseBusy
from .errors import (
    ApiError,
    Conflict,
    DomainError,
    InvalidInput,
    MalformedInput,
    NotAuthenticated,
    NotFound,
    NotPermitted,
    PreconditionFailed,
    RateLimited,
    ServerFault,
)
from .tokens import Claims, InvalidToken, verify_token

__all__ = [
    "BASIC_CHALLENGE",
    "REQUEST_ID_HEADER",
    "Check",
    "KeptFormatConverter",
    "basic_credentials",
    "bearer_claims",
    "error_response",
    "int_arg",
    "json_document",
    "json_object",
    "make_app",
    "public_url_for",
    "request_id",
]

log = logs.get_logger(__name__)


class KeptFormatConverter(BaseConverter):
    """The URL converter ``<kept_format:fmt>``: one path segment naming a
    format kept for invoice records
    (:func:`invoicer.invoice.formats.kept_names`: ``pdf``, ``xlsx``), read
    from the registry at every match, so a format registered later (a
    plug-in, a test) is served without a new route. Any other segment does
    not match, so ``GET /invoices/{id}/issue`` stays 405 and ``/docx`` 404."""

    def to_python(self, value: str) -> str:
        if value not in output_formats.kept_names():
            raise NoMatch
        return value


#: A readiness check: returns when the dependency answers, raises when not.
Check = Callable[[], Any]

REQUEST_ID_HEADER = "X-Request-ID"
#: The HTTP Basic challenge: credentials are UTF-8 (RFC 7617 section 2.1).
BASIC_CHALLENGE = 'Basic realm="invoicer", charset="UTF-8"'
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
RETRY_AFTER_SECONDS = 5
#: Retry-After of a 503 ``busy``: a lock is usually let go within a second or two.
BUSY_RETRY_AFTER_SECONDS = 2

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_JSON_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

# Werkzeug's exceptions map to our codes by status.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}

# The one place a domain error family becomes an HTTP status.
_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (MalformedInput, 400),
    (NotAuthenticated, 401),
    (NotPermitted, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (InvalidInput, 422),
    (RateLimited, 429),
    (ServerFault, 500),
)


def error_response(
    status: int, code: str, message: str, details: list[Any] | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """A Flask response with status ``status`` and the error body (see
    :mod:`invoicer.common.errors`); a 401 without a challenge gets
    ``WWW-Authenticate: Bearer realm="invoicer"`` (RFC 6750 section 3)."""
    response = jsonify({"error": {"code": code, "message": message, "details": details or []}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="invoicer"')
    return response


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(user_id, password)`` from an ``Authorization: Basic`` header value,
    or ``None`` when it is missing, not Basic, not base64 or has no colon.

    The decoded bytes are read as UTF-8, as :data:`BASIC_CHALLENGE` asks
    (RFC 7617 section 2.1); bytes that are not UTF-8 are read as ISO-8859-1,
    what clients sent before RFC 7617 and what ``requests`` still sends. The
    strings are returned as sent: normalising them is the account rules' job.
    """
    scheme, _, rest = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(rest.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")
    user_id, colon, password = text.partition(":")
    return (user_id, password) if colon else None


class Credentials(BaseModel):
    """``POST /login``'s JSON body, the alternative to HTTP Basic: ``{"email", "password"}``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    email: str = Field(max_length=1024, description="The account's e-mail address.")
    password: str = Field(max_length=1024, description="Its password.")


def json_object(raw: bytes, expected: str = "a JSON object") -> dict[str, Any]:
    """``raw`` (a request body, UTF-8 JSON) as a dict, parsed by
    :func:`invoicer.invoice.parsing.parse_document`: nesting deeper than 32
    levels is refused by a scan before parsing (no ``RecursionError``), as
    are unpaired surrogate escapes (``"\\ud800"``, which no database or
    encoder takes), duplicate keys and NaN; numbers with a fraction are
    :class:`~decimal.Decimal`, never float.

    Raises :class:`ApiError` 400 ``malformed_json`` (``details``: the line
    and column when the problem has a place) for any of those and for a
    document that is not an object (``expected`` says what was wanted)."""
    try:
        body = parse_document(raw)
    except MalformedDocument as exc:
        where = [{"message": exc.message, "line": exc.line, "column": exc.column}] if exc.line else []
        raise ApiError(400, "malformed_json", exc.message, where) from None
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", f"the body must be {expected}")
    return body


def login_credentials(missing: str = "send your e-mail and password with HTTP Basic or as JSON") -> tuple[str, str]:
    """``(email, password)`` of the current ``POST /login``: from ``Authorization:
    Basic`` (RFC 7617, :func:`basic_credentials`) when it is sent, else from a
    JSON body :class:`Credentials`.

    Raises :class:`ApiError` 401 ``unauthorized`` (with a Basic challenge)
    when neither is sent or the e-mail is empty, 400 ``malformed_json`` for a
    body that is not a JSON object, 422 ``invalid_credentials_body`` (one
    detail per field, RFC 6901 pointers) for an object that is not
    :class:`Credentials`."""
    challenge = ApiError(401, "unauthorized", missing, headers={"WWW-Authenticate": BASIC_CHALLENGE})
    basic = basic_credentials(request.headers.get("Authorization"))
    if basic is None and request.headers.get("Authorization", "").strip():
        raise challenge  # a broken Basic header is not retried as a body
    if basic is None:
        raw = request.get_data(cache=True)
        if not raw.strip():
            raise challenge
        body = json_object(raw, 'a JSON object {"email", "password"}')
        try:
            parsed = Credentials.model_validate(body)
        except ValidationError as exc:
            details = [
                {
                    "pointer": "".join(f"/{part}" for part in error["loc"]),
                    "code": "unknown_field" if error["type"] == "extra_forbidden" else error["type"],
                    "message": error["msg"],
                }
                for error in exc.errors(include_url=False)
            ]
            raise ApiError(422, "invalid_credentials_body", 'the body must be {"email", "password"}', details) from None
        basic = (parsed.email, parsed.password)
    if not basic[0]:
        raise challenge
    return basic


def bearer_claims(missing: str = "a Bearer token is required; get one from POST /login") -> Claims:
    """The verified claims of the current request's ``Authorization: Bearer``
    JWT, checked against the app's settings (key, issuer, audience; the
    algorithm pinned in :func:`~invoicer.common.tokens.verify_token`).
    Raises :class:`ApiError` 401 ``unauthorized`` (with ``missing`` as its
    message) without a token, 401 ``invalid_token`` for one that does not
    verify. Only valid inside an app built by :func:`make_app`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", missing)
    settings: Settings = current_app.config["SETTINGS"]
    try:
        return verify_token(
            token.strip(), secret=settings.jwt_secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
    except InvalidToken as exc:
        raise ApiError(401, "invalid_token", str(exc) or "invalid token") from None


def request_id() -> str:
    """The current request's id (what ``X-Request-ID`` answers); only valid
    inside a request of an app built by :func:`make_app`."""
    rid: str = g.request_id
    return rid


class _InOrderJSON(DefaultJSONProvider):
    """Flask's JSON with keys in the order the code wrote them, not sorted."""

    sort_keys = False


def public_url_for(endpoint: str, **values: Any) -> str:
    """The absolute URL of the route ``endpoint`` (e.g. ``"gateway.get_job"``)
    with ``values`` as its path and query arguments, under the app's
    ``PUBLIC_URL`` (scheme, host, port and any path prefix), e.g.
    ``public_url_for("gateway.download", fid="x")`` ->
    ``"https://invoices.example.com/download?fid=x"``.

    Never built from the request's ``Host``, ``X-Forwarded-Host`` or
    ``X-Forwarded-Proto``: a client chooses those, and links built from them
    can be poisoned (OWASP WSTG-INPV-17, host header injection). Only valid
    inside an app built by :func:`make_app` (it reads that app's settings).
    Raises :class:`werkzeug.routing.BuildError` for an unknown endpoint.
    """
    settings: Settings = current_app.config["SETTINGS"]
    public = urlsplit(settings.public_url)
    adapter = current_app.url_map.bind(
        public.netloc, script_name=public.path or "/", url_scheme=public.scheme or "http"
    )
    return str(adapter.build(endpoint, values, force_external=True))


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """The query parameter ``name`` of the current request as an integer from
    ``low`` to ``high`` (``default`` when absent). Raises :class:`ApiError`
    400 ``invalid_parameter`` naming the parameter and what was sent."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ApiError(
            400,
            "invalid_parameter",
            f"{name} must be an integer from {low} to {high}",
            [{"parameter": name, "message": f"got {raw!r}"}],
        )
    return value


#: Part types curl and browsers give a ``.json`` file part by their own guess.
_GENERIC_PART_TYPES = frozenset({"application/octet-stream", "text/plain", "text/json"})


def _is_json_type(mimetype: str) -> bool:
    """``application/json`` or a ``+json`` structured syntax suffix (RFC 6839)."""
    mimetype = mimetype.lower()
    return mimetype == "application/json" or mimetype.endswith("+json")


def json_document() -> bytes:
    """The JSON document of the current request, as bytes: the multipart field
    ``file`` (whose part type may also be one of the generic ones clients
    guess for a ``.json`` file) or an ``application/json`` body. The body was
    already bounded by ``MAX_UPLOAD_BYTES`` (413, however it was framed).
    Raises :class:`ApiError` 400 ``missing_file`` for multipart without the
    field, 415 ``unsupported_media_type`` for anything that is not JSON."""
    mimetype = request.mimetype or ""
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(
                400,
                "missing_file",
                'multipart upload needs a field named "file"',
                [{"parameter": "file", "message": "missing"}],
            )
        kind = upload.mimetype or ""
        if kind and not (_is_json_type(kind) or kind.lower() in _GENERIC_PART_TYPES):
            raise ApiError(415, "unsupported_media_type", f"the uploaded file must be JSON, not {kind}")
        data: bytes = upload.read()
        return data
    if _is_json_type(mimetype):
        return request.get_data(cache=True)
    raise ApiError(
        415, "unsupported_media_type", 'send the invoice as application/json or as multipart/form-data field "file"'
    )


def make_app(
    name: str,
    settings: Settings,
    *,
    blueprints: Iterable[Blueprint],
    readiness: Sequence[tuple[str, Check]],
    unavailable: Mapping[type[Exception], str] | None = None,
    max_body: int,
    body_limits: Mapping[str, int] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Flask:
    """Build a Flask app that behaves as the module docstring says.

    ``name`` is Flask's import name (pass the caller's ``__name__``).
    ``settings`` is kept in ``app.config["SETTINGS"]``; its
    ``trusted_proxy_hops`` switches ProxyFix on. ``blueprints`` hold the
    service's routes. ``readiness`` is ``[(name, check), ...]`` in the order
    ``/readyz`` runs them; ``name`` is what the 503 body reports, e.g.
    ``"database"``. ``unavailable`` maps an exception type (a dependency that
    did not answer) to the words for that dependency: raised by any route, it
    becomes 503 ``unavailable`` "the <words> is unavailable; try again
    shortly" with ``Retry-After: 5``. ``max_body`` is the largest request body
    in bytes (larger ones are 413 before a route runs, chunked ones too); ``body_limits``
    maps a path prefix (``/expenses``: the path itself and everything under it) to another
    limit for its requests (a document upload may be larger than JSON). ``extensions`` are
    put into ``app.extensions`` for the routes (``current_app.extensions``).
    """
    app = Flask(name)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = max_body
    app.config["BODY_LIMITS"] = tuple((prefix.rstrip("/"), limit) for prefix, limit in (body_limits or {}).items())
    app.json = _InOrderJSON(app)
    app.extensions.update(extensions or {})
    app.url_map.converters["kept_format"] = KeptFormatConverter

    app.before_request(_start_request)
    _count_requests(app)
    app.before_request(_buffer_chunked_body)
    app.after_request(_finish_response)
    app.teardown_request(_end_request)
    _install_error_handlers(app, unavailable or {})
    app.add_url_rule("/healthz", "healthz", _healthz, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", partial(_readyz, tuple(readiness)), methods=["GET"])
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    tracing.instrument_app(app)  # server spans, when tracing is on
    hops = settings.trusted_proxy_hops
    if hops:
        # Behind N proxies (an ingress), take the client address from X-Forwarded-For.
        # Flask documents wrapping wsgi_app so; its stubs see a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


# --- metrics ------------------------------------------------------------------------


def _count_requests(app: Flask) -> None:
    """Count every answer of ``app`` in :data:`~invoicer.common.metrics.HTTP_REQUESTS`
    and time it in :data:`~invoicer.common.metrics.HTTP_REQUEST_DURATION`, from
    the first ``before_request`` to ``after_request``, which Flask runs for
    the answers of error handlers too. The route label is the URL rule
    (``/jobs/<job_id>``), ``<unmatched>`` when none matched."""
    app.before_request_funcs.setdefault(None, []).insert(0, _metrics_started)
    app.after_request(_metrics_observed)


def _metrics_started() -> None:
    g.metrics_started = time.perf_counter()


def _metrics_observed(response: Response) -> Response:
    rule = request.url_rule
    route = rule.rule if rule is not None else "<unmatched>"
    metrics.HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        metrics.HTTP_REQUEST_DURATION.labels(route, request.method).observe(time.perf_counter() - started)
    return response


# --- request id and headers -----------------------------------------------------


def _start_request() -> None:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if _SANE_REQUEST_ID.fullmatch(offered) else str(uuid.uuid4())
    g.correlation_token = logs.correlation_id.set(g.request_id)
    g.request_id_token = logs.request_id.set(g.request_id)
    for prefix, limit in current_app.config.get("BODY_LIMITS", ()):
        if request.path == prefix or request.path.startswith(prefix + "/"):
            request.max_content_length = limit  # Flask 3.1: per request
            break


#: How much of a chunked body is read at a time.
_READ_SIZE = 64 * 1024


def _buffer_chunked_body() -> None:
    """Read a body sent without ``Content-Length`` (``Transfer-Encoding:
    chunked``) up to the app's limit, and answer 413 if there is more.

    Werkzeug caps such a stream at ``MAX_CONTENT_LENGTH`` by stopping there,
    so a route would see the first N bytes as if they were the whole body
    (valid JSON plus padding accepted, a long document parsed truncated).
    Read here, the body is either complete or refused; the route then reads
    it from memory with its length known, as if it had come with
    ``Content-Length``.
    """
    environ = request.environ
    if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return
    limit = request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]
    stream = environ["wsgi.input"]
    body = bytearray()
    while chunk := stream.read(min(_READ_SIZE, limit + 1 - len(body))):
        body += chunk
        if len(body) > limit:
            raise RequestEntityTooLarge(f"the request body is over the limit of {limit} bytes")
    # From here on the body is an ordinary one of known length (the server
    # has already removed the chunk framing).
    environ["wsgi.input"] = io.BytesIO(bytes(body))
    environ["CONTENT_LENGTH"] = str(len(body))
    del environ["HTTP_TRANSFER_ENCODING"]
    request.__dict__.pop("content_length", None)  # Werkzeug caches it


def _finish_response(response: Response) -> Response:
    # Without a request id (a before_request hook failed first), make one now.
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or str(uuid.uuid4())
    # For gunicorn's access line, written after the request's span has ended.
    ids = tracing.current_ids()
    if ids is not None:
        request.environ[tracing.TRACE_IDS_ENVIRON] = ids
    for key, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    if response.is_json:
        for key, value in _JSON_HEADERS.items():
            response.headers.setdefault(key, value)
    return response


def _end_request(exc: BaseException | None) -> None:
    token = g.pop("correlation_token", None)
    if token is not None:
        logs.correlation_id.reset(token)
    origin = g.pop("request_id_token", None)
    if origin is not None:
        logs.request_id.reset(origin)


# --- health -------------------------------------------------------------------------


def _healthz() -> Response:
    return jsonify({"status": "ok"})


def _readyz(checks: tuple[tuple[str, Check], ...]) -> Response:
    failed = []
    for name, check in checks:
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            log.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
            failed.append(name)
    if failed:
        details = [{"check": name, "message": f"the {name} is unavailable"} for name in failed]
        return error_response(
            503,
            "unavailable",
            f"not ready: {', '.join(failed)} unavailable",
            details,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return jsonify({"status": "ready"})


# --- errors ---------------------------------------------------------------------------


def _install_error_handlers(app: Flask, unavailable: Mapping[type[Exception], str]) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Response:
        status = next((status for family, status in _DOMAIN_STATUS if isinstance(exc, family)), 422)
        headers: dict[str, str] = {}
        if isinstance(exc, NotAuthenticated):
            basic = exc.scheme.lower() == "basic"
            headers["WWW-Authenticate"] = BASIC_CHALLENGE if basic else f'{exc.scheme} realm="invoicer"'
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        if status >= 500:
            log.error("request failed", extra={"path": request.path, "code": exc.code, "error": exc.message})
        return error_response(status, exc.code, exc.message, exc.details, headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        # Keep what the exception says in headers, e.g. Allow on a 405 (RFC 9110 15.5.6).
        headers = {key: value for key, value in exc.get_headers() if key.lower() != "content-type"}
        if status == 413:
            # The rest of a refused body is not read: the connection cannot carry another
            # request (RFC 9110 15.5.14); gunicorn closes it (invoicer.common.serving).
            headers["Connection"] = "close"
        return error_response(status, code, exc.description or exc.name, headers=headers)

    def _dependency_down(what: str, exc: Exception) -> Response:
        log.warning("dependency unavailable", extra={"dependency": what, "error": repr(exc)})
        return error_response(
            503,
            "unavailable",
            f"the {what} is unavailable; try again shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    for exc_type, what in unavailable.items():
        app.register_error_handler(exc_type, partial(_dependency_down, what))

    @app.errorhandler(DatabaseBusy)
    def _busy(exc: DatabaseBusy) -> Response:
        # Cancelled by statement_timeout or lock_timeout: rolled back, so retrying is safe.
        log.warning("database time limit", extra={"path": request.path, "error": str(exc)})
        return error_response(
            503,
            "busy",
            "the records are busy (another change holds them, or the database is slow); nothing was changed;"
            " try again shortly",
            headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.error("unhandled error", exc_info=exc, extra={"path": request.path})
        return error_response(500, "internal_error", "internal server error")
