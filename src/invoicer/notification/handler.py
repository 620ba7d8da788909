"""The notification handler: one ``invoice.ready`` event in, one mail out.

Event (JSON)::

    {"version": 1, "job_id": "<uuid>", "recipient": "user@example.com",
     "invoice_number": "INV-1", "totals": {...}, "status_url": "...",
     "files": [{"format": "pdf", "fid": "...", "download_url": "..."}]}

The job id is the idempotency key: an event whose job already has a row in
``notifications`` is acked without mailing again. The row is committed while
the SMTP transaction is still open, just before the server is asked to
accept the mail, so a process killed mid-send leaves neither a mail without
a record (a duplicate later) nor a record without a mail (a lost one). SMTP failures are retried
with backoff up to ``NOTIFY_MAX_RETRIES``; then, and on a permanent refusal,
the event is dead-lettered.
"""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass
from typing import Callable

from ..common.amqp import DeadLetter, Done, Outcome, Retry
from ..common.config import Settings
from ..common.db import DatabaseUnavailable
from ..common.jobs import JobStore
from ..common.logging import get_logger
from .mailer import PermanentMailError, build_ready_mail, send

__all__ = ["NotificationHandler"]

log = get_logger(__name__)


class _AlreadySent(Exception):
    """Another delivery of the same event recorded the mail first."""


@dataclass
class NotificationHandler:
    jobs: JobStore
    settings: Settings
    deliver: Callable = send

    def __call__(self, body: bytes, retries: int, correlation_id: str | None) -> Outcome:
        try:
            event = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return DeadLetter("event is not JSON")
        if not isinstance(event, dict) or event.get("version") != 1:
            return DeadLetter("unsupported or malformed event")
        missing = [key for key in ("job_id", "recipient", "status_url") if not isinstance(event.get(key), str)]
        if missing or not isinstance(event.get("files", []), list):
            return DeadLetter(f"malformed event: missing {', '.join(missing) or 'files list'}")
        job_id, recipient = event["job_id"], event["recipient"]
        recorded = False

        def record() -> None:
            nonlocal recorded
            if not self.jobs.mark_notified(job_id, recipient):
                raise _AlreadySent()
            recorded = True

        try:
            if self.jobs.was_notified(job_id):
                log.info("already notified; dropping duplicate", extra={"job_id": job_id})
                return Done()
            # The record is committed inside the SMTP transaction, just before
            # the server is told to accept the mail (see mailer.send).
            self.deliver(build_ready_mail(event, self.settings.mail_from), self.settings, before_commit=record)
        except _AlreadySent:
            log.info("notified concurrently; dropping duplicate", extra={"job_id": job_id})
            return Done()
        except PermanentMailError as exc:
            self._undo(job_id, recorded)
            return DeadLetter(f"mail refused: {exc}")
        except (smtplib.SMTPException, OSError, DatabaseUnavailable) as exc:
            self._undo(job_id, recorded)
            reason = f"{type(exc).__name__}: {exc}"
            if retries >= self.settings.notify_max_retries:
                return DeadLetter(f"gave up after {retries} retries: {reason}")
            return Retry(reason)
        log.info("notification sent", extra={"job_id": job_id})
        return Done()

    def _undo(self, job_id: str, recorded: bool) -> None:
        """The server did not take a mail we had recorded: forget the record
        so the retry sends it."""
        if recorded:
            try:
                self.jobs.unmark_notified(job_id)
            except DatabaseUnavailable:
                log.error("could not undo the notification record; the mail may be lost",
                          extra={"job_id": job_id})
