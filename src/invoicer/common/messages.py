"""The messages the services send each other, one definition each, imported
by the producer and the consumer alike.

* :class:`RenderRequest` (routing key ``invoice.render``): the gateway asks
  the worker to render a job.
* :class:`InvoiceReady` (routing key ``invoice.ready``): the worker tells the
  notification service that a job is done.
* :class:`InvoiceMail` (routing key ``invoice.mail``): the invoices service
  asks the notification service to mail an issued invoice to its client.
* :class:`AccountMail` (routing key ``account.mail``): auth or the invoices
  service asks the notification service to mail a link of an account
  (verify the address, reset the password, answer an invitation).

Each is a pydantic model (frozen; one definition of the shape for the
producer and the consumer). On the wire each is a JSON object with
``"version": 1`` and the fields below (the keys are the field names), written
by its own ``to_bytes`` in a fixed key order, byte for byte what version 1
always was (``tests/common/test_messages.py`` holds the bytes).
:meth:`from_bytes` refuses anything else with :class:`MalformedMessage`, a
:class:`~invoicer.common.amqp.Permanent` error, so the consumer dead-letters
such a message at once instead of retrying it. Strings must be non-empty
strings, flags JSON booleans: nothing is coerced.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, StringConstraints, ValidationError, field_validator

from .amqp import ACCOUNT_MAIL, INTAKE, MAIL, READY, RENDER, Permanent

__all__ = [
    "BY_ROUTING_KEY",
    "AccountMail",
    "DomainEvent",
    "ExpenseRead",
    "InvoiceMail",
    "InvoiceReady",
    "MalformedMessage",
    "ReadyFile",
    "RenderRequest",
    "job_id_of",
    "mail_id_of",
]


class MalformedMessage(Permanent):
    """The body is not a message this version understands: not JSON, not an
    object, another ``version`` (code ``unsupported_version``), or a field
    missing or of the wrong type (code ``malformed_message``). Retrying cannot help."""


def _object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedMessage("malformed_message", "message is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedMessage("malformed_message", "message is not a JSON object")
    return data


def _versioned(body: bytes, version: int) -> dict[str, Any]:
    data = _object(body)
    if data.get("version") != version:
        raise MalformedMessage("unsupported_version", f"unsupported message version {data.get('version')!r}")
    return data


#: A non-empty JSON string.
Text = Annotated[StrictStr, StringConstraints(min_length=1)]


def _malformed(exc: ValidationError) -> MalformedMessage:
    """The first problem pydantic found, as the :class:`MalformedMessage`
    version 1 always raised: ``message field <path> is missing`` (absent),
    ``... is not an object`` (a list item that should be one), ``... is
    ill-typed`` (anything else: wrong type, empty string, null)."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    where = "/".join(loc)
    if loc and loc[0] == "formats" and len(loc) > 1:
        return MalformedMessage("malformed_message", "message field formats must list format names")
    if error["type"] == "missing":
        state = "missing"
    elif error["type"] == "model_type" and len(loc) > 1:
        state = "not an object"
    else:
        state = "ill-typed"
    return MalformedMessage("malformed_message", f"message field {where} is {state}")


