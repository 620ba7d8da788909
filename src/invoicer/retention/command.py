"""``invoicer cleanup [--dry-run]``: the retention rules
(:mod:`invoicer.retention.rules`) applied once, with ``RETENTION_DAYS`` and
``RETENTION_LEGAL_YEARS``; a run-once job of the component registry, a
CronJob in the Helm chart.

Prints one line per kind (``jobs: 12``) and a total, and logs the counts as
JSON lines (``retention removed`` with ``kind`` and ``count``, then
``retention done``). No metrics are exported: prometheus_client is not a
dependency of this tree. Exit status 0 when done, 1 with one line on
standard error when PostgreSQL or MongoDB does not answer (what was removed
until then stays removed; the next run goes on from there).
"""

from __future__ import annotations

import sys

from ..common import logging as logs
from ..common.config import ConfigError, Settings
from ..common.db import Database, DatabaseUnavailable
from ..common.storage import BlobStore, StorageUnavailable
from .rules import run

__all__ = ["main"]


def main(dry_run: bool = False) -> int:
    """Run the cleanup once; returns the exit status (see the module)."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"invoicer: {exc}", file=sys.stderr)
        return 1
    logs.configure("cleanup", settings.log_level)
    db = Database(settings.database_url, max_connections=1)
    blobs = BlobStore(settings.mongodb_uri, settings.mongodb_database)
    try:
        removed = run(
            db,
            blobs,
            retention_days=settings.retention_days,
            legal_years=settings.retention_legal_years,
            dry_run=dry_run,
        )
    except (DatabaseUnavailable, StorageUnavailable) as exc:
        reason = " ".join(str(exc).split())
        print(f"invoicer: cleanup stopped, {type(exc).__name__}: {reason}", file=sys.stderr)
        return 1
    finally:
        blobs.close()
        db.close()
    verb = "would remove" if dry_run else "removed"
    print(
        f"cleanup ({'dry run; ' if dry_run else ''}older than {settings.retention_days} days; issued documents "
        f"kept {settings.retention_legal_years} years): {verb} {removed.total}"
    )
    for kind, count in removed.counts.items():
        print(f"  {kind}: {count}")
    return 0
