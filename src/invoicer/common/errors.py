"""Errors that leave a service as the JSON error body, without Flask.

The body every HTTP service answers with (the gateway's OpenAPI document
names it ``Error``)::

    {"error": {"code": "invalid_invoice", "message": "...", "details": [...]}}

Two kinds of exception become that body, both turned into responses by
:func:`invoicer.common.web.make_app`'s one set of handlers:

* :class:`DomainError` and its families, raised below the web layer (account
  rules, lookups). They know nothing of HTTP: the web layer maps each family
  to a status (:class:`InvalidInput` 422, :class:`Conflict` 409,
  :class:`NotPermitted` 403, :class:`NotFound` 404,
  :class:`NotAuthenticated` 401, :class:`RateLimited` 429). The CLI catches
  the same exceptions and prints their message, so it needs no Flask.
* :class:`ApiError`, raised by routes for what only exists in HTTP (a missing
  header, a bad query parameter), with its status chosen there.

This module imports nothing from Flask or Werkzeug.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "Conflict",
    "DomainError",
    "InvalidInput",
    "NotAuthenticated",
    "NotFound",
    "NotPermitted",
    "RateLimited",
]


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


class DomainError(Exception):
    """A rule of the domain said no. Subclass one of the families below and
    set ``code`` (stable snake_case, the body's ``error.code``).

    ``message`` is for people (the body's ``error.message``, the CLI's
    output); ``pointer`` (RFC 6901 JSON pointer into the request, e.g.
    ``/email``) names the offending field, and then :attr:`details` is one
    field error ``{"pointer", "code", "message"}`` whose ``code`` is
    ``reason`` (default: ``code``).
    """

    code: ClassVar[str] = "domain_error"

    def __init__(self, message: str, *, pointer: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pointer = pointer
        self.reason = reason

    @property
    def details(self) -> list[dict[str, str]]:
        """The body's ``error.details``: one field error, or none without a pointer."""
        if self.pointer is None:
            return []
        return [{"pointer": self.pointer, "code": self.reason or self.code, "message": self.message}]


class InvalidInput(DomainError):
    """The input breaks a rule (answered 422)."""

    code = "invalid_input"


class Conflict(DomainError):
    """The input clashes with what exists, e.g. a taken e-mail (answered 409)."""

    code = "conflict"


class NotPermitted(DomainError):
    """The action is not allowed here, whoever asks (answered 403)."""

    code = "forbidden"


class NotFound(DomainError):
    """No such thing, or not the caller's (answered 404)."""

    code = "not_found"


class NotAuthenticated(DomainError):
    """The credentials are missing or wrong (answered 401 with a
    ``WWW-Authenticate`` challenge for ``scheme``, RFC 9110 11.6.1)."""

    code = "unauthorized"
    scheme: ClassVar[str] = "Bearer"


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` seconds (>= 1) until the next may
    succeed (answered 429 with ``Retry-After``, RFC 6585 section 4)."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
