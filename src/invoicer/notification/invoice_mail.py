"""Mailing an issued invoice to its client: one ``invoice.mail`` command
(:class:`invoicer.common.messages.InvoiceMail`) in, one mail with the PDF
attached out.

The handler returns :class:`~invoicer.common.amqp.Done` or raises, and the
consumer applies the ``invoice.mail`` queue's policy (retries with backoff up
to ``NOTIFY_MAX_RETRIES``, then the dead-letter queue):

* the PDF not yet in GridFS (the worker is still rendering it), GridFS,
  PostgreSQL or SMTP unavailable, or a 4xx from the server:
  :class:`~invoicer.common.amqp.Transient`, retried;
* a 5xx refusal or an address that cannot be mailed:
  :class:`~invoicer.common.amqp.Permanent` (``mail_refused``), dead-lettered.

The command id is the idempotency key (table ``invoice_mails``), with the
same protocol as the "invoice ready" mail: the row is committed inside the
SMTP transaction just before the final terminator, and removed again if the
server then refuses, so a redelivered command never mails twice and a crash
loses no mail.
"""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate

from babel.dates import format_date

from ..common import metrics
from ..common.amqp import Done, Permanent, Transient
from ..common.config import Settings
from ..common.db import Database, DatabaseUnavailable
from ..common.logging import get_logger
from ..common.messages import InvoiceMail, mail_id_of
from ..common.storage import BlobStore, StorageUnavailable
from ..invoice.i18n import translator
from .mailer import Deliver, PermanentMailError, mailbox_address, send

__all__ = ["InvoiceMailHandler", "MailLog", "build_invoice_mail"]

log = get_logger(__name__)


