"""The JSON error body every HTTP service answers with, and its Flask handler.

Shape (the gateway's OpenAPI document names it ``Error``)::

    {"error": {"code": "invalid_invoice", "message": "...", "details": [...]}}
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from .logging import get_logger

__all__ = ["ApiError", "install_error_handlers"]

log = get_logger(__name__)

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


class ApiError(Exception):
    """An error to send to the client.

    ``status`` is the HTTP status (4xx/5xx), ``code`` a stable snake_case
    string clients can switch on, ``details`` a JSON-serialisable list
    (field errors carry ``pointer``, an RFC 6901 JSON pointer), ``headers``
    extra response headers such as ``Retry-After``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, details=None, headers=None):
    """A Flask response with the error body; see the module docstring."""
    response = jsonify({"error": {"code": code, "message": message, "details": details or []}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="invoicer"')
    return response


def install_error_handlers(app: Flask) -> None:
    """Make every error of ``app`` leave as the JSON error body: our
    :class:`ApiError`, Werkzeug's HTTP exceptions, and anything unexpected
    (500, logged with its traceback, no internals in the body)."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        # Keep what the exception says in headers, e.g. Allow on a 405 (RFC 9110 15.5.6).
        headers = {key: value for key, value in exc.get_headers() if key.lower() != "content-type"}
        return error_response(status, code, exc.description or exc.name, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error")
