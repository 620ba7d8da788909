"""The notification handler: one ``invoice.ready`` event in, one mail out.

The event is a :class:`invoicer.common.messages.InvoiceReady`. The handler
returns :class:`~invoicer.common.amqp.Done` or raises, and
:class:`invoicer.common.amqp.Consumer` decides what happens next with the
``invoice.ready`` queue's policy: SMTP or database failures are retried with
backoff up to ``NOTIFY_MAX_RETRIES``; then, at once on a permanent refusal
(5xx) or a malformed event, and for any other error after the same limit,
the event is dead-lettered and :meth:`NotificationHandler.on_dead_letter`
records on the job that its notification failed, and why.

The job id is the idempotency key: an event whose job already has a row in
``notifications`` is acked without mailing again. The row (and the job's
``notification`` ``{"status": "sent"}``) is committed while the SMTP
transaction is still open, just before the server is asked to accept the
mail, so a process killed mid-send leaves neither a mail without a record
(a duplicate later) nor a record without a mail (a lost one).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass

from ..common import metrics
from ..common.amqp import Done, Permanent, Transient
from ..common.config import Settings
from ..common.db import DatabaseUnavailable
from ..common.jobs import JobStore
from ..common.logging import get_logger
from ..common.messages import InvoiceReady, job_id_of
from .mailer import Deliver, PermanentMailError, build_ready_mail, send

__all__ = ["NotificationHandler"]

log = get_logger(__name__)


class _AlreadySent(Exception):
    """Another delivery of the same event recorded the mail first."""


@dataclass
class NotificationHandler:
    """Callable as a :data:`invoicer.common.amqp.Handler`; ``deliver`` is
    :func:`invoicer.notification.mailer.send` or a stand-in with its signature."""

    jobs: JobStore
    settings: Settings
    deliver: Deliver = send

    def __call__(self, body: bytes, correlation_id: str | None) -> Done:
        """Mail the uploader of an :class:`InvoiceReady` body, once per job.
        Raises :class:`~invoicer.common.messages.MalformedMessage`,
        :class:`Permanent` (``mail_refused``) or :class:`Transient` (SMTP or
        database unavailable, or the server refused for now)."""
        event = InvoiceReady.from_bytes(body)
        job_id = event.job_id
        recorded = False

        def record() -> None:
            nonlocal recorded
            if not self.jobs.mark_notified(job_id, event.recipient):
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
            raise Permanent("mail_refused", f"mail refused: {exc}") from exc
        except (smtplib.SMTPException, OSError, DatabaseUnavailable) as exc:
            self._undo(job_id, recorded)
            raise Transient(f"{type(exc).__name__}: {exc}") from exc
        except Exception:
            self._undo(job_id, recorded)
            raise
        log.info("notification sent", extra={"job_id": job_id})
        metrics.MAILS_SENT.labels("ready").inc()
        return Done()

    def on_dead_letter(self, body: bytes, code: str, reason: str) -> None:
        """The event is given up: record on its job (if the body names one
        and its mail was not sent) that the notification failed, with
        ``{"code": code, "message": reason}``. Raises
        :class:`DatabaseUnavailable`, and the consumer then retries the event
        instead of dead-lettering it."""
        job_id = job_id_of(body)
        if job_id is not None and self.jobs.mark_notification_failed(job_id, code=code, message=reason):
            log.error("notification failed", extra={"job_id": job_id, "code": code, "reason": reason})
        metrics.MAILS_FAILED.labels("ready", code).inc()

    def _undo(self, job_id: str, recorded: bool) -> None:
        """The server did not take a mail we had recorded: forget the record
        so the retry sends it."""
        if recorded:
            try:
                self.jobs.unmark_notified(job_id)
            except DatabaseUnavailable:
                log.error("could not undo the notification record; the mail may be lost", extra={"job_id": job_id})
