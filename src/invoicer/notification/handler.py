"""The notification handler: one ``invoice.ready`` event in, one mail out.

Event (JSON)::

    {"version": 1, "job_id": "<uuid>", "recipient": "user@example.com",
     "invoice_number": "INV-1", "totals": {...}, "status_url": "...",
     "files": [{"format": "pdf", "fid": "...", "download_url": "..."}]}

The job id is the idempotency key: an event whose job already has a row in
``notifications`` is acked without mailing again. SMTP failures are retried
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


@dataclass
class NotificationHandler:
    jobs: JobStore
    settings: Settings
    deliver: Callable = send

    def __call__(self, body: bytes, retries: int, correlation_id: str | None) -> Outcome:
        try:
            event = json.loads(body)
            if not isinstance(event, dict) or event.get("version") != 1:
                return DeadLetter("unsupported or malformed event")
            job_id, recipient = event["job_id"], event["recipient"]
            event["status_url"], event.get("files", [])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return DeadLetter("malformed event")
        try:
            if self.jobs.was_notified(job_id):
                log.info("already notified; dropping duplicate", extra={"job_id": job_id})
                return Done()
            self.deliver(build_ready_mail(event, self.settings.mail_from), self.settings)
            self.jobs.mark_notified(job_id, recipient)
        except PermanentMailError as exc:
            return DeadLetter(f"mail refused: {exc}")
        except (smtplib.SMTPException, OSError, DatabaseUnavailable) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if retries >= self.settings.notify_max_retries:
                return DeadLetter(f"gave up after {retries} retries: {reason}")
            return Retry(reason)
        log.info("notification sent", extra={"job_id": job_id})
        return Done()