class MailLog:
    """The ``invoice_mails`` table: which mail commands were delivered.
    Methods raise :class:`DatabaseUnavailable`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def was_sent(self, command_id: str) -> bool:
        with self.db.transaction() as cur:
            cur.execute("SELECT 1 FROM invoice_mails WHERE command_id = %s", (uuid.UUID(command_id),))
            return cur.fetchone() is not None

    def mark_sent(self, command_id: str, invoice_id: str, recipient: str) -> bool:
        """Record the delivery; False if it was recorded already."""
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO invoice_mails (command_id, invoice_id, recipient) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (uuid.UUID(command_id), uuid.UUID(invoice_id), recipient),
            )
            return cur.rowcount == 1

    def unmark_sent(self, command_id: str) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM invoice_mails WHERE command_id = %s", (uuid.UUID(command_id),))


def build_invoice_mail(
    mail: InvoiceMail, pdf: bytes, sender: str, extra: list[tuple[str, str, bytes]] | None = None
) -> EmailMessage:
    """The mail to the client, in the language of ``mail.locale`` (the
    invoice's catalogues, :mod:`invoicer.invoice.i18n`; dates by Babel):
    subject "Invoice <number> from <seller>",
    a plain-text body naming the seller, the number, the amount due and the
    due date, the PDF attached as ``mail.filename`` and ``extra`` files
    ``(filename, media type, bytes)`` after it. ``Reply-To`` is the
    seller's address when known; the Message-ID is derived from the command
    id (RFC 5322 3.6.4), so a copy sent twice is one message to mail clients.
    User text is only ever text here."""
    tr = translator(mail.locale or "en_GB")
    locale = mail.locale or "en_GB"
    if mail.due_date:
        when = format_date(date.fromisoformat(mail.due_date), "long", locale=locale)
        due = tr(
            "Amount due: {amount} {currency} by {date}.", amount=mail.amount_due, currency=mail.currency, date=when
        )
    else:
        due = tr("Amount due: {amount} {currency}.", amount=mail.amount_due, currency=mail.currency)
    body = [
        tr("Hello,"),
        "",
        tr("{seller} has sent you invoice {number}.", seller=mail.seller, number=mail.number),
        "",
        due,
        "",
        tr("The invoice is attached as {filename}.", filename=mail.filename),
    ]
    for filename, _, _ in extra or []:
        body.append(tr("The e-invoice is attached as {filename}.", filename=filename))
    if mail.reply_to:
        body += [
            "",
            tr(
                "Questions about it? Reply to this mail to reach {seller} ({email}).",
                seller=mail.seller,
                email=mail.reply_to,
            ),
        ]
    body += ["", tr("-- sent for {seller} by invoicer", seller=mail.seller)]
    message = EmailMessage()
    message["Subject"] = tr("Invoice {number} from {seller}", number=mail.number, seller=mail.seller)
    message["From"] = sender
    message["To"] = mailbox_address(mail.recipient)[0]
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<invoice-mail.{mail.id}@invoicer>"
    message["X-Invoicer-Mail-Id"] = mail.id
    message["X-Invoicer-Invoice-Id"] = mail.invoice_id
    message.set_content("\n".join(body))
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=mail.filename)
    for filename, media_type, data in extra or []:  # the e-invoice XML of an XRechnung or Peppol client
        maintype, _, subtype = media_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
    return message


class _AlreadySent(Exception):
    pass


@dataclass
class InvoiceMailHandler:
    """Callable as a :data:`invoicer.common.amqp.Handler` for ``invoice.mail``;
    ``deliver`` is :func:`invoicer.notification.mailer.send` or a stand-in."""

    mails: MailLog
    blobs: BlobStore
    settings: Settings
    deliver: Deliver = send

    def __call__(self, body: bytes, correlation_id: str | None) -> Done:
        """Mail the invoice of an :class:`InvoiceMail` body, once per command
        id. Raises :class:`~invoicer.common.messages.MalformedMessage`,
        :class:`Permanent` (``mail_refused``) or :class:`Transient`."""
        mail = InvoiceMail.from_bytes(body)
        recorded = False

        def record() -> None:
            nonlocal recorded
            if not self.mails.mark_sent(mail.id, mail.invoice_id, mail.recipient):
                raise _AlreadySent()
            recorded = True

        try:
            if self.mails.was_sent(mail.id):
                log.info("invoice already mailed; dropping duplicate", extra={"mail_id": mail.id})
                return Done()
            pdf = self.blobs.get(mail.pdf_fid)
            # An empty file is no document (one was seen once under load): not ready yet, like a missing one.
            if pdf is None or not pdf.data:
                raise Transient(f"the PDF of {mail.number} is not rendered yet", code="document_not_ready")
            extra = []
            for item in mail.attachments:
                blob = self.blobs.get(item.fid)
                if blob is None or not blob.data:
                    raise Transient(f"the e-invoice of {mail.number} is not rendered yet", code="document_not_ready")
                extra.append((item.filename, item.media_type, blob.data))
            message = build_invoice_mail(mail, pdf.data, self.settings.mail_from, extra)
            self.deliver(message, self.settings, before_commit=record)
        except _AlreadySent:
            log.info("invoice mailed concurrently; dropping duplicate", extra={"mail_id": mail.id})
            return Done()
        except PermanentMailError as exc:
            self._undo(mail.id, recorded)
            raise Permanent("mail_refused", f"mail refused: {exc}") from exc
        except (smtplib.SMTPException, OSError, DatabaseUnavailable, StorageUnavailable) as exc:
            self._undo(mail.id, recorded)
            raise Transient(f"{type(exc).__name__}: {exc}") from exc
        except Exception:
            self._undo(mail.id, recorded)
            raise
        log.info("invoice mailed", extra={"mail_id": mail.id, "invoice_id": mail.invoice_id})
        metrics.MAILS_SENT.labels("invoice").inc()
        return Done()

    def on_dead_letter(self, body: bytes, code: str, reason: str) -> None:
        """The command is given up: logged with its id (the sender sees the
        invoice as sent; the dead-letter queue keeps the command to replay)."""
        log.error("invoice mail failed", extra={"mail_id": mail_id_of(body), "code": code, "reason": reason})
        metrics.MAILS_FAILED.labels("invoice", code).inc()

    def _undo(self, mail_id: str, recorded: bool) -> None:
        if recorded:
            try:
                self.mails.unmark_sent(mail_id)
            except DatabaseUnavailable:
                log.error("could not undo the mail record; the mail may be lost", extra={"mail_id": mail_id})
