"""The messages the services send each other, one definition each, imported
by the producer and the consumer alike.

* :class:`RenderRequest` (routing key ``invoice.render``): the gateway asks
  the worker to render a job.
* :class:`InvoiceReady` (routing key ``invoice.ready``): the worker tells the
  notification service that a job is done.
* :class:`InvoiceMail` (routing key ``invoice.mail``): the invoices service
  asks the notification service to mail an issued invoice to its client.

On the wire each is a JSON object with ``"version": 1`` and the fields
below (the keys are the field names). :meth:`from_bytes` refuses anything
else with :class:`MalformedMessage`, a :class:`~invoicer.common.amqp.Permanent`
error, so the consumer dead-letters such a message at once instead of
retrying it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from .amqp import MAIL, READY, RENDER, Permanent

__all__ = [
    "BY_ROUTING_KEY",
    "DomainEvent",
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


def _field(
    data: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str = "", *, optional: bool = False
) -> Any:
    """``data[name]`` if it is a ``kind`` (or None when ``optional``); raises
    :class:`MalformedMessage` naming the field otherwise."""
    value = data.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (isinstance(value, str) and not value):
        state = "missing" if name not in data else "ill-typed"
        raise MalformedMessage("malformed_message", f"message field {where}{name} is {state}")
    return value


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


@dataclass(frozen=True)
class RenderRequest:
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
    upload format; these say how to title it."""

    VERSION: ClassVar[int] = 1
    ROUTING_KEY: ClassVar[str] = RENDER

    job_id: str
    owner_id: str
    input_fid: str
    formats: tuple[str, ...]
    notify: bool = True
    document_type: str = "invoice"
    preceding_invoice: str | None = None
    preceding_invoice_date: str | None = None

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
        for key in ("preceding_invoice", "preceding_invoice_date"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return _encode(body)

    @classmethod
    def from_bytes(cls, body: bytes) -> RenderRequest:
        """Decode a body; raises :class:`MalformedMessage`."""
        data = _versioned(body, cls.VERSION)
        formats = _field(data, "formats", list)
        if not all(isinstance(fmt, str) and fmt for fmt in formats):
            raise MalformedMessage("malformed_message", "message field formats must list format names")
        notify = _field(data, "notify", bool, optional=True)
        return cls(
            job_id=_field(data, "job_id", str),
            owner_id=_field(data, "owner_id", str),
            input_fid=_field(data, "input_fid", str),
            formats=tuple(formats),
            notify=True if notify is None else notify,
            document_type=_field(data, "document_type", str, optional=True) or "invoice",
            preceding_invoice=_field(data, "preceding_invoice", str, optional=True),
            preceding_invoice_date=_field(data, "preceding_invoice_date", str, optional=True),
        )


@dataclass(frozen=True)
class ReadyFile:
    """One rendered file of an :class:`InvoiceReady` event."""

    format: str
    fid: str
    download_url: str


@dataclass(frozen=True)
class InvoiceReady:
    """Job ``job_id`` is done: mail ``recipient`` the links. ``totals`` is
    ``{"currency", "net", "tax", "gross"}`` as decimal strings (or ``None``);
    ``status_url`` and each file's ``download_url`` are absolute URLs of the
    gateway."""

    VERSION: ClassVar[int] = 1
    ROUTING_KEY: ClassVar[str] = READY

    job_id: str
    recipient: str
    invoice_number: str | None
    totals: dict[str, str] | None
    status_url: str
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

    @classmethod
    def from_bytes(cls, body: bytes) -> InvoiceReady:
        """Decode a body; raises :class:`MalformedMessage` (also when a file
        entry lacks ``format``, ``fid`` or ``download_url``)."""
        data = _versioned(body, cls.VERSION)
        files = []
        for index, item in enumerate(_field(data, "files", list)):
            if not isinstance(item, dict):
                raise MalformedMessage("malformed_message", f"message field files/{index} is not an object")
            where = f"files/{index}/"
            files.append(
                ReadyFile(
                    format=_field(item, "format", str, where),
                    fid=_field(item, "fid", str, where),
                    download_url=_field(item, "download_url", str, where),
                )
            )
        totals = _field(data, "totals", dict, optional=True)
        return cls(
            job_id=_field(data, "job_id", str),
            recipient=_field(data, "recipient", str),
            invoice_number=_field(data, "invoice_number", str, optional=True),
            totals=totals,
            status_url=_field(data, "status_url", str),
            files=tuple(files),
        )


@dataclass(frozen=True)
class InvoiceMail:
    """Mail issued invoice ``invoice_id`` to its client at ``recipient``
    with its PDF attached (GridFS id ``pdf_fid``, attached as ``filename``).
    ``id`` is the command's id (the outbox row's, also the AMQP
    ``message_id``): the notification service mails each id once, however
    often it is delivered. ``seller`` (the seller's name), ``number``,
    ``amount_due`` (decimal string) in ``currency`` and ``due_date``
    (``YYYY-MM-DD`` or ``None``) go into the subject and body;
    ``reply_to`` is the seller's e-mail address, or ``None``."""

    VERSION: ClassVar[int] = 1
    ROUTING_KEY: ClassVar[str] = MAIL

    id: str
    invoice_id: str
    recipient: str
    seller: str
    number: str
    currency: str
    amount_due: str
    due_date: str | None
    pdf_fid: str
    filename: str
    reply_to: str | None = None

    _REQUIRED: ClassVar[tuple[str, ...]] = (
        "id",
        "invoice_id",
        "recipient",
        "seller",
        "number",
        "currency",
        "amount_due",
        "pdf_fid",
        "filename",
    )

    def as_dict(self) -> dict[str, Any]:
        """The JSON object (without ``version``): the field names as keys."""
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
        }

    def to_bytes(self) -> bytes:
        """The JSON body: ``{"version", "id", "invoice_id", "recipient",
        "seller", "number", "currency", "amount_due", "due_date", "pdf_fid",
        "filename", "reply_to"}``."""
        return _encode({"version": self.VERSION, **self.as_dict()})

    @classmethod
    def from_bytes(cls, body: bytes) -> InvoiceMail:
        """Decode a body; raises :class:`MalformedMessage`."""
        data = _versioned(body, cls.VERSION)
        values = {name: _field(data, name, str) for name in cls._REQUIRED}
        return cls(
            **values,
            due_date=_field(data, "due_date", str, optional=True),
            reply_to=_field(data, "reply_to", str, optional=True),
        )


