"""What the gateway's routes talk to, built once per app from its settings."""

from __future__ import annotations

from ..common.config import Settings
from ..common.db import request_database
from ..common.jobs import JobStore
from ..common.storage import BlobStore

__all__ = ["Services"]


class Services:
    """The gateway's dependencies: ``db`` (PostgreSQL pool), ``jobs`` (the job
    rows) and ``blobs`` (GridFS), thread-safe pools that connect on first
    use. No broker: an upload's render request goes through the
    transactional outbox (:mod:`invoicer.common.outbox`) in PostgreSQL, and
    the outbox relay publishes it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = request_database(settings)
        self.jobs = JobStore(self.db)
        self.blobs = BlobStore(settings.mongodb_uri, settings.mongodb_database)
