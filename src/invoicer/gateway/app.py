"""The gateway: the only public HTTP entry of invoicer.

It asks the auth service to log users in, verifies their JWTs itself (same
key, algorithm pinned; :mod:`invoicer.common.tokens`), validates uploads,
stores them in GridFS, records the job and its render request in one
PostgreSQL transaction (the transactional outbox, which the outbox relay
publishes to RabbitMQ); then reports job status and serves each user their own files. See
:mod:`invoicer.gateway.routes` for the routes,
:mod:`invoicer.gateway.forward` for the billing routes it passes to the
invoices service, :mod:`invoicer.gateway.openapi`
for their contract and :mod:`invoicer.common.web` for what every service
shares (errors, health, headers, request ids). The web app for people
(HTML pages under ``/app/``) is :mod:`invoicer.gateway.web`.
"""

from __future__ import annotations

from flask import Flask

from ..common import components
from ..common.config import Settings
from ..common.db import DatabaseUnavailable
from ..common.storage import StorageUnavailable
from ..common.web import make_app
from . import forward, routes, web
from .services import Services

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """Build the gateway app from ``settings`` (default: the environment).
    Raises :class:`invoicer.common.config.ConfigError` if ``JWT_SECRET`` is
    unset or too short. Connects to nothing until a request needs it."""
    settings = settings or Settings.from_env()
    settings.require_jwt_secret()
    services = Services(settings)
    app = make_app(
        __name__,
        settings,
        blueprints=[routes.blueprint, forward.blueprint],
        readiness=[
            ("database", services.db.ping),
            ("file storage", services.blobs.ping),
        ],
        unavailable={
            DatabaseUnavailable: "database",
            StorageUnavailable: "file storage",
        },
        max_body=settings.max_upload_bytes,  # Werkzeug answers 413 on its own for larger bodies
        # the services whose requests may be larger (expense documents: EXPENSE_MAX_BYTES)
        body_limits=components.body_limits(settings),
        extensions={"invoicer": services},
    )
    web.init_app(app, settings)  # the web app under /app/ (gateway/web)
    return app
