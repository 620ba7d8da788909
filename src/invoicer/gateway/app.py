"""The gateway: the only public HTTP entry of invoicer.

It asks the auth service to log users in, verifies their JWTs itself (same
key, algorithm pinned), validates uploads, stores them in GridFS, records the
job in PostgreSQL and publishes it to RabbitMQ; then reports job status and
serves each user their own files. See :mod:`invoicer.gateway.routes` for the
routes and :mod:`invoicer.gateway.openapi` for their contract.
"""

from __future__ import annotations

import threading

from flask import Flask

from ..common.amqp import BrokerUnavailable, Publisher, Topology
from ..common.config import Settings
from ..common.db import Database, DatabaseUnavailable
from ..common.errors import error_response, install_error_handlers
from ..common.jobs import JobStore
from ..common.storage import BlobStore, StorageUnavailable

__all__ = ["Services", "create_app"]


class Services:
    """What the routes talk to. The publisher is per thread (pika's
    BlockingConnection is not thread-safe); the rest are thread-safe pools."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.jobs = JobStore(self.db)
        self.blobs = BlobStore(settings.mongodb_uri, settings.mongodb_database)
        self.topology = Topology.from_settings(settings)
        self._local = threading.local()

    @property
    def publisher(self) -> Publisher:
        publisher = getattr(self._local, "publisher", None)
        if publisher is None:
            publisher = Publisher(self.settings.amqp_url, self.topology)
            self._local.publisher = publisher
        return publisher


def create_app(config: Settings | None = None) -> Flask:
    """Build the gateway app from ``config`` (default: the environment).
    Raises :class:`invoicer.common.config.ConfigError` if ``JWT_SECRET`` is unset."""
    from . import routes  # noqa: PLC0415 - routes import this module's Services

    settings = config or Settings.from_env()
    settings.require_jwt_secret()
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    # Werkzeug answers 413 on its own for bodies over the limit.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.json.sort_keys = False
    app.extensions["invoicer"] = Services(settings)
    install_error_handlers(app)

    @app.errorhandler(DatabaseUnavailable)
    @app.errorhandler(StorageUnavailable)
    @app.errorhandler(BrokerUnavailable)
    def _dependency_down(exc):
        names = {DatabaseUnavailable: "database", StorageUnavailable: "file storage",
                 BrokerUnavailable: "message broker"}
        what = names.get(type(exc), "a dependency")
        return error_response(503, "unavailable", f"the {what} is unavailable; try again shortly",
                              headers={"Retry-After": "5"})

    if settings.trusted_proxy_hops:
        # Behind N proxies (an ingress), take the client address from X-Forwarded-For.
        from werkzeug.middleware.proxy_fix import ProxyFix  # noqa: PLC0415

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxy_hops,
                                x_proto=settings.trusted_proxy_hops, x_host=settings.trusted_proxy_hops)
    app.register_blueprint(routes.blueprint)
    return app
