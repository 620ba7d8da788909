"""What the gateway's routes talk to, built once per app from its settings."""

from __future__ import annotations

import threading

from ..common.amqp import Publisher, Topology
from ..common.config import Settings
from ..common.db import Database
from ..common.jobs import JobStore
from ..common.storage import BlobStore

__all__ = ["Services"]


class Services:
    """The gateway's dependencies: ``db`` (PostgreSQL pool), ``jobs`` (the job
    rows), ``blobs`` (GridFS), ``topology`` (RabbitMQ names) and, per thread,
    ``publisher``. The publisher is per thread because pika's
    BlockingConnection is not thread-safe; the rest are thread-safe pools.
    Nothing connects until first used."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.jobs = JobStore(self.db)
        self.blobs = BlobStore(settings.mongodb_uri, settings.mongodb_database)
        self.topology = Topology.from_settings(settings)
        self._local = threading.local()

    @property
    def publisher(self) -> Publisher:
        """This thread's publisher, opened on first use."""
        publisher = getattr(self._local, "publisher", None)
        if publisher is None:
            publisher = Publisher(self.settings.amqp_url, self.topology)
            self._local.publisher = publisher
        return publisher

    def ping_publisher(self) -> None:
        """Raises :class:`~invoicer.common.amqp.BrokerUnavailable` if this
        thread's publisher cannot reach the broker (a readiness check)."""
        self.publisher.ping()
