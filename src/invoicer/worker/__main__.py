"""The invoice worker process: ``invoicer worker`` or ``python -m invoicer.worker``."""

from __future__ import annotations

from ..common.amqp import RENDER
from ..common.consumer_main import run_consumer
from ..common.db import Database
from ..common.jobs import JobStore
from ..common.storage import BlobStore
from ..invoice.typefaces import register_fonts
from .handler import RenderHandler


def main() -> None:
    """Consume ``invoice.render`` until SIGTERM/SIGINT."""

    def build(settings):
        jobs = JobStore(Database(settings.database_url, max_connections=2))
        blobs = BlobStore(settings.mongodb_uri, settings.mongodb_database)
        register_fonts()  # once, at start-up, not during the first job
        return RenderHandler(jobs=jobs, blobs=blobs, settings=settings)

    run_consumer("worker", RENDER, build, prefetch_setting="worker_prefetch")


if __name__ == "__main__":
    main()