class _Message(BaseModel):
    """What every message shares: frozen, extra keys ignored (a newer
    producer may add optional ones), decoded by :meth:`from_bytes`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    VERSION: ClassVar[int] = 1

    @classmethod
    def from_bytes(cls, body: bytes) -> Self:
        """Decode a body; raises :class:`MalformedMessage`."""
        data = _versioned(body, cls.VERSION)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _malformed(exc) from None


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _string_of(body: bytes, key: str) -> str | None:
    try:
        data = _object(body)
    except MalformedMessage:
        return None
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def job_id_of(body: bytes) -> str | None:
    """The ``job_id`` of a message body if it has a non-empty string one,
    however malformed the rest is; else ``None``. Lets a consumer record the
    failure of a message it refused on the job the message was about."""
    return _string_of(body, "job_id")


def mail_id_of(body: bytes) -> str | None:
    """The ``id`` of an :class:`InvoiceMail` body if it has a non-empty
    string one, however malformed the rest is; else ``None``."""
    return _string_of(body, "id")


class RenderRequest(_Message):
    """Render job ``job_id`` of ``owner_id`` from the uploaded JSON at GridFS
    id ``input_fid`` into ``formats`` (e.g. ``("pdf", "xlsx")``). The job row
    holds the same facts; the worker reads them from there.

    Optional fields (absent from the body when they have their default, so
    an upload's message is byte for byte what it always was, and a body
    without them still parses): ``notify`` (default True) False when the
    requester does not want the "invoice ready" mail (an invoice record's
    documents); ``document_type`` ``"invoice"`` (default) or
    ``"credit_note"`` (EN 16931 BT-3 380/381) with ``preceding_invoice``
    (BT-25) and ``preceding_invoice_date`` (BT-26, ``YYYY-MM-DD``), the
    invoice a credit note corrects. The uploaded JSON stays in the canonical
    upload format; these say how to title it. ``locale`` (a CLDR id such as
    ``de_DE``; default the worker's ``INVOICE_LOCALE``) is the language and
    number format of the documents, the client's; ``einvoice`` the e-invoice
    profile of the ``cii``/``ubl``/``facturx`` formats (``factur-x``,
    ``xrechnung-cii``, ``xrechnung-ubl``, ``peppol-ubl``)."""

    ROUTING_KEY: ClassVar[str] = RENDER

    job_id: Text
    owner_id: Text
    input_fid: Text
    formats: tuple[Text, ...]
    notify: StrictBool = True
    document_type: Text = "invoice"
    preceding_invoice: Text | None = None
    preceding_invoice_date: Text | None = None
    locale: Text | None = None
    einvoice: Text | None = None

    @field_validator("document_type", mode="before")
    @classmethod
    def _null_is_invoice(cls, value: Any) -> Any:
        return "invoice" if value is None else value

    @field_validator("notify", mode="before")
    @classmethod
    def _null_notifies(cls, value: Any) -> Any:
        return True if value is None else value

    def to_bytes(self) -> bytes:
        """The JSON body: ``{"version", "job_id", "owner_id", "input_fid",
        "formats": [...]}`` plus ``"notify": false``, ``"document_type"``,
        ``"preceding_invoice"`` and ``"preceding_invoice_date"`` when they
        are not the defaults."""
        body: dict[str, Any] = {
            "version": self.VERSION,
            "job_id": self.job_id,
            "owner_id": self.owner_id,
            "input_fid": self.input_fid,
            "formats": list(self.formats),
        }
        if not self.notify:
            body["notify"] = False
        if self.document_type != "invoice":
            body["document_type"] = self.document_type
        for key in ("preceding_invoice", "preceding_invoice_date", "locale", "einvoice"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return _encode(body)


class ReadyFile(BaseModel):
    """One rendered file of an :class:`InvoiceReady` event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    format: Text
    fid: Text
    download_url: Text


class InvoiceReady(_Message):
    """Job ``job_id`` is done: mail ``recipient`` the links. ``totals`` is
    ``{"currency", "net", "tax", "gross"}`` as decimal strings (or ``None``);
    ``status_url`` and each file's ``download_url`` are absolute URLs of the
    gateway."""

    ROUTING_KEY: ClassVar[str] = READY

    job_id: Text
    recipient: Text
    invoice_number: Text | None = None
    totals: dict[str, Any] | None = None
    status_url: Text
    files: tuple[ReadyFile, ...]

    def to_bytes(self) -> bytes:
        """The JSON body: ``{"version", "job_id", "recipient", "invoice_number",
        "totals", "status_url", "files": [{"format", "fid", "download_url"}]}``."""
        return _encode(
            {
                "version": self.VERSION,
                "job_id": self.job_id,
                "recipient": self.recipient,
                "invoice_number": self.invoice_number,
                "totals": self.totals,
                "status_url": self.status_url,
                "files": [
                    {"format": item.format, "fid": item.fid, "download_url": item.download_url} for item in self.files
                ],
            }
        )


class MailAttachment(BaseModel):
    """A further file of an :class:`InvoiceMail`: the e-invoice XML a client
    takes (XRechnung, Peppol) at GridFS id ``fid``, attached as ``filename``
    with ``media_type``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fid: Text
    filename: Text
    media_type: Text = "application/xml"


class InvoiceMail(_Message):
    """Mail issued invoice ``invoice_id`` to its client at ``recipient``
    with its PDF attached (GridFS id ``pdf_fid``, attached as ``filename``;
    for a Factur-X client the Factur-X PDF/A-3) and its ``attachments``,
    written in the language of ``locale`` (the client's; CLDR, default English).
    ``id`` is the command's id (the outbox row's, also the AMQP
    ``message_id``): the notification service mails each id once, however
    often it is delivered. ``seller`` (the seller's name), ``number``,
    ``amount_due`` (decimal string) in ``currency`` and ``due_date``
    (``YYYY-MM-DD`` or ``None``) go into the subject and body;
    ``reply_to`` is the seller's e-mail address, or ``None``."""

    ROUTING_KEY: ClassVar[str] = MAIL

    id: Text
    invoice_id: Text
    recipient: Text
    seller: Text
    number: Text
    currency: Text
    amount_due: Text
    due_date: Text | None = None
    pdf_fid: Text
    filename: Text
    reply_to: Text | None = None
    attachments: tuple[MailAttachment, ...] = ()
    locale: Text | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object (without ``version``): the field names as keys
        (``attachments`` only when there are some, so an older body is the same)."""
        extra: dict[str, Any] = (
            {"attachments": [item.model_dump() for item in self.attachments]} if self.attachments else {}
        )
        if self.locale:
            extra["locale"] = self.locale
        return {
            "id": self.id,
            "invoice_id": self.invoice_id,
            "recipient": self.recipient,
            "seller": self.seller,
            "number": self.number,
            "currency": self.currency,
            "amount_due": self.amount_due,
            "due_date": self.due_date,
            "pdf_fid": self.pdf_fid,
            "filename": self.filename,
            "reply_to": self.reply_to,
            **extra,
        }

    def to_bytes(self) -> bytes:
        """The JSON body: ``{"version", "id", "invoice_id", "recipient",
        "seller", "number", "currency", "amount_due", "due_date", "pdf_fid",
        "filename", "reply_to"}`` and ``"attachments"`` when there are some."""
        return _encode({"version": self.VERSION, **self.as_dict()})


class DomainEvent(_Message):
    """A change of the records (``invoice.issued``, ``payment.recorded``, …),
    published from the invoices service's outbox to the topic exchange
    ``<AMQP_PREFIX>.events`` with routing key ``type``. ``id`` is the event's
    id (also the AMQP ``message_id``): delivery is at least once, so a
    consumer drops an id it has seen. ``occurred_at`` is ISO 8601 with its
    UTC offset; ``actor`` ``{"id", "email"}`` of who made the change (id
    ``None`` for the system); ``data`` the event's facts."""

    id: Text
    type: Text
    occurred_at: Text
    organisation_id: Text
    actor: dict[str, Any]
    data: dict[str, Any]

    @property
    def routing_key(self) -> str:
        return self.type

    def to_bytes(self) -> bytes:
        """The JSON body: ``{"version", "id", "type", "occurred_at",
        "organisation_id", "actor", "data"}``."""
        return _encode(
            {
                "version": self.VERSION,
                "id": self.id,
                "type": self.type,
                "occurred_at": self.occurred_at,
                "organisation_id": self.organisation_id,
                "actor": self.actor,
                "data": self.data,
            }
        )


class ExpenseRead(_Message):
    """Read the document of expense ``expense_id`` (of ``organisation_id``): the intake
    worker's command, sent through the expenses service's outbox when the document is
    stored. The expense row holds the rest (the document's GridFS id and name)."""

    ROUTING_KEY: ClassVar[str] = INTAKE

    expense_id: Text
    organisation_id: Text

    def to_bytes(self) -> bytes:
        """The JSON body: ``{"version", "expense_id", "organisation_id"}``."""
        return _encode(
            {"version": self.VERSION, "expense_id": self.expense_id, "organisation_id": self.organisation_id}
        )


class AccountMail(_Message):
    """Mail ``recipient`` a link of their account: ``kind`` is
    ``verify_email`` (confirm the address), ``password_reset`` (choose a new
    password) or ``invitation`` (join ``organisation`` as ``role``, invited
    by ``inviter``). ``link`` is absolute, built from ``PUBLIC_URL`` by the
    sender, and carries a single-use token; ``expires_at`` (ISO 8601 with
    offset) says until when it works. ``id`` is the command's id: the
    notification service mails each id once."""

    ROUTING_KEY: ClassVar[str] = ACCOUNT_MAIL

    id: Text
    kind: Annotated[StrictStr, StringConstraints(pattern="^(verify_email|password_reset|invitation)$")]
    recipient: Text
    link: Text
    expires_at: Text
    organisation: StrictStr | None = None
    role: StrictStr | None = None
    inviter: StrictStr | None = None

    def to_bytes(self) -> bytes:
        """The JSON body: ``{"version", "id", "kind", "recipient", "link",
        "expires_at", "organisation", "role", "inviter"}``."""
        return _encode({"version": self.VERSION, **self.model_dump()})


#: The message class of each work queue's routing key (the relay re-encodes
#: an outbox command with it; a test checks every registered queue has one).
BY_ROUTING_KEY: dict[
    str, type[RenderRequest] | type[InvoiceReady] | type[InvoiceMail] | type[ExpenseRead] | type[AccountMail]
] = {
    RenderRequest.ROUTING_KEY: RenderRequest,
    InvoiceReady.ROUTING_KEY: InvoiceReady,
    InvoiceMail.ROUTING_KEY: InvoiceMail,
    ExpenseRead.ROUTING_KEY: ExpenseRead,
    AccountMail.ROUTING_KEY: AccountMail,
}
