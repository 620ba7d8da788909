"""Mailing a link of an account: one ``account.mail`` command
(:class:`invoicer.common.messages.AccountMail`) in, one plain-text mail out:
confirm your address, reset your password, or answer an invitation.

The link is the command's, built by its sender from ``PUBLIC_URL``; this
module never builds one. The command id is the idempotency key (table
``account_mails``), with the protocol of the other mails: the row is
committed inside the SMTP transaction just before the final terminator and
removed again if the server then refuses, so a redelivered command never
mails twice and a crash loses no mail. Failures map to the queue's policy
as for ``invoice.mail``: SMTP or PostgreSQL unavailable or a 4xx retried,
a 5xx or an address that cannot be mailed dead-lettered.
"""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate

from ..common.amqp import Done, Permanent, Transient
from ..common.config import Settings
from ..common.db import Database, DatabaseUnavailable
from ..common.logging import get_logger
from ..common.messages import AccountMail, mail_id_of
from .mailer import Deliver, PermanentMailError, mailbox_address, send

__all__ = ["AccountMailHandler", "AccountMailLog", "build_account_mail"]

log = get_logger(__name__)

_ROLE_WORDS = {
    "owner": "an owner (manages the organisation and its members)",
    "accountant": "an accountant (reads and writes its records)",
    "viewer": "a viewer (reads its records)",
}


class AccountMailLog:
    """The ``account_mails`` table: which account mail commands were delivered."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def was_sent(self, command_id: str) -> bool:
        with self.db.transaction() as cur:
            cur.execute("SELECT 1 FROM account_mails WHERE command_id = %s", (uuid.UUID(command_id),))
            return cur.fetchone() is not None

    def mark_sent(self, command_id: str, kind: str) -> bool:
        """Record the delivery; False if it was recorded already."""
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO account_mails (command_id, kind) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (uuid.UUID(command_id), kind),
            )
            return cur.rowcount == 1

    def unmark_sent(self, command_id: str) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM account_mails WHERE command_id = %s", (uuid.UUID(command_id),))


def _until(expires_at: str) -> str:
    try:
        return datetime.fromisoformat(expires_at).strftime("%d %B %Y, %H:%M UTC")
    except ValueError:
        return expires_at


def build_account_mail(mail: AccountMail, sender: str) -> EmailMessage:
    """The mail for one :class:`AccountMail`: subject and plain-text body by
    ``kind``, the link on a line of its own, when it stops working, and what
    to do if the mail was not expected. The Message-ID is derived from the
    command id (RFC 5322 3.6.4). Organisation and inviter names are only
    ever text here."""
    until = _until(mail.expires_at)
    if mail.kind == "verify_email":
        subject = "Confirm your e-mail address for invoicer"
        intro = ["Please confirm that this is your e-mail address by opening this link:"]
        unexpected = "If you did not create an invoicer account, ignore this mail."
    elif mail.kind == "password_reset":
        subject = "Reset your invoicer password"
        intro = [
            "Someone asked to reset the password of the invoicer account of this address.",
            "Choose a new one here:",
        ]
        unexpected = "If it was not you, ignore this mail: your password stays as it is."
    else:
        organisation = mail.organisation or "an organisation"
        subject = f"Invitation to join {organisation} on invoicer"
        intro = [
            f"{mail.inviter or 'Someone'} invites you to join {organisation} on invoicer"
            f" as {_ROLE_WORDS.get(mail.role or '', mail.role or 'a member')}.",
            "Nothing changes until you accept. Accept or decline here (sign in, or create an account,"
            " with this address and confirm it first):",
        ]
        unexpected = "If you do not know them, decline or ignore this mail: you will not join."
    body = ["Hello,", "", *intro, "", mail.link, "", f"The link works once, until {until}.", "", unexpected]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = mailbox_address(mail.recipient)[0]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<account-mail.{mail.id}@invoicer>"
    message["X-Invoicer-Mail-Id"] = mail.id
    message["X-Invoicer-Mail-Kind"] = mail.kind
    message.set_content("\n".join(body))
    return message


class _AlreadySent(Exception):
    pass


@dataclass
class AccountMailHandler:
    """Callable as a :data:`invoicer.common.amqp.Handler` for ``account.mail``;
    ``deliver`` is :func:`invoicer.notification.mailer.send` or a stand-in."""

    mails: AccountMailLog
    settings: Settings
    deliver: Deliver = send

    def __call__(self, body: bytes, correlation_id: str | None) -> Done:
        """Mail the link of an :class:`AccountMail` body, once per command id.
        Raises :class:`~invoicer.common.messages.MalformedMessage`,
        :class:`Permanent` (``mail_refused``) or :class:`Transient`."""
        mail = AccountMail.from_bytes(body)
        recorded = False

        def record() -> None:
            nonlocal recorded
            if not self.mails.mark_sent(mail.id, mail.kind):
                raise _AlreadySent()
            recorded = True

        try:
            if self.mails.was_sent(mail.id):
                log.info("account mail already sent; dropping duplicate", extra={"mail_id": mail.id})
                return Done()
            self.deliver(build_account_mail(mail, self.settings.mail_from), self.settings, before_commit=record)
        except _AlreadySent:
            log.info("account mail sent concurrently; dropping duplicate", extra={"mail_id": mail.id})
            return Done()
        except PermanentMailError as exc:
            self._undo(mail.id, recorded)
            raise Permanent("mail_refused", f"mail refused: {exc}") from exc
        except (smtplib.SMTPException, OSError, DatabaseUnavailable) as exc:
            self._undo(mail.id, recorded)
            raise Transient(f"{type(exc).__name__}: {exc}") from exc
        except Exception:
            self._undo(mail.id, recorded)
            raise
        log.info("account mail sent", extra={"mail_id": mail.id, "kind": mail.kind})
        return Done()

    def on_dead_letter(self, body: bytes, code: str, reason: str) -> None:
        """The command is given up: logged with its id (the person can ask for a new link)."""
        log.error("account mail failed", extra={"mail_id": mail_id_of(body), "code": code, "reason": reason})

    def _undo(self, mail_id: str, recorded: bool) -> None:
        if recorded:
            try:
                self.mails.unmark_sent(mail_id)
            except DatabaseUnavailable:
                log.error("could not undo the mail record; the mail may be lost", extra={"mail_id": mail_id})
