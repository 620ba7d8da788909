"""Domain errors of the invoices service.

Each is a subclass of one family of :mod:`invoicer.common.errors`, which
:func:`invoicer.common.web.make_app` maps to an HTTP status in its one
table, so this module names no status and imports no Flask. Each error
carries a stable snake_case ``code`` a client can switch on (the class's,
or one given per raise: ``Conflict("...", code="invoice_frozen")``), a
``message`` for a person, an optional RFC 6901 JSON ``pointer`` into the
request body it is about, and optional ``details`` (a list of
``{"pointer", "code", "message"}`` dicts, e.g. one per invalid line field;
without them a pointer becomes one such field error).
"""

from __future__ import annotations

from ..common import errors as common
from ..common.errors import DomainError

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


class BadRequest(common.MalformedInput):
    """The request cannot be read at all (HTTP 400), e.g. a body that is not JSON."""

    code = "bad_request"


class NotFound(common.NotFound):
    """No such record in the caller's organisation (HTTP 404). Another
    organisation's record is reported exactly like an unknown one."""

    code = "not_found"


class Forbidden(common.NotPermitted):
    """The caller's role does not allow this (HTTP 403), e.g. a viewer writing."""

    code = "forbidden"


class Conflict(common.Conflict):
    """The request contradicts the record's state (HTTP 409), e.g. editing an
    issued invoice, a duplicate imported number, a reused idempotency key."""

    code = "conflict"


class PreconditionFailed(common.PreconditionFailed):
    """The caller's version of the record is stale (HTTP 412, If-Match)."""

    code = "stale_version"


class Unprocessable(common.InvalidInput):
    """The request is well-formed but breaks a rule (HTTP 422), e.g. invalid
    lines or a payment above the balance due."""

    code = "unprocessable"


class RenderFailed(common.ServerFault):
    """A kept document of an issued record cannot be served (HTTP 500): the
    worker gave up rendering it, or the file is gone from storage. Not the
    caller's fault, and asking again will not help."""

    code = "render_failed"
