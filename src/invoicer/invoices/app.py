"""The invoices service: organisations, clients, invoices, payments, credit
notes, orders and the dashboard over HTTP, behind the gateway.

Its routes are in :mod:`.routes`, its rules in the domain modules of this
package; what every HTTP service shares (errors, health, headers, request
ids) comes from :func:`invoicer.common.web.make_app`, which also answers the
domain's errors (:mod:`.errors`, subclasses of the families of
:mod:`invoicer.common.errors`). Only what PostgreSQL or :mod:`decimal`
refuse is mapped here.
"""

from __future__ import annotations

from decimal import InvalidOperation

import psycopg2
import psycopg2.errors
from flask import Flask, Response

from ..common.config import Settings
from ..common.db import DatabaseUnavailable, request_database
from ..common.storage import BlobStore, StorageUnavailable
from ..common.web import error_response, make_app
from . import routes

__all__ = ["create_app"]


def _refused_by_database(exc: psycopg2.Error) -> Response:
    """A value the domain let through but PostgreSQL refused (out of range,
    a required column left empty, a stored-state rule): the client's input,
    so 422 (409 for a conflict with stored rows), never a 500."""
    if isinstance(exc, (psycopg2.DataError, psycopg2.errors.NotNullViolation, psycopg2.errors.CheckViolation)):
        return error_response(422, "invalid_value", "a value is missing, out of range or not storable")
    return error_response(409, "conflict", "the change conflicts with what is stored; reload and try again")


def _bad_number(exc: InvalidOperation) -> Response:
    return error_response(422, "invalid_value", "a number is out of range")


def create_app(settings: Settings | None = None) -> Flask:
    """Build the invoices app from ``settings`` (default: the environment).
    Raises :class:`invoicer.common.config.ConfigError` if ``JWT_SECRET`` is
    unset or too short. Connects to nothing until a request needs it.
    Request bodies are limited to ``MAX_UPLOAD_BYTES``, as uploads are
    (``POST /invoices/import`` takes the same documents)."""
    settings = settings or Settings.from_env()
    settings.require_jwt_secret()
    db = request_database(settings)
    # Issuing stores the canonical document in GridFS for the worker, and the
    # kept PDF and XLSX are read from there (invoicer.invoices.rendering).
    blobs = BlobStore(settings.mongodb_uri, settings.mongodb_database)
    app = make_app(
        __name__,
        settings,
        blueprints=[routes.blueprint],
        readiness=[("database", db.ping), ("file storage", blobs.ping)],
        unavailable={DatabaseUnavailable: "database", StorageUnavailable: "file storage"},
        max_body=settings.max_upload_bytes,
        extensions={"invoicer": routes.Services(settings, db, blobs)},
    )
    app.register_error_handler(psycopg2.DataError, _refused_by_database)
    app.register_error_handler(psycopg2.IntegrityError, _refused_by_database)
    app.register_error_handler(InvalidOperation, _bad_number)
    return app
