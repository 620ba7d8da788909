"""E-mail over SMTP (smtplib): plain SMTP, STARTTLS (RFC 3207) or implicit
TLS (RFC 8314), with optional AUTH."""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Callable

from ..common.config import Settings
from ..common.messages import InvoiceReady

__all__ = ["PermanentMailError", "build_ready_mail", "send"]


class PermanentMailError(Exception):
    """The server refused the message for good (5xx); retrying will not help."""


def build_ready_mail(event: InvoiceReady, sender: str) -> EmailMessage:
    """The "invoice ready" mail for an ``invoice.ready`` event. Plain text;
    user text is only ever text here. The Message-ID is derived from the job
    id, so should a copy ever go out twice, mail clients see one message
    (RFC 5322 3.6.4)."""
    number = event.invoice_number or "your invoice"
    totals = event.totals or {}
    lines = [
        "Hello,",
        "",
        f"Invoice {number} has been rendered and is ready to download.",
    ]
    if totals:
        lines.append(f"Total: {totals.get('gross')} {totals.get('currency')}")
    lines += ["", "Downloads (log in first; the links need your token):"]
    for item in event.files:
        lines.append(f"  {item.format.upper()}: {item.download_url}")
    lines += ["", f"Job status: {event.status_url}", f"Job id: {event.job_id}", "", "-- invoicer"]
    message = EmailMessage()
    message["Subject"] = f"Invoice {number} is ready"
    message["From"] = sender
    message["To"] = event.recipient
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<invoice-ready.{event.job_id}@invoicer>"
    # The idempotency key, for readers and for tests.
    message["X-Invoicer-Job-Id"] = event.job_id
    message.set_content("\n".join(lines))
    return message


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _check(reply: tuple[int, bytes], expected: tuple[int, ...], what: str) -> None:
    code, text = reply
    if code in expected:
        return
    if 500 <= code < 600:
        raise PermanentMailError(f"{what}: {code} {text!r}")
    raise smtplib.SMTPResponseException(code, text)


def send(message: EmailMessage, settings: Settings, before_commit: Callable[[], None] | None = None) -> None:
    """Deliver ``message`` through the configured SMTP server.

    ``before_commit`` runs after the whole message has been transmitted but
    before the final ``<CRLF>.<CRLF>`` that makes the server accept it
    (RFC 5321 4.1.1.4): the caller records the delivery there. If it raises,
    the connection is dropped without the terminator, so the server discards
    the message; if the server then refuses the message, the error reaches
    the caller, who undoes the record. A process killed at any point thus
    leaves either no mail and no record, or both — but for the instant
    between the record and the terminator, a single socket write.

    Raises :class:`PermanentMailError` on a 5xx refusal, and
    ``smtplib.SMTPException`` or ``OSError`` on transient failures.
    """
    context = ssl.create_default_context()
    cls = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    kwargs = {"context": context} if settings.smtp_ssl else {}
    sender = message["From"]
    recipient = message["To"]
    body = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    body = _LEADING_DOT.sub(b"..", body)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    with cls(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds, **kwargs) as smtp:
        smtp.ehlo_or_helo_if_needed()
        if settings.smtp_starttls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        _check(smtp.mail(sender), (250,), "MAIL FROM")
        _check(smtp.rcpt(recipient), (250, 251), f"RCPT TO {recipient}")
        _check(smtp.docmd("DATA"), (354,), "DATA")
        smtp.send(body)
        if before_commit is not None:
            try:
                before_commit()
            except BaseException:
                smtp.close()  # no terminator: the server drops the message
                raise
        smtp.send(b".\r\n")
        _check(smtp.getreply(), (250,), "end of DATA")
