"""E-mail over SMTP (smtplib): plain SMTP, STARTTLS (RFC 3207) or implicit
TLS (RFC 8314), with optional AUTH."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..common.config import Settings

__all__ = ["PermanentMailError", "build_ready_mail", "send"]


class PermanentMailError(Exception):
    """The server refused the message for good (5xx); retrying will not help."""


def build_ready_mail(event: dict, sender: str) -> EmailMessage:
    """The "invoice ready" mail for an ``invoice.ready`` event (see
    :mod:`invoicer.notification.handler`). Plain text; user text is only
    ever text here."""
    number = event.get("invoice_number") or "your invoice"
    totals = event.get("totals") or {}
    lines = [
        "Hello,",
        "",
        f"Invoice {number} has been rendered and is ready to download.",
    ]
    if totals:
        lines.append(f"Total: {totals.get('gross')} {totals.get('currency')}")
    lines += ["", "Downloads (log in first; the links need your token):"]
    for item in event.get("files", []):
        lines.append(f"  {item['format'].upper()}: {item['download_url']}")
    lines += ["", f"Job status: {event['status_url']}", f"Job id: {event['job_id']}", "", "-- invoicer"]
    message = EmailMessage()
    message["Subject"] = f"Invoice {number} is ready"
    message["From"] = sender
    message["To"] = event["recipient"]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="invoicer.local")
    # The idempotency key, for readers and for tests.
    message["X-Invoicer-Job-Id"] = event["job_id"]
    message.set_content("\n".join(lines))
    return message


def send(message: EmailMessage, settings: Settings) -> None:
    """Deliver ``message`` through the configured SMTP server.

    Raises :class:`PermanentMailError` on a 5xx refusal, and
    ``smtplib.SMTPException`` or ``OSError`` on transient failures.
    """
    context = ssl.create_default_context()
    cls = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    kwargs = {"context": context} if settings.smtp_ssl else {}
    try:
        with cls(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds, **kwargs) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=context)
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            raise PermanentMailError(f"recipient refused: {exc.recipients}") from exc
        raise
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentMailError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        raise
