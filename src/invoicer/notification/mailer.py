"""E-mail over SMTP (smtplib): plain SMTP, STARTTLS (RFC 3207) or implicit
TLS (RFC 8314), with optional AUTH.

Internationalised addresses are sent the way the standards allow: the
domain always as IDNA A-labels (RFC 5890, e.g. ``xn--bcher-kva.example``),
which every server takes; a local part that is not ASCII only with the
SMTPUTF8 extension (RFC 6531) and only to a server that offers it, else the
mail is refused for good (:class:`PermanentMailError`), never retried forever.
"""

from __future__ import annotations

import functools
import re
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formatdate, parseaddr
from typing import Protocol, cast
from urllib.parse import quote

from email_validator import EmailNotValidError, validate_email

from ..common import tracing
from ..common.config import Settings
from ..common.messages import InvoiceReady

__all__ = ["PermanentMailError", "build_ready_mail", "mailbox_address", "send"]


class PermanentMailError(Exception):
    """The message can never be delivered: the server refused it for good
    (5xx), or the address cannot be sent to; retrying will not help."""


def mailbox_address(address: str) -> tuple[str, bool]:
    """``address`` as it goes into the envelope and the header: the domain
    in IDNA A-labels (RFC 5890/5891, via email-validator's IDNA 2008), the
    local part as given. Returns ``(address, needs_smtputf8)``, the flag
    True when the local part is not ASCII (RFC 6531). Raises
    :class:`PermanentMailError` when it is not an address at all."""
    try:
        info = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise PermanentMailError(f"cannot mail {address!r}: {exc}") from None
    if info.ascii_email:
        return info.ascii_email, False
    return f"{info.local_part}@{info.ascii_domain}", True


def web_base(status_url: str) -> str:
    """The gateway's public address (``PUBLIC_URL``) from a job's
    ``status_url`` (``<PUBLIC_URL>/jobs/<id>``, built by the worker from
    ``PUBLIC_URL`` alone), so that the mail's links open the web app
    (``/app/files/<fid>``, ``/app/upload``: a browser's session, or the
    sign-in page that leads back there) instead of API URLs that need a
    Bearer token."""
    head, found, _ = status_url.rpartition("/jobs/")
    return head if found else status_url.rstrip("/")


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
    base = web_base(event.status_url)
    lines += ["", "Downloads (they open in the web app; sign in if it asks):"]
    for item in event.files:
        lines.append(f"  {item.format.upper()}: {base}/app/files/{quote(item.fid, safe='')}")
    lines += ["", f"Your uploads: {base}/app/upload", f"Job id: {event.job_id}", "", "-- invoicer"]
    message = EmailMessage()
    message["Subject"] = f"Invoice {number} is ready"
    message["From"] = sender
    message["To"] = mailbox_address(event.recipient)[0]
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


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS client context for STARTTLS and implicit TLS: the system's
    trust store, hostname checks (``ssl.create_default_context``). Made once
    per process and shared (an ``SSLContext`` is safe to share between
    threads): loading the trust store costs some 20 ms of CPU, which every
    mail paid before, plain SMTP included."""
    return ssl.create_default_context()


class Deliver(Protocol):
    """The signature of :func:`send`, which handlers take as ``deliver`` (tests pass stand-ins)."""

    def __call__(
        self, message: EmailMessage, settings: Settings, before_commit: Callable[[], None] | None = None
    ) -> None: ...


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

    A recipient whose local part is not ASCII is sent with SMTPUTF8 (RFC
    6531), the message then in UTF-8 headers (RFC 6532); a server without
    that extension cannot take it.

    Raises :class:`PermanentMailError` on a 5xx refusal or an address the
    server cannot take, and ``smtplib.SMTPException`` or ``OSError`` on
    transient failures.

    With tracing on, the delivery is a client span ``smtp send``.
    """
    with tracing.client_span("smtp send", {"server.address": settings.smtp_host, "server.port": settings.smtp_port}):
        _send(message, settings, before_commit)


def _send(message: EmailMessage, settings: Settings, before_commit: Callable[[], None] | None) -> None:
    sender = parseaddr(message["From"])[1]
    recipient, smtputf8 = mailbox_address(message["To"])
    # An EmailMessage's policy is an EmailPolicy (utf8 is its option); typeshed types it as the base Policy.
    policy = cast(EmailPolicy, message.policy)
    body = message.as_bytes(policy=policy.clone(linesep="\r\n", utf8=smtputf8))
    body = _LEADING_DOT.sub(b"..", body)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    timeout = settings.smtp_timeout_seconds
    server = (
        smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout, context=tls_context())
        if settings.smtp_ssl
        else smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    )
    with server as smtp:
        smtp.ehlo_or_helo_if_needed()
        if settings.smtp_starttls:
            smtp.starttls(context=tls_context())
            smtp.ehlo()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        options: list[str] = []
        if smtputf8:
            if not smtp.has_extn("smtputf8"):
                raise PermanentMailError(f"the mail server does not offer SMTPUTF8, needed for {recipient}")
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        _check(smtp.mail(sender, options), (250,), "MAIL FROM")
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
