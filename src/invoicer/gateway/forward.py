"""Forwarding requests from the gateway to an internal HTTP service.

The gateway stays the only public entry: for the path prefixes of the HTTP
components of the registry (:func:`invoicer.common.components.forwarded_prefixes`;
the billing routes ``/organisation``, ``/clients``, ``/invoices``,
``/orders`` and ``/dashboard`` of the invoices service today) it verifies
the caller's JWT first (401 before anything is forwarded), then passes the
request to the component's URL (its URL setting, e.g. ``INVOICES_URL``;
only registry entries are ever forwarded to)
with the caller's ``Authorization`` (the service verifies it again and
resolves the membership), the gateway's ``X-Request-ID`` (so both services
log the same id), ``Idempotency-Key``, ``If-Match``, ``Content-Type`` and
``Accept``, and the query string unchanged. The answer comes back with its
status, its body streamed through as is (PDF and XLSX included, never read
into memory whole) and the headers that matter to a client
(:data:`ANSWER_HEADERS`). A service that cannot be reached is 503 with
``Retry-After``; one that answers a 5xx that is not JSON is 502; both in the
JSON error body. A request sent whose answer does not come within
``FORWARD_TIMEOUT_SECONDS`` is 504 ``outcome_unknown``: it may have been
carried out, and a retry with the same ``Idempotency-Key`` is answered, not
done again. The services' PostgreSQL time limits
(``DATABASE_STATEMENT_TIMEOUT_MS``, ``DATABASE_LOCK_TIMEOUT_MS``) are well
below it, so a request held up in the database is rolled back and answered
503 ``busy`` before the gateway stops waiting.

:func:`forward` is the reusable part: any gateway route can hand a request
to another service with it (the auth forwarding of :mod:`.routes` can too).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

import requests
from flask import Blueprint, Response, current_app, request

from ..common import components
from ..common.errors import ApiError
from ..common.logging import get_logger
from ..common.web import REQUEST_ID_HEADER, request_id
from .routes import require_user

__all__ = ["ANSWER_HEADERS", "INVOICES_PREFIXES", "PASSED_HEADERS", "blueprint", "forward", "register_routes"]

log = get_logger(__name__)

blueprint = Blueprint("forward", __name__)

#: Request headers passed to the service (besides X-Request-ID, which is the gateway's own).
PASSED_HEADERS = (
    "Authorization",
    "X-Organisation",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "Content-Type",
    "Accept",
)
#: Answer headers passed back to the client.
ANSWER_HEADERS = (
    "Content-Type",
    "Content-Disposition",
    "ETag",
    "Location",
    "Retry-After",
    "Allow",
    "WWW-Authenticate",
    "Idempotent-Replayed",
    "Cache-Control",
    "Content-Security-Policy",  # a served document's sandbox (GET /expenses/<id>/document)
)
#: The path prefixes served by the invoices service (from the registry).
INVOICES_PREFIXES = components.by_name("invoices").prefixes
#: Methods forwarded (OPTIONS and HEAD are answered by Flask itself).
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
#: Seconds to connect; the wait for the answer is FORWARD_TIMEOUT_SECONDS (Settings).
CONNECT_TIMEOUT = 5
CHUNK_BYTES = 64 * 1024


def forward(base_url: str, service: str, *, extra_headers: dict[str, str] | None = None) -> Response:
    """Send the current request (method, path, query string, body and
    :data:`PASSED_HEADERS`) to ``base_url`` + the same path and answer what
    the service answered, body streamed. ``service`` names the service in
    errors and logs ("invoices service").

    Raises :class:`ApiError` 503 ``unavailable`` (``Retry-After: 5``) when
    the service cannot be reached (nothing was sent), 504 ``outcome_unknown``
    when it was sent and no answer came within ``FORWARD_TIMEOUT_SECONDS``
    (the client should retry with the same ``Idempotency-Key``); answers 502
    ``upstream_error`` for a 5xx whose body is not JSON."""
    headers = {name: request.headers[name] for name in PASSED_HEADERS if name in request.headers}
    headers[REQUEST_ID_HEADER] = request_id()
    headers.update(extra_headers or {})
    # The path as received, percent-encoded again (RFC 3986 pchar): a "?" or "#" that the
    # client encoded in a path segment must not become the service's query or fragment.
    url = base_url.rstrip("/") + quote(request.path, safe="/:@!$&'()*+,;=-._~")
    read_timeout = current_app.config["SETTINGS"].forward_timeout_seconds
    try:
        reply = requests.request(
            request.method,
            url,
            params=request.query_string or None,
            data=request.get_data(cache=False) or None,
            headers=headers,
            timeout=(CONNECT_TIMEOUT, read_timeout),
            stream=True,
            allow_redirects=False,
        )
    except requests.ReadTimeout:
        # The request was sent and may have been carried out: say so, and how to find out safely.
        log.warning("service did not answer in time", extra={"service": service, "timeout": read_timeout})
        raise ApiError(
            504,
            "outcome_unknown",
            f"the {service} did not answer within {read_timeout} s; the request may or may not have been"
            " carried out. Retry it with the same Idempotency-Key: a change already made is answered again,"
            " not made twice (without a key, look before you retry)",
            headers={"Retry-After": "5"},
        ) from None
    except requests.RequestException as exc:
        log.warning("service unreachable", extra={"service": service, "error": repr(exc)})
        raise ApiError(
            503, "unavailable", f"the {service} is unavailable; try again shortly", headers={"Retry-After": "5"}
        ) from None
    content_type = reply.headers.get("Content-Type", "")
    if reply.status_code >= 500 and "json" not in content_type:
        reply.close()
        log.warning("service answered badly", extra={"service": service, "status": reply.status_code})
        raise ApiError(502, "upstream_error", f"the {service} answered badly; try again shortly")
    response = Response(_chunks(reply), status=reply.status_code, direct_passthrough=True)
    response.headers.remove("Content-Type")
    for name in ANSWER_HEADERS:
        if name in reply.headers:
            response.headers[name] = reply.headers[name]
    if "Content-Length" in reply.headers and "Content-Encoding" not in reply.headers:
        response.headers["Content-Length"] = reply.headers["Content-Length"]
    response.call_on_close(reply.close)
    return response


def _chunks(reply: requests.Response) -> Iterable[bytes]:
    yield from reply.iter_content(CHUNK_BYTES)


def _target(component: components.Component) -> str:
    """The base URL of ``component``; 503 if none is configured."""
    url = component.url(current_app.config["SETTINGS"])
    if not url:
        log.error("no URL for a forwarded component", extra={"service": component.name})
        raise ApiError(
            503, "unavailable", f"the {component.name} service is not configured", headers={"Retry-After": "5"}
        )
    return url


@require_user
def _forward_to_component(rest: str = "") -> Response:
    """Forward a request to the component whose prefix it is under (after
    the JWT check); the prefix is the first segment of the path."""
    prefix = request.path.lstrip("/").split("/", 1)[0]
    component = components.forwarded_prefixes()[prefix]
    return forward(_target(component), f"{component.name} service")


def register_routes(bp: Blueprint) -> None:
    """Add ``/<prefix>`` and ``/<prefix>/<path>`` for every forwarded prefix
    of the registry to ``bp`` (at app creation, so a component registered
    before the gateway's app is built has its routes)."""
    for prefix in components.forwarded_prefixes():
        endpoint = prefix.replace(".", "_")  # a prefix may be a file name (expenses.csv); endpoints have no dots
        bp.add_url_rule(f"/{prefix}", f"{endpoint}_root", _forward_to_component, methods=METHODS)
        bp.add_url_rule(f"/{prefix}/<path:rest>", f"{endpoint}_rest", _forward_to_component, methods=METHODS)


register_routes(blueprint)
