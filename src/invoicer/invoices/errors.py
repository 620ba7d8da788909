"""Domain errors of the invoices service.

Each error carries a stable snake_case ``code`` a client can switch on, a
``message`` for a person, an optional RFC 6901 JSON ``pointer`` into the
request body it is about, and optional ``details`` (a list of
``{"pointer", "code", "message"}`` dicts, e.g. one per invalid line field).
Every class stands for exactly one HTTP status (``http_status``) so that the
web layer maps them with one handler; nothing here imports Flask.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadRequest",
    "Conflict",
    "DomainError",
    "Forbidden",
    "NotFound",
    "PreconditionFailed",
    "RenderFailed",
    "Unprocessable",
]


class DomainError(Exception):
    """Base class: ``code``, ``message``, ``pointer`` (or None), ``details``."""

    http_status = 400
    default_code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        pointer: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code or self.default_code
        self.message = message
        self.pointer = pointer
        self.details = details or []

    def as_dict(self) -> dict[str, Any]:
        """``{"code", "message"[, "pointer"][, "details"]}`` for a JSON error body."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.pointer is not None:
            body["pointer"] = self.pointer
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(DomainError):
    """The request cannot be read at all (HTTP 400), e.g. a body that is not JSON."""

    http_status = 400
    default_code = "bad_request"


class NotFound(DomainError):
    """No such record in the caller's organisation (HTTP 404). Another
    organisation's record is reported exactly like an unknown one."""

    http_status = 404
    default_code = "not_found"


class Forbidden(DomainError):
    """The caller's role does not allow this (HTTP 403), e.g. a viewer writing."""

    http_status = 403
    default_code = "forbidden"


class Conflict(DomainError):
    """The request contradicts the record's state (HTTP 409), e.g. editing an
    issued invoice, a duplicate imported number, a reused idempotency key."""

    http_status = 409
    default_code = "conflict"


class PreconditionFailed(DomainError):
    """The caller's version of the record is stale (HTTP 412, If-Match)."""

    http_status = 412
    default_code = "stale_version"


class Unprocessable(DomainError):
    """The request is well-formed but breaks a rule (HTTP 422), e.g. invalid
    lines or a payment above the balance due."""

    http_status = 422
    default_code = "unprocessable"


class RenderFailed(DomainError):
    """A kept document of an issued record cannot be served (HTTP 500): the
    worker gave up rendering it, or the file is gone from storage. Not the
    caller's fault, and asking again will not help."""

    http_status = 500
    default_code = "render_failed"
