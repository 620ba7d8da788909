"""Telling approvers that an expense waits for them: one ``expense.submitted``
domain event (:class:`invoicer.common.messages.DomainEvent`, from the expenses
service's outbox through the events exchange) in, one plain-text mail out to
each owner and accountant of the expense's organisation other than its
submitter (the person who submitted it, or the uploader when the intake worker
submitted it in their name), with the absolute link ``PUBLIC_URL`` +
``/app/expenses/<id>`` to its review page.

Nothing is mailed for another event type, for an expense no longer
``submitted`` when the event arrives (someone decided already), or when nobody
but the submitter may decide. ``(event id, recipient)`` is the idempotency key
(table ``expense_review_mails``), with the protocol of the other mails: the
row is committed inside the SMTP transaction just before the final terminator
and removed again if the server then refuses, so a redelivered event mails
nobody twice, a retry after a failure mails only who is left, and a crash
loses no mail. Failures map to the queue's policy as for ``invoice.mail``.
"""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from ..common import metrics
from ..common.amqp import Done, Permanent, Transient
from ..common.config import Settings
from ..common.db import Database, DatabaseUnavailable
from ..common.logging import get_logger
from ..common.messages import DomainEvent, MalformedMessage
from .mailer import Deliver, PermanentMailError, mailbox_address, send

__all__ = ["EXPENSE_SUBMITTED", "ExpenseReview", "ExpenseReviewMailHandler", "ReviewMailLog", "build_review_mail"]

log = get_logger(__name__)

#: The domain event that asks for a decision.
EXPENSE_SUBMITTED = "expense.submitted"
#: The roles that approve and reject expenses (the expenses service's writers).
_DECIDERS = ["accountant", "owner"]


@dataclass(frozen=True)
class ExpenseReview:
    """What the mail says about one submitted expense (every text is the supplier's or a
    person's, only ever text here): its ``expense_id``, ``supplier`` name, ``number``
    (BT-1 of the received invoice), ``gross`` total (BT-112, a decimal string) and
    ``currency`` (ISO 4217), all None when not read; ``submitter`` the submitter's address."""

    expense_id: str
    supplier: str | None
    number: str | None
    gross: str | None
    currency: str | None
    submitter: str | None


class ReviewMailLog:
    """The expense, its approvers and the ``expense_review_mails`` table.
    Methods raise :class:`DatabaseUnavailable`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def waiting(self, event: DomainEvent) -> tuple[ExpenseReview, list[str]] | None:
        """The expense of ``event`` and the addresses of its organisation's owners and
        accountants other than its submitter; None unless it is still ``submitted``."""
        try:
            expense_id = uuid.UUID(str(event.data.get("expense_id")))
            organisation_id = uuid.UUID(event.organisation_id)
        except ValueError:
            return None
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT e.id, e.status, e.submitted_by, e.supplier_name, e.invoice_number, e.total_gross,"
                " e.currency, m.email AS submitter FROM expenses e LEFT JOIN memberships m"
                " ON m.organisation_id = e.organisation_id AND m.user_id = e.submitted_by"
                " WHERE e.id = %s AND e.organisation_id = %s",
                (expense_id, organisation_id),
            )
            row: dict[str, Any] | None = cur.fetchone()
            if row is None or row["status"] != "submitted":
                return None
            cur.execute(
                "SELECT email FROM memberships WHERE organisation_id = %s AND role = ANY(%s)"
                " AND user_id IS DISTINCT FROM %s ORDER BY email",
                (organisation_id, _DECIDERS, row["submitted_by"]),
            )
            recipients = [str(found["email"]) for found in cur.fetchall()]
        gross = row["total_gross"]
        review = ExpenseReview(
            str(row["id"]),
            row["supplier_name"],
            row["invoice_number"],
            None if gross is None else f"{gross:.2f}",
            row["currency"],
            row["submitter"],
        )
        return review, recipients

    def was_sent(self, event_id: str, recipient: str) -> bool:
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT 1 FROM expense_review_mails WHERE event_id = %s AND recipient = %s",
                (uuid.UUID(event_id), recipient),
            )
            return cur.fetchone() is not None

    def mark_sent(self, event_id: str, recipient: str, expense_id: str) -> bool:
        """Record the delivery; False if it was recorded already."""
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO expense_review_mails (event_id, recipient, expense_id) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (uuid.UUID(event_id), recipient, uuid.UUID(expense_id)),
            )
            return cur.rowcount == 1

    def unmark_sent(self, event_id: str, recipient: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "DELETE FROM expense_review_mails WHERE event_id = %s AND recipient = %s",
                (uuid.UUID(event_id), recipient),
            )


def review_link(public_url: str, expense_id: str) -> str:
    """The absolute address of the expense's review page in the web app."""
    return f"{public_url.rstrip('/')}/app/expenses/{expense_id}"


