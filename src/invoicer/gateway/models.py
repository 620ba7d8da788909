"""The gateway's own contract (issue 17): pydantic v2 models of what its
routes answer (upload, jobs, login, register), whose JSON Schemas are the
OpenAPI component schemas of the same names (:func:`component_schemas`,
merged into ``/openapi.json`` by :mod:`invoicer.gateway.openapi`).

Moments are ISO 8601 UTC with milliseconds and ``Z``; ids strings. Models
of what the worker and the notification service store (a job's totals,
error and notification) pass on any field they do not name, so an answer
holds what was stored.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from pydantic_core import core_schema

from ..common.jobs import KINDS, STATUSES

__all__ = [
    "Accepted",
    "Account",
    "JobFile",
    "JobPage",
    "JobRead",
    "JobTotals",
    "LinkToken",
    "Me",
    "Registration",
    "ResetConfirmation",
    "ResetRequest",
    "Status",
    "Token",
    "Verified",
    "component_schemas",
]


def _moment(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: A moment, answered ISO 8601 in UTC with milliseconds.
Moment = Annotated[
    datetime,
    PlainSerializer(_moment, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
#: A JSON Schema fragment. pydantic has a ``JsonDict`` but does not export it (mypy's strict
#: mode rejects the implicit re-export from ``pydantic.json_schema``), so it is spelt out here.
JsonDict: TypeAlias = dict[str, Any]
_URI: JsonDict = {"format": "uri"}


class Token(BaseModel):
    """``POST /login``'s answer: a Bearer JWT (RFC 6750) valid ``expires_in`` seconds."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="seconds")


class Registration(BaseModel):
    """``POST /register``'s body; the password's least length is the server's ``PASSWORD_MIN_LENGTH``."""

    email: str = Field(json_schema_extra={"format": "email"})
    password: str = Field(max_length=1024)


class Account(BaseModel):
    """``POST /register``'s answer."""

    id: str
    email: str
    roles: list[str]


class Me(BaseModel):
    """``GET /me``'s answer: the signed-in account, and whether its address is verified."""

    id: str
    email: str
    roles: list[str]
    email_verified: bool = Field(description="Confirmed by the mailed link; answering invitations needs it.")


class LinkToken(BaseModel):
    """The token of a mailed link (``POST /verify-email``)."""

    token: str = Field(max_length=200)


class Verified(BaseModel):
    """``POST /verify-email``'s answer."""

    email: str
    email_verified: Literal[True]


class ResetRequest(BaseModel):
    """``POST /password-reset``'s body."""

    email: str = Field(json_schema_extra={"format": "email"})


class ResetConfirmation(BaseModel):
    """``POST /password-reset/confirm``'s body: the link's token and the new password."""

    token: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class Status(BaseModel):
    """A request taken: ``status`` (``accepted``, ``sent``) and, for people, a ``message``."""

    status: str
    message: str | None = None


class Accepted(BaseModel):
    """``POST /upload``'s answer: the queued job and where to follow it."""

    job_id: str = Field(json_schema_extra={"format": "uuid"})
    status: Literal["queued"]
    status_url: str = Field(json_schema_extra=_URI)


class JobTotals(BaseModel):
    """Decimal strings in the invoice currency (EN 16931 BT-106, BT-110, BT-112)."""

    model_config = ConfigDict(extra="allow", title="Totals")

    currency: str
    net: str
    tax: str
    gross: str


class JobFile(BaseModel):
    """A rendered file of a job."""

    model_config = ConfigDict(title="File")

    format: str = Field(description="An output format (the Format schema)")
    fid: str
    size: int = Field(description="bytes")
    download_url: str = Field(json_schema_extra=_URI)


class JobError(BaseModel):
    """Why a job failed."""

    model_config = ConfigDict(extra="allow")

    code: str | None = Field(default=None, exclude_if=lambda value: value is None)
    message: str | None = Field(default=None, exclude_if=lambda value: value is None)


class NotificationError(BaseModel):
    """Why the mail failed."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str


class Notification(BaseModel):
    """The job's "invoice ready" mail: failed once the event was dead-lettered, with the reason."""

    model_config = ConfigDict(extra="allow")

    status: Literal["sent", "failed"]
    error: NotificationError | None = Field(default=None, exclude_if=lambda value: value is None)


