"""The intake worker (``invoicer intake``): reads each uploaded expense document.

One :class:`~invoicer.common.messages.ExpenseRead` in (queue ``<AMQP_PREFIX>.expense.read``,
prefetch 1: OCR takes about a gigabyte and seconds a page), the expense's fields out: the
document is taken from GridFS, read by :func:`invoicer.invoice.reading.extract` (the
e-invoice XML first, exact; then the PDF's text layer; then OCR), and stored on the
expense with its checks in one transaction (:func:`.records.apply_extraction`).

Nothing is lost or doubled: the message is acked only after that transaction commits; a
worker killed mid-document leaves the message unacked, so the broker hands it out again
and the document is read again; a redelivered message whose expense is no longer
``processing`` changes nothing. A document that cannot be read (encrypted, broken, not a
document) makes the expense ``failed`` with the reader's reason; a message that can never
succeed (its expense gone, its document gone) is dead-lettered and the expense marked
``failed`` with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..common import metrics
from ..common.amqp import Done, Permanent, Transient
from ..common.config import Settings
from ..common.consumer_main import run_consumer
from ..common.db import Database, DatabaseUnavailable
from ..common.logging import get_logger
from ..common.messages import ExpenseRead
from ..common.storage import BlobStore, StorageUnavailable
from ..invoice.reading import extract
from . import records

__all__ = ["IntakeHandler", "main"]

log = get_logger(__name__)


@dataclass
class IntakeHandler:
    """Callable as a :data:`invoicer.common.amqp.Handler`."""

    db: Database
    blobs: BlobStore
    threshold: float = 0.9

    def __call__(self, body: bytes, correlation_id: str | None) -> Done:
        """Read the expense's document and store its fields. Raises
        :class:`~invoicer.common.messages.MalformedMessage` or :class:`Permanent`
        (``expense_missing``, ``document_missing``) for what can never succeed,
        :class:`Transient` while PostgreSQL or MongoDB is away."""
        message = ExpenseRead.from_bytes(body)
        try:
            with self.db.transaction() as cur:
                expense = records.document_of(cur, message.expense_id)
            if expense is None:
                raise Permanent("expense_missing", f"expense {message.expense_id} does not exist")
            if expense["status"] != "processing":
                log.info("expense already read", extra={"expense_id": message.expense_id})
                return Done()
            blob = self.blobs.get(expense["document_fid"])
            if blob is None or blob.data is None:
                raise Permanent("document_missing", f"the document of expense {message.expense_id} is gone")
            started = time.monotonic()
            extraction = extract(blob.data, expense["document_name"] or "document")
            seconds = time.monotonic() - started
            with self.db.transaction() as cur:
                status = records.apply_extraction(cur, message.expense_id, extraction, threshold=self.threshold)
        except (DatabaseUnavailable, StorageUnavailable) as exc:
            raise Transient(f"{type(exc).__name__}: {exc}") from exc
        if status is not None:  # this delivery read it (not a redelivery of one read already)
            metrics.EXTRACTION_DURATION.labels(extraction.kind).observe(seconds)
            metrics.EXPENSES_READ.labels(status).inc()
            for field in extraction.fields.values():
                metrics.EXTRACTION_CONFIDENCE.labels(field.source).observe(field.confidence)
        log.info(
            "expense read",
            extra={
                "expense_id": message.expense_id,
                "kind": extraction.kind,
                "pages": extraction.pages,
                "status": status,
                "seconds": round(seconds, 2),
            },
        )
        return Done()

    def on_dead_letter(self, body: bytes, code: str, reason: str) -> None:
        """Mark the expense ``failed`` with ``code: reason`` (raises while the database is away,
        so the message is retried instead of dead-lettered unrecorded)."""
        try:
            message = ExpenseRead.from_bytes(body)
        except Permanent:
            return
        with self.db.transaction() as cur:
            records.mark_failed(cur, message.expense_id, f"{code}: {reason}")


def main() -> None:
    """Consume ``expense.read`` until SIGTERM/SIGINT, one document at a time."""

    def build(settings: Settings) -> IntakeHandler:
        return IntakeHandler(
            Database(settings.database_url, max_connections=2),
            BlobStore(settings.mongodb_uri, settings.mongodb_database),
            settings.expense_review_threshold,
        )

    run_consumer("intake", ExpenseRead.ROUTING_KEY, build, prefetch_setting="intake_prefetch")
