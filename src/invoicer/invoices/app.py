"""The invoices service: organisations, clients, invoices, payments, credit
notes, orders and the dashboard over HTTP, behind the gateway.

Its routes are in :mod:`.routes`, its rules in the domain modules of this
package; what every HTTP service shares (errors, health, headers, request
ids) comes from :func:`invoicer.common.web.make_app`. The domain's errors
(:mod:`.errors`) each carry their HTTP status and become the JSON error body
here, with their pointer as a field error in ``details``.
"""

from __future__ import annotations

from flask import Flask, Response

from ..common.config import Settings
from ..common.db import Database, DatabaseUnavailable
from ..common.web import error_response, make_app
from . import routes
from .errors import DomainError

__all__ = ["create_app"]


def _domain_error(exc: DomainError) -> Response:
    """A domain error as ``{"error": {"code", "message", "details"}}`` with
    its class's status; a pointer without details becomes one field error
    ``{"pointer", "code", "message"}``."""
    details = list(exc.details)
    if not details and exc.pointer is not None:
        details = [{"pointer": exc.pointer, "code": exc.code, "message": exc.message}]
    return error_response(exc.http_status, exc.code, exc.message, details)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the invoices app from ``settings`` (default: the environment).
    Raises :class:`invoicer.common.config.ConfigError` if ``JWT_SECRET`` is
    unset or too short. Connects to nothing until a request needs it.
    Request bodies are limited to ``MAX_UPLOAD_BYTES``, as uploads are
    (``POST /invoices/import`` takes the same documents)."""
    settings = settings or Settings.from_env()
    settings.require_jwt_secret()
    db = Database(settings.database_url)
    app = make_app(
        __name__,
        settings,
        blueprints=[routes.blueprint],
        readiness=[("database", db.ping)],
        unavailable={DatabaseUnavailable: "database"},
        max_body=settings.max_upload_bytes,
        extensions={"invoicer": routes.Services(settings, db)},
    )
    app.register_error_handler(DomainError, _domain_error)
    return app
