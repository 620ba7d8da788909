"""The notification process: ``invoicer notification`` or ``python -m invoicer.notification``."""

from __future__ import annotations

from ..common.amqp import READY
from ..common.consumer_main import run_consumer
from ..common.db import Database
from ..common.jobs import JobStore
from .handler import NotificationHandler


def main() -> None:
    """Consume ``invoice.ready`` until SIGTERM/SIGINT."""

    def build(settings):
        return NotificationHandler(JobStore(Database(settings.database_url, max_connections=2)), settings)

    run_consumer("notification", READY, build, prefetch_setting="worker_prefetch")


if __name__ == "__main__":
    main()
