"""The messages the services send each other, one definition each, imported
by the producer and the consumer alike.

* :class:`RenderRequest` (routing key ``invoice.render``): the gateway asks
  the worker to render a job.
* :class:`InvoiceReady` (routing key ``invoice.ready``): the worker tells the
  notification service that a job is done.

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

from .amqp import READY, RENDER, Permanent

__all__ = ["DomainEvent", "InvoiceReady", "MalformedMessage", "ReadyFile", "RenderRequest", "job_id_of"]


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


def job_id_of(body: bytes) -> str | None:
    """The ``job_id`` of a message body if it has a non-empty string one,
    however malformed the rest is; else ``None``. Lets a consumer record the
    failure of a message it refused on the job the message was about."""
    try:
        data = _object(body)
    except MalformedMessage:
        return None
    job_id = data.get("job_id")
    return job_id if isinstance(job_id, str) and job_id else None


@dataclass(frozen=True)
class RenderRequest:
    """Render job ``job_id`` of ``owner_id`` from the uploaded JSON at GridFS
    id ``input_fid`` into ``formats`` (e.g. ``("pdf", "xlsx")``). The job row
    holds the same facts; the worker reads them from there."""

    VERSION: ClassVar[int] = 1
    ROUTING_KEY: ClassVar[str] = RENDER

    job_id: str
    owner_id: str
    input_fid: str
    formats: tuple[str, ...]

    def to_bytes(self) -> bytes:
        """The JSON body: ``{"version", "job_id", "owner_id", "input_fid", "formats": [...]}``."""
        return _encode(
            {
                "version": self.VERSION,
                "job_id": self.job_id,
                "owner_id": self.owner_id,
                "input_fid": self.input_fid,
                "formats": list(self.formats),
            }
        )

    @classmethod
    def from_bytes(cls, body: bytes) -> RenderRequest:
        """Decode a body; raises :class:`MalformedMessage`."""
        data = _versioned(body, cls.VERSION)
        formats = _field(data, "formats", list)
        if not all(isinstance(fmt, str) and fmt for fmt in formats):
            raise MalformedMessage("malformed_message", "message field formats must list format names")
        return cls(
            job_id=_field(data, "job_id", str),
            owner_id=_field(data, "owner_id", str),
            input_fid=_field(data, "input_fid", str),
            formats=tuple(formats),
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
