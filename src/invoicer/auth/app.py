"""The auth service: accounts, password checks and JWTs.

Its routes are in :mod:`.routes`, its rules in :mod:`.accounts`; what every
HTTP service shares (errors, health, headers, request ids) comes from
:func:`invoicer.common.web.make_app`.
"""

from __future__ import annotations

from flask import Flask

from ..common.config import Settings
from ..common.db import DatabaseUnavailable, request_database
from ..common.web import make_app
from . import routes
from .accounts import Accounts

__all__ = ["create_app"]

#: The largest request body: a JSON object with an e-mail and a password.
MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> Flask:
    """Build the auth app from ``settings`` (default: the environment).
    Raises :class:`invoicer.common.config.ConfigError` if ``JWT_SECRET`` is
    unset or too short. Connects to nothing until a request needs it."""
    settings = settings or Settings.from_env()
    settings.require_jwt_secret()
    accounts = Accounts(request_database(settings), settings)
    return make_app(
        __name__,
        settings,
        blueprints=[routes.blueprint],
        readiness=[("database", accounts.db.ping)],
        unavailable={DatabaseUnavailable: "account database"},
        max_body=MAX_BODY_BYTES,
        extensions={"invoicer": accounts},
    )