class JobWarning(BaseModel):
    """What a check of the uploaded document found that does not stop it
    rendering: a code or identifier an EN 16931 e-invoice would refuse (a VAT
    ID failing its check digits, an unknown unit code), or a business term
    the requested e-invoice's profile needs and the document lacks
    (``missing_term``; the message names the term and the rule)."""

    pointer: str = Field(description="RFC 6901 JSON pointer into the uploaded document")
    code: str = Field(description="e.g. invalid_vat_id, unknown_unit_code, invalid_iban, missing_term")
    message: str


class JobRead(BaseModel):
    """A rendering job (``GET /jobs/<id>``)."""

    model_config = ConfigDict(title="Job")

    job_id: str = Field(json_schema_extra={"format": "uuid"})
    status: Literal[STATUSES]  # type: ignore[valid-type]
    kind: Literal[KINDS] = Field(  # type: ignore[valid-type]
        description="upload: a document you sent to POST /upload; record: the kept documents of an invoice "
        "or credit note you issued (rendered by the invoices service)"
    )
    invoice_number: str | None
    formats: list[str]
    created_at: Moment
    updated_at: Moment
    totals: JobTotals | None
    files: list[JobFile]
    error: JobError | None
    notification: Notification | None = Field(
        description='The job\'s "invoice ready" mail: null while pending; failed once the event was '
        "dead-lettered, with the reason"
    )
    warnings: list[JobWarning] = Field(
        description="What the checks of the uploaded document found that did not stop it rendering; empty when none"
    )
    status_url: str = Field(json_schema_extra=_URI)


class JobPage(BaseModel):
    """A page of your jobs, newest first: ``next`` and ``prev`` are cursors to
    pass back as ``?cursor=`` (null at either end); ``total`` is exact up to
    10 000, beyond which it is 10 000 and ``total_exact`` is false."""

    items: list[JobRead]
    page: int | None
    per_page: int
    total: int
    total_exact: bool
    next: str | None
    prev: str | None


class _Generator(GenerateJsonSchema):
    """JSON Schema 2020-12 without pydantic's invented field titles."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> Any:
        if schema.get("default") is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


#: Component name -> model (request bodies validated, answers serialised).
_COMPONENTS: dict[str, tuple[type[BaseModel], Literal["validation", "serialization"]]] = {
    "Token": (Token, "serialization"),
    "Registration": (Registration, "validation"),
    "Account": (Account, "serialization"),
    "Me": (Me, "serialization"),
    "LinkToken": (LinkToken, "validation"),
    "Verified": (Verified, "serialization"),
    "ResetRequest": (ResetRequest, "validation"),
    "ResetConfirmation": (ResetConfirmation, "validation"),
    "Status": (Status, "serialization"),
    "Accepted": (Accepted, "serialization"),
    "Job": (JobRead, "serialization"),
    "JobPage": (JobPage, "serialization"),
}


@lru_cache(maxsize=1)
def _generated() -> str:
    """The models' schemas, as JSON text (generated once)."""
    refs, definitions = models_json_schema(
        list(_COMPONENTS.values()), ref_template="#/components/schemas/{model}", schema_generator=_Generator
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    names = {refs[pair]["$ref"].rsplit("/", 1)[-1]: name for name, pair in _COMPONENTS.items()}
    names.update({"JobTotals": "Totals", "JobFile": "File"})
    renamed = {names.get(name, name): schema for name, schema in schemas.items()}
    text = json.dumps(renamed)
    for old, new in names.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    return text


def component_schemas(password_min_length: int) -> dict[str, Any]:
    """The gateway's component schemas, by name (``Job``, ``JobPage``,
    ``Totals``, ``File`` ...), with ``#/components/schemas/`` references;
    ``Registration.password`` has ``minLength`` ``password_min_length``."""
    result: dict[str, Any] = json.loads(_generated())
    result["Registration"]["properties"]["password"]["minLength"] = password_min_length
    # Output format names come from the registry (invoicer.invoice.formats): the Format schema.
    result["File"]["properties"]["format"] = {"$ref": "#/components/schemas/Format"}
    result["Job"]["properties"]["formats"]["items"] = {"$ref": "#/components/schemas/Format"}
    return result