def build_review_mail(review: ExpenseReview, recipient: str, link: str, sender: str, event_id: str) -> EmailMessage:
    """The mail to one approver: subject "An expense waits for your approval: <supplier>
    <number>", a plain-text body with the supplier, number, gross total and submitter and
    ``link`` on a line of its own. The Message-ID is derived from the event id and the
    recipient (RFC 5322 3.6.4), so a copy sent twice is one message to mail clients."""
    what = " ".join(part for part in (review.supplier, review.number) if part) or "an expense"
    amount = f"{review.gross} {review.currency or ''}".strip() if review.gross else "not read"
    body = [
        "Hello,",
        "",
        f"{review.submitter or 'A member'} submitted an expense that waits for your approval:",
        "",
        f"Supplier: {review.supplier or 'not read'}",
        f"Invoice number: {review.number or 'not read'}",
        f"Total: {amount}",
        "",
        "Review it, then approve or reject it here:",
        "",
        link,
        "",
        "You get this mail as an owner or accountant of the organisation; nobody decides on what they submitted.",
    ]
    message = EmailMessage()
    message["Subject"] = f"An expense waits for your approval: {what}"
    message["From"] = sender
    message["To"] = mailbox_address(recipient)[0]
    message["Date"] = formatdate(localtime=False)
    tag = uuid.uuid5(uuid.NAMESPACE_URL, f"{event_id}/{recipient.lower()}")
    message["Message-ID"] = f"<expense-review.{tag}@invoicer>"
    message["X-Invoicer-Mail-Id"] = event_id
    message["X-Invoicer-Mail-Kind"] = "expense_review"
    message["X-Invoicer-Expense-Id"] = review.expense_id
    message.set_content("\n".join(body))
    return message


class _AlreadySent(Exception):
    pass


@dataclass
class ExpenseReviewMailHandler:
    """Callable as a :data:`invoicer.common.amqp.Handler` for the ``expense.review``
    queue (bound to ``expense.submitted`` events); ``deliver`` is
    :func:`invoicer.notification.mailer.send` or a stand-in."""

    mails: ReviewMailLog
    settings: Settings
    deliver: Deliver = send

    def __call__(self, body: bytes, correlation_id: str | None) -> Done:
        """Mail each approver of the event's expense once. Raises :class:`Permanent`
        (``malformed_message``; ``mail_refused`` after the other approvers were mailed,
        naming the refused addresses) or :class:`Transient` (SMTP or PostgreSQL
        unavailable, a 4xx from the server: the retry mails only who is left)."""
        try:
            event = DomainEvent.from_bytes(body)
        except MalformedMessage as exc:
            raise Permanent("malformed_message", str(exc)) from None
        if event.type != EXPENSE_SUBMITTED:
            return Done()
        try:
            found = self.mails.waiting(event)
        except DatabaseUnavailable as exc:
            raise Transient(f"database unavailable: {exc}", code="database_unavailable") from exc
        if found is None:
            log.info("expense no longer waits; nothing to mail", extra={"event_id": event.id})
            return Done()
        review, recipients = found
        link = review_link(self.settings.public_url, review.expense_id)
        refused: list[str] = []
        for recipient in recipients:
            try:
                self._mail(event.id, review, recipient, link)
            except Permanent as exc:  # one address refused: the others still get theirs
                refused.append(f"{recipient}: {exc.reason}")
        if refused:
            raise Permanent("mail_refused", "mail refused for " + "; ".join(refused))
        return Done()

    def _mail(self, event_id: str, review: ExpenseReview, recipient: str, link: str) -> None:
        recorded = False

        def record() -> None:
            nonlocal recorded
            if not self.mails.mark_sent(event_id, recipient, review.expense_id):
                raise _AlreadySent()
            recorded = True

        try:
            if self.mails.was_sent(event_id, recipient):
                return
            message = build_review_mail(review, recipient, link, self.settings.mail_from, event_id)
            self.deliver(message, self.settings, before_commit=record)
        except _AlreadySent:
            return
        except PermanentMailError as exc:
            self._undo(event_id, recipient, recorded)
            raise Permanent("mail_refused", f"mail refused: {exc}") from exc
        except (smtplib.SMTPException, OSError, DatabaseUnavailable) as exc:
            self._undo(event_id, recipient, recorded)
            raise Transient(f"{type(exc).__name__}: {exc}") from exc
        except Exception:
            self._undo(event_id, recipient, recorded)
            raise
        log.info("expense review mailed", extra={"event_id": event_id, "expense_id": review.expense_id})
        metrics.MAILS_SENT.labels("expense_review").inc()

    def on_dead_letter(self, body: bytes, code: str, reason: str) -> None:
        """The event is given up: logged (the expense still waits in the list)."""
        log.error("expense review mail failed", extra={"code": code, "reason": reason})
        metrics.MAILS_FAILED.labels("expense_review", code).inc()

    def _undo(self, event_id: str, recipient: str, recorded: bool) -> None:
        if recorded:
            try:
                self.mails.unmark_sent(event_id, recipient)
            except DatabaseUnavailable:
                log.error("could not undo the mail record; the mail may be lost", extra={"event_id": event_id})
