"""The expenses service's Flask app (``invoicer expenses``), behind the gateway."""

from __future__ import annotations

import psycopg2
import psycopg2.errors
from flask import Flask, Response

from ..common.components import MULTIPART_OVERHEAD
from ..common.config import Settings
from ..common.db import Database, DatabaseUnavailable
from ..common.storage import BlobStore, StorageUnavailable
from ..common.web import error_response, make_app
from . import routes

__all__ = ["create_app"]


def _refused_by_database(exc: psycopg2.Error) -> Response:
    """A value PostgreSQL refused (out of range, a stored-state rule): 422, never a 500."""
    if isinstance(exc, psycopg2.IntegrityError) and not isinstance(exc, psycopg2.errors.CheckViolation):
        return error_response(409, "conflict", "the change conflicts with what is stored; reload and try again")
    return error_response(422, "invalid_value", "a value is out of range or not storable")


def create_app(settings: Settings | None = None) -> Flask:
    """Build the expenses app from ``settings`` (default: the environment). Raises
    :class:`invoicer.common.config.ConfigError` if ``JWT_SECRET`` is unset or too short.
    Bodies are limited to ``EXPENSE_MAX_BYTES`` (10 MB) and a multipart envelope."""
    settings = settings or Settings.from_env()
    settings.require_jwt_secret()
    db = Database(settings.database_url)
    blobs = BlobStore(settings.mongodb_uri, settings.mongodb_database)
    app = make_app(
        __name__,
        settings,
        blueprints=[routes.blueprint],
        readiness=[("database", db.ping), ("file storage", blobs.ping)],
        unavailable={DatabaseUnavailable: "database", StorageUnavailable: "file storage"},
        max_body=settings.expense_max_bytes + MULTIPART_OVERHEAD,
        extensions={"invoicer": routes.Services(settings, db, blobs)},
    )
    app.register_error_handler(psycopg2.DataError, _refused_by_database)
    app.register_error_handler(psycopg2.IntegrityError, _refused_by_database)
    return app
