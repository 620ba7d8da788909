"""Errors that leave a service as the JSON error body, without Flask.

The body every HTTP service answers with (the gateway's OpenAPI document
names it ``Error``)::

    {"error": {"code": "invalid_invoice", "message": "...", "details": [...]}}

Two kinds of exception become that body, both turned into responses by
:func:`invoicer.common.web.make_app`'s one set of handlers:

* :class:`DomainError` and its families, raised below the web layer (account
  rules, lookups, the invoices service's records). They know nothing of
  HTTP: the web layer maps each family to a status in one table
  (:class:`MalformedInput` 400, :class:`NotAuthenticated` 401,
  :class:`NotPermitted` 403, :class:`NotFound` 404, :class:`Conflict` 409,
  :class:`PreconditionFailed` 412, :class:`InvalidInput` 422,
  :class:`RateLimited` 429, :class:`ServerFault` 500). A service names its
  own errors as subclasses of these families (e.g.
  :mod:`invoicer.invoices.errors`). The CLI catches the same exceptions and
  prints their message, so it needs no Flask.
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
    "MalformedInput",
    "NotAuthenticated",
    "NotFound",
    "NotPermitted",
    "PreconditionFailed",
    "RateLimited",
    "ServerFault",
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
    set ``code`` (stable snake_case, the body's ``error.code``); one raise
    may give its own ``code=`` instead (e.g. ``Conflict("...",
    code="invoice_frozen")``).

    ``message`` is for people (the body's ``error.message``, the CLI's
    output). :attr:`details` is the body's ``error.details``: the list of
    field errors ``details=`` gives as is (e.g. one
    ``{"pointer", "code", "message"}`` per invalid line field); without one,
    ``pointer`` (RFC 6901 JSON pointer into the request, e.g. ``/email``)
    names the offending field and makes one field error whose ``code`` is
    ``reason`` (default: ``code``); with neither, it is empty.
    """

    code: str = "domain_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        pointer: str | None = None,
        reason: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.pointer = pointer
        self.reason = reason
        self._details = list(details) if details else []

    @property
    def details(self) -> list[dict[str, Any]]:
        """The body's ``error.details``: those given, else one field error
        for ``pointer``, else none."""
        if self._details:
            return self._details
        if self.pointer is None:
            return []
        return [{"pointer": self.pointer, "code": self.reason or self.code, "message": self.message}]


class MalformedInput(DomainError):
    """The input cannot be read at all, e.g. a body that is not JSON
    (answered 400)."""

    code = "bad_request"


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


class PreconditionFailed(DomainError):
    """The caller's copy is stale: a precondition such as ``If-Match`` no
    longer holds (answered 412, RFC 9110 section 13.1.1)."""

    code = "precondition_failed"


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


class ServerFault(DomainError):
    """Something on the service's side is broken for this request and asking
    again will not help, e.g. a kept document that could not be rendered
    (answered 500 with the message, which must reveal no internals)."""

    code = "server_fault"