@dataclass(frozen=True)
class DomainEvent:
    """A change of the records (``invoice.issued``, ``payment.recorded``, …),
    published from the invoices service's outbox to the topic exchange
    ``<AMQP_PREFIX>.events`` with routing key ``type``. ``id`` is the event's
    id (also the AMQP ``message_id``): delivery is at least once, so a
    consumer drops an id it has seen. ``occurred_at`` is ISO 8601 with its
    UTC offset; ``actor`` ``{"id", "email"}`` of who made the change (id
    ``None`` for the system); ``data`` the event's facts."""

    VERSION: ClassVar[int] = 1

    id: str
    type: str
    occurred_at: str
    organisation_id: str
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

    @classmethod
    def from_bytes(cls, body: bytes) -> DomainEvent:
        """Decode a body; raises :class:`MalformedMessage`."""
        data = _versioned(body, cls.VERSION)
        return cls(
            id=_field(data, "id", str),
            type=_field(data, "type", str),
            occurred_at=_field(data, "occurred_at", str),
            organisation_id=_field(data, "organisation_id", str),
            actor=_field(data, "actor", dict),
            data=_field(data, "data", dict),
        )


#: The message class of each work queue's routing key (the relay re-encodes
#: an outbox command with it; a test checks every registered queue has one).
BY_ROUTING_KEY: dict[str, type[RenderRequest] | type[InvoiceReady] | type[InvoiceMail]] = {
    RenderRequest.ROUTING_KEY: RenderRequest,
    InvoiceReady.ROUTING_KEY: InvoiceReady,
    InvoiceMail.ROUTING_KEY: InvoiceMail,
}
