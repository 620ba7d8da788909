"""The invoices service's contract: one pydantic v2 model per shape (issue 17,
after Netflix Dispatch's ``models.py``): ``…Create``/``…Update`` for what a
request body may hold, ``…Read`` for what an answer holds.

Input models refuse unknown fields (``extra="forbid"``) and reuse the field
types and models of the canonical invoice (:mod:`invoicer.invoice.schema`:
``Text``, ``Amount``, ``CurrencyCode``, ``IsoDate``, :class:`PartyDocument`,
:class:`LineDocument`), so a rule has one definition. Party fields are
derived from :class:`PartyDocument` itself (:func:`party_fields`), never
copied, so a change there (e.g. a structured ``address``) reaches every
model here. The domain modules keep their own checks (totals, states,
references); these models state the shapes and the field rules.

Read models take the domain's dicts (``model_validate``) and give the JSON
answers (``model_dump(mode="json")``): money as decimal strings rounded to
the currency's minor unit, dates ``YYYY-MM-DD``, moments ISO 8601 UTC with
milliseconds and ``Z``, ids strings. Party and line objects leave out fields
that are not set, as they are stored.

Nothing here imports Flask or a database: :mod:`invoicer.invoices.contract`
builds the OpenAPI fragment from these models without either.
"""

from __future__ import annotations

import re
import typing
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    WithJsonSchema,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError, core_schema

from invoicer.common.webhooks import EVENT_TYPES
from invoicer.invoice.errors import describe
from invoicer.invoice.schema import (
    AllowanceChargeDocument,
    CurrencyCode,
    IsoDate,
    LineDocument,
    NotNull,
    PartyDocument,
    PeriodDocument,
    Text,
)

__all__ = [
    "ROLES",
    "STATUSES",
    "ClientCreate",
    "ClientRead",
    "ClientUpdate",
    "CreditLineIn",
    "CreditNoteCreate",
    "CreditNoteIssued",
    "CreditNoteRef",
    "DashboardRead",
    "EventRead",
    "FileRead",
    "InputModel",
    "InvitationAnswer",
    "InvitationRead",
    "InvoiceCreate",
    "InvoiceRead",
    "InvoiceSummary",
    "InvoiceUpdate",
    "IssueRequest",
    "LineRead",
    "MemberCreate",
    "MemberRead",
    "MemberUpdate",
    "NumberingList",
    "NumberingRead",
    "NumberingUpdate",
    "OrderCreate",
    "OrderInvoiced",
    "OrderRead",
    "OrganisationMembership",
    "OrganisationRead",
    "OrganisationUpdate",
    "Page",
    "PartyRead",
    "PaymentCreate",
    "PaymentRead",
    "PaymentRecorded",
    "RefundCreate",
    "RefundRecorded",
    "SellerRead",
    "TotalsRead",
    "WebhookAttemptRead",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookDeliveryRead",
    "WebhookRead",
    "WebhookUpdate",
    "party_fields",
]

#: Membership roles (``owner`` manages members and the profile; ``viewer`` only reads).
ROLES = ("owner", "accountant", "viewer")
#: Invoice statuses, in lifecycle order.
STATUSES = ("draft", "issued", "sent", "partially_paid", "paid", "credited")


T = typing.TypeVar("T")

#: ``datetime.date`` under a name no field takes (``date`` is a field of payments).
Day = date

# --------------------------------------------------------------------------
# Field types of the answers


def _moment(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ``: UTC, milliseconds."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: A moment, answered ISO 8601 in UTC with milliseconds (``2026-11-02T09:30:00.000Z``).
Moment = Annotated[
    datetime,
    PlainSerializer(_moment, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
#: An amount, answered as a decimal string as kept (``"12.50"``).
Money = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "description": "Decimal string", "examples": ["12.50"]}),
]


class ReadModel(BaseModel):
    """Base of the answers: built from the domain's dicts (extra keys ignored)."""

    model_config = ConfigDict(extra="ignore")


def _is_none(value: Any) -> bool:
    return value is None


def _optional_answer(description: str | None = None) -> Any:
    """An optional field of an answer object that is left out while None, as stored (parties, lines)."""
    return Field(default=None, description=description, exclude_if=_is_none)


# --------------------------------------------------------------------------
# Field types of the requests: codes as the domain modules raise them


def _fail(code: str, text: str) -> PydanticCustomError:
    return PydanticCustomError(code, "{text}", {"text": text})


def _terms_days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
        raise _fail("invalid_terms", f"must be a whole number of days from 0 to 3650, not {describe(value)}")
    return value


@dataclass(frozen=True)
class TermsDays:
    """Payment terms in whole days, 0-3650 (``invalid_terms``; BT-20 states them as text)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(_terms_days)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        return {"type": "integer", "minimum": 0, "maximum": 3650}


_PAYMENT_AMOUNT = re.compile(r"\s*[0-9]{1,15}(\.[0-9]{1,10})?\s*")


def _positive_decimal(value: Any, code: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _fail(code, f'must be a decimal number written as a string, such as "12.50", not {describe(value)}')
    text = str(value)
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not _PAYMENT_AMOUNT.fullmatch(text) or not amount.is_finite() or amount <= 0:
        raise _fail(code, f'must be a decimal number more than 0 such as "12.50", not {describe(value)}')
    return text.strip()


@dataclass(frozen=True)
class PaymentAmount:
    """A positive decimal string (``"12.50"``; a JSON integer is taken too, a
    fraction as a JSON number is not: binary floats are not money); else
    ``code`` (``invalid_amount``; ``invalid_quantity`` for a credited
    quantity). The currency's minor unit and the balance due are the
    domain's checks (:func:`invoicer.invoices.payments.record_payment`)."""

    code: str = "invalid_amount"

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(partial(_positive_decimal, code=self.code))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        return {
            "type": "string",
            "pattern": r"^(?=.*[1-9])[0-9]{1,15}(\.[0-9]{1,10})?$",
            "description": "Decimal string in the invoice currency, more than 0",
            "examples": ["12.50"],
        }


def _role(value: Any) -> str:
    if value not in ROLES:
        raise _fail("invalid_role", f"role must be one of {', '.join(ROLES)}, not {describe(value)}")
    return typing.cast(str, value)


@dataclass(frozen=True)
class Role:
    """One of :data:`ROLES` (``invalid_role``)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(_role)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        return {"enum": list(ROLES)}


def _client_id(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail("type", f"must be a client id (a UUID string), not {describe(value)}")
    return value


@dataclass(frozen=True)
class RecordId:
    """The id of a record of the organisation (a UUID string). Any other
    string is left to the domain, which answers it like an unknown record."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(_client_id)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        return {"type": "string", "format": "uuid"}


# --------------------------------------------------------------------------
# Models derived from the canonical party


def _without_null(annotation: Any) -> Any:
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, __import__("types").UnionType) and len(args) == 1:
        return args[0]
    return annotation


def party_fields(*, rules: bool, required: tuple[str, ...] = (), omit_unset: bool = False) -> dict[str, Any]:
    """The fields of :class:`PartyDocument` for :func:`pydantic.create_model`,
    each ``X | None = None`` (an explicit null allowed: it clears a field)
    except those named in ``required``. With ``rules`` each keeps its
    validation (lengths, control characters, e-mail: EN 16931 BG-4/BG-7);
    without, only its type (answers hold what was stored); ``omit_unset``
    leaves a None field out of the answer."""
    fields: dict[str, Any] = {}
    for name, info in PartyDocument.model_fields.items():
        inner = _without_null(info.annotation)
        metadata = [item for item in info.metadata if not isinstance(item, NotNull)] if rules else []
        typed: Any = Annotated[(inner, *metadata)] if metadata else inner
        if name in required:
            fields[name] = (typed, FieldInfo(description=info.description))
        elif omit_unset:
            fields[name] = (typed | None, _optional_answer(info.description))
        else:
            fields[name] = (typed | None, FieldInfo(default=None, description=info.description))
    return fields


class InputModel(BaseModel):
    """Base of the request bodies: unknown fields refused (``unknown_field``).

    ``error_codes`` names the code of the whole error (``error.code``) when a
    field's problems come first, after what the domain raised before these
    models existed: e.g. every party field of a client is ``invalid_party``;
    a field not named there gives its own problem's code."""

    model_config = ConfigDict(extra="forbid")
    error_codes: ClassVar[dict[str, str]] = {}


_PARTY_NAMES = tuple(PartyDocument.model_fields)
_INVALID_PARTY = dict.fromkeys((*_PARTY_NAMES, "currency"), "invalid_party")
_INVALID_INVOICE = dict.fromkeys(("currency", "lines", "payment_terms", "notes", "ship_to"), "invalid_invoice")

_Currency = Annotated[str, CurrencyCode()]
#: What a client takes an e-invoice as (invoicer.invoices.clients.E_INVOICE_CHOICES).
EInvoiceChoice = Literal["auto", "factur-x", "xrechnung-cii", "xrechnung-ubl", "peppol-ubl", "none"]
_TermsDays = Annotated[int, TermsDays()]


# --------------------------------------------------------------------------
# Organisation and members


class _OrganisationExtra(InputModel):
    bank_details: Annotated[str, Text(2000, lines=True)] | None = Field(
        default=None, description="Bank details printed on invoices (IBAN, BIC: BT-84, BT-86)."
    )
    currency: Annotated[str | None, CurrencyCode()] = Field(
        default=None, description="Default currency of new invoices (BT-5), ISO 4217; never null."
    )
    locale: Annotated[str | None, Text(35)] = Field(
        default=None, description="Locale of documents (BCP 47, e.g. de-DE); never null."
    )
    payment_terms_days: Annotated[int | None, TermsDays()] = Field(
        default=None, description="Default payment terms in days, 0-3650; never null."
    )
    payment_reference: Literal["invoice_number", "rf"] | None = Field(
        default=None,
        description="What payers quote (BT-83): the invoice number, or an ISO 11649 RF creditor reference made "
        "from it, which banks check; never null.",
    )


OrganisationUpdate: type[InputModel] = create_model(
    "OrganisationUpdate",
    __base__=_OrganisationExtra,
    __doc__="Changes to the seller profile (EN 16931 BG-4), owner only: any subset; null clears a party field.",
    **party_fields(rules=True),
)
OrganisationUpdate.error_codes = _INVALID_PARTY


#: The party fields of an answer as stored: every one optional (an organisation's name is "" until set).
_PartyFieldsRead: type[ReadModel] = create_model("_PartyFieldsRead", __base__=ReadModel, **party_fields(rules=False))


class OrganisationRead(_PartyFieldsRead):  # type: ignore[valid-type,misc]
    """The organisation: the seller profile (EN 16931 BG-4) and the defaults of new invoices."""

    id: uuid.UUID
    bank_details: str | None = None
    currency: str
    locale: str | None = None
    payment_terms_days: int
    payment_reference: Literal["invoice_number", "rf"] = "invoice_number"
    has_logo: bool = Field(default=False, description="Whether GET /organisation/logo has a logo to answer.")
    version: int
    created_at: Moment | None = None
    updated_at: Moment | None = None


class MemberCreate(InputModel):
    """An invitation (owner only): mailed to the address, which joins with ``role`` only once its
    person, signed in with that address verified, accepts it."""

    email: Annotated[str, Text(254, required=True, email=True)] = Field(description="The invitee's e-mail address.")
    role: Annotated[str, Role()] = Field(description="owner, accountant or viewer.")


class MemberRead(ReadModel):
    """A membership or an open invitation (``user_id`` null, ``status`` invited, ``expires_at`` set)."""

    id: uuid.UUID
    email: str
    role: Literal["owner", "accountant", "viewer"]
    user_id: uuid.UUID | None = None
    status: Literal["invited", "active"]
    created_at: Moment | None = None
    joined_at: Moment | None = None
    expires_at: Moment | None = Field(default=None, description="When an open invitation's link stops working.")


class MemberUpdate(InputModel):
    """A member's new role (owner only; the last owner keeps theirs)."""

    role: Annotated[str, Role()] = Field(description="owner, accountant or viewer.")


class InvitationRead(ReadModel):
    """An invitation to the caller's address: which organisation, which role, its state."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_name: str = Field(description="The inviting organisation's name ('' until it is set).")
    email: str
    role: Literal["owner", "accountant", "viewer"]
    status: Literal["pending", "accepted", "declined", "revoked", "expired"]
    created_at: Moment | None = None
    expires_at: Moment | None = None


class InvitationAnswer(InputModel):
    """The token of an invitation's mailed link (the ``token`` of its query string)."""

    token: Annotated[str, Text(200, required=True)] = Field(description="The token from the invitation's link.")


class NumberingUpdate(InputModel):
    """A series' numbering (owner only; issue 22): its prefix, its format and,
    while the series has numbered nothing this year, the counter's next value."""

    error_codes: ClassVar[dict[str, str]] = {
        "prefix": "invalid_numbering",
        "format": "invalid_numbering",
        "next_number": "invalid_numbering",
    }

    prefix: Annotated[str, Text(20)] = Field(
        description="Up to 20 letters, digits, '.', '_', '/' or '-' (may be empty), put where the format says {prefix}."
    )
    format: Annotated[str, Text(60, required=True)] = Field(
        description="The number's shape: {prefix}, {year} and {seq} (the counter, optionally zero-padded as "
        "{seq:04d}) between letters, digits, '.', '_', '/' or '-'; {year} and {seq} are required. "
        "Default {prefix}-{year}-{seq:04d}."
    )
    next_number: int | None = Field(
        default=None,
        ge=1,
        le=999_999_999,
        description="The counter's next value this year; only while the series has numbered nothing this year "
        "(else 409 sequence_started unless it is the current value).",
    )


class NumberingRead(ReadModel):
    """A series' numbering and the number it gives next."""

    series: Literal["invoices", "credit_notes"]
    code: str = Field(description="The series' code on its documents (invoices.series): INV or CN.")
    prefix: str
    format: str
    next_number: int = Field(description="The counter's next value this year.")
    next: str = Field(description="The number the series issues next, e.g. INV-2026-0003 (unless imported first).")


class NumberingList(ReadModel):
    """Every series' numbering."""

    items: list[NumberingRead]


class OrganisationMembership(ReadModel):
    """One organisation the caller belongs to, and their role there (send its id as ``X-Organisation``)."""

    organisation_id: uuid.UUID
    name: str
    role: Literal["owner", "accountant", "viewer"]
    joined_at: Moment | None = None


# --------------------------------------------------------------------------
# Clients


class _ClientExtra(InputModel):
    currency: _Currency | None = Field(
        default=None, description="The client's invoice currency (BT-5), ISO 4217; null: the organisation's."
    )
    payment_terms_days: _TermsDays | None = Field(
        default=None, description="The client's payment terms in days, 0-3650; null: the organisation's."
    )
    buyer_reference: Annotated[str, Text(200)] | None = Field(
        default=None,
        description="Buyer reference (EN 16931 BT-10) copied onto its invoices; for German public buyers the "
        "Leitweg-ID, which XRechnung requires (BR-DE-15).",
    )
    locale: Annotated[str, Text(35)] | None = Field(
        default=None, description="Language of its documents and mails (CLDR, e.g. de_DE); null: the organisation's."
    )
    e_invoice: EInvoiceChoice | None = Field(
        default=None,
        description="The e-invoice it takes: auto (default: Factur-X when the records hold what EN 16931 needs, "
        "else the PDF with the missing terms as warnings), factur-x, xrechnung-cii, xrechnung-ubl, peppol-ubl, none.",
    )


ClientCreate: type[InputModel] = create_model(
    "ClientCreate",
    __base__=_ClientExtra,
    __doc__="A new client: the canonical buyer fields (EN 16931 BG-7; name required) plus currency and terms.",
    **party_fields(rules=True, required=("name",)),
)
ClientCreate.error_codes = _INVALID_PARTY

ClientUpdate: type[InputModel] = create_model(
    "ClientUpdate",
    __base__=_ClientExtra,
    __doc__="Changes to a client: any subset of its fields; null clears an optional one.",
    **party_fields(rules=True),
)
ClientUpdate.error_codes = _INVALID_PARTY


class ClientRead(_PartyFieldsRead):  # type: ignore[valid-type,misc]
    """A client: the buyer fields, its currency and terms, and whether it is archived."""

    id: uuid.UUID
    currency: str | None = None
    payment_terms_days: int | None = None
    buyer_reference: str | None = None
    locale: str | None = None
    e_invoice: EInvoiceChoice = "auto"
    archived: bool
    archived_at: Moment | None = None
    version: int
    created_at: Moment
    updated_at: Moment


# --------------------------------------------------------------------------
# Invoices


_PartyFieldsStored: type[ReadModel] = create_model(
    "_PartyFieldsStored", __base__=ReadModel, **party_fields(rules=False, omit_unset=True)
)


class PartyRead(_PartyFieldsStored):  # type: ignore[valid-type,misc]
    """A party as stored on a record (buyer BG-7, deliver-to BG-13): its set fields only."""


class SellerRead(PartyRead):
    """The seller (BG-4) as stored on a record, with its bank details (BT-84)."""

    bank_details: str | None = _optional_answer()


class LineRead(ReadModel):
    """An invoice line exactly as in the canonical upload (EN 16931 BG-25), amounts as decimal strings."""

    description: str = Field(description=LineDocument.model_fields["description"].description)
    quantity: Money = Field(description=LineDocument.model_fields["quantity"].description)
    unit: str | None = _optional_answer(LineDocument.model_fields["unit"].description)
    unit_price: Money = Field(description=LineDocument.model_fields["unit_price"].description)
    tax_rate: Money = Field(description=LineDocument.model_fields["tax_rate"].description)
    unit_code: str | None = _optional_answer(LineDocument.model_fields["unit_code"].description)
    tax_category: str | None = _optional_answer(LineDocument.model_fields["tax_category"].description)
    exemption_reason: str | None = _optional_answer(LineDocument.model_fields["exemption_reason"].description)
    exemption_code: str | None = _optional_answer(LineDocument.model_fields["exemption_code"].description)


class PeriodRead(ReadModel):
    """An invoicing period (EN 16931 BG-14)."""

    start: date
    end: date


class AllowanceChargeRead(ReadModel):
    """A document-level allowance (BG-20) or charge (BG-21), net of VAT."""

    amount: Money
    reason: str
    tax_rate: Money
    tax_category: str | None = None


class MissingTermRead(ReadModel):
    """A business term an e-invoice profile needs and the records lack (EN 16931 BT id, the rule asking)."""

    term: str = Field(examples=["BT-10"])
    rule: str = Field(examples=["BR-DE-15"])
    message: str
    pointer: str = Field(description="RFC 6901 pointer into the record, e.g. /buyer/address/country_code")


class EInvoiceRead(ReadModel):
    """The e-invoice of an issued record: its ``profile`` (factur-x, xrechnung-cii, xrechnung-ubl,
    peppol-ubl; null when it has none) and, for a client that takes one when it can (auto), the
    business terms that kept it from having one (``warnings``)."""

    profile: str | None = None
    warnings: list[MissingTermRead] = []


class TotalsRead(ReadModel):
    """EN 16931 BT-109 (net), BT-110 (tax), BT-112 (gross); paid, credited and
    balance_due = gross - paid - credited (BT-115). A credit note has nothing to pay."""

    currency: str
    net: Money
    tax: Money
    gross: Money
    paid: Money
    credited: Money
    balance_due: Money = Field(description="What the client still owes; never below 0")
    refunded: Money = Field(default=Decimal(0), description="Paid back to the client (refunds)")
    refund_due: Money = Field(
        default=Decimal(0), description="Owed back to the client: paid + credited - gross - refunded, never below 0"
    )


class PaymentRead(ReadModel):
    """A payment received against an invoice."""

    id: uuid.UUID
    amount: Money
    date: Day | None
    method: str | None = None
    reference: str | None = None
    created_at: Moment | None = None


class CreditLineRead(ReadModel):
    """What a credit note credits of one invoice line: ``quantity`` of line ``position`` (1-based)."""

    position: int
    quantity: Money


class CreditNoteRef(ReadModel):
    """A credit note correcting an invoice (EN 16931 BT-25 names the invoice on the credit note)."""

    id: uuid.UUID
    number: str
    issue_date: date | None = None
    gross: Money
    reason: str | None = None
    lines: list[CreditLineRead]
    issued_at: Moment | None = None


class FileRead(ReadModel):
    """A kept document of an issued record."""

    format: str = Field(description="A kept format of the registry (invoicer.invoice.formats.kept_names), e.g. pdf")
    media_type: str
    status: Literal["rendering", "ready", "failed"]
    url: str = Field(json_schema_extra={"format": "uri"})


class _RecordFields(ReadModel):
    id: uuid.UUID
    kind: Literal["invoice", "credit_note"]
    status: Literal["draft", "issued", "sent", "partially_paid", "paid", "credited"]
    overdue: bool = Field(description="Open, balance due and due date before today (derived)")
    number: str | None
    series: str | None
    client_id: uuid.UUID | None
    currency: str
    issue_date: date | None
    due_date: date | None
    totals: TotalsRead
    created_at: Moment | None
    issued_at: Moment | None


class InvoiceSummary(_RecordFields):
    """An invoice or credit note in a list."""

    client_name: str | None = None


class InvoiceRead(_RecordFields):
    """An invoice or credit note: the canonical upload's fields plus its record fields."""

    seller: SellerRead | None = None
    buyer: PartyRead | None = None
    ship_to: PartyRead | None = None
    lines: list[LineRead]
    payment_terms: str | None = None
    notes: str | None = None
    buyer_reference: str | None = Field(default=None, description="BT-10; copied from the client at issue if unset")
    payment_reference: str | None = Field(
        default=None, description="BT-83, what the payer quotes: the number, or its RF creditor reference"
    )
    order_reference: str | None = Field(default=None, description="BT-13, the buyer's purchase order")
    delivery_date: date | None = Field(default=None, description="BT-72, YYYY-MM-DD")
    invoicing_period: PeriodRead | None = Field(default=None, description="BG-14")
    allowances: list[AllowanceChargeRead] = Field(default=[], description="BG-20, in the totals")
    charges: list[AllowanceChargeRead] = Field(default=[], description="BG-21, in the totals")
    e_invoice: EInvoiceRead | None = Field(default=None, description="Set at issue (null for a draft)")
    payments: list[PaymentRead]
    refunds: list[PaymentRead] = Field(default=[], description="Money paid back to the client, oldest first")
    credit_notes: list[CreditNoteRef]
    files: list[FileRead] = Field(description="The kept documents of an issued record (none for a draft)")
    corrects_invoice_id: uuid.UUID | None = None
    reason: str | None = None
    version: int
    updated_at: Moment | None = None
    sent_at: Moment | None = None
    actions: list[Literal["edit", "delete", "issue", "send", "record_payment", "credit", "refund"]] = Field(
        default=[],
        description="What the caller's role may do with this invoice now (invoicer.invoices.actions): "
        "the pages offer exactly these",
    )


class InvoiceCreate(InputModel):
    """A new draft: ``client_id`` required; lines may be empty until it is issued."""

    error_codes: ClassVar[dict[str, str]] = _INVALID_INVOICE

    client_id: Annotated[str, RecordId()] = Field(description="An active client of the organisation.")
    currency: _Currency | None = Field(default=None, description="BT-5; default the client's, else the organisation's.")
    issue_date: Annotated[date, IsoDate()] | None = Field(default=None, description="BT-2, YYYY-MM-DD.")
    due_date: Annotated[date, IsoDate()] | None = Field(
        default=None, description="BT-9, YYYY-MM-DD, not before issue_date."
    )
    payment_terms: Annotated[str, Text(4000, lines=True)] | None = Field(default=None, description="BT-20.")
    notes: Annotated[str, Text(4000, lines=True)] | None = Field(default=None, description="BT-22.")
    lines: list[LineDocument] | None = Field(default=None, description="Invoice lines (BG-25), in order.")
    ship_to: PartyDocument | None = Field(default=None, description="Deliver-to party (BG-13).")
    buyer_reference: Annotated[str, Text(200)] | None = Field(
        default=None, description="BT-10; default the client's at issue (the Leitweg-ID of a German public buyer)."
    )
    order_reference: Annotated[str, Text(200)] | None = Field(default=None, description="BT-13, purchase order.")
    delivery_date: Annotated[date, IsoDate()] | None = Field(default=None, description="BT-72, YYYY-MM-DD.")
    invoicing_period: PeriodDocument | None = Field(default=None, description="BG-14: start and end, both included.")
    allowances: list[AllowanceChargeDocument] | None = Field(
        default=None, max_length=100, description="Document-level allowances (BG-20), net, in the totals."
    )
    charges: list[AllowanceChargeDocument] | None = Field(
        default=None, max_length=100, description="Document-level charges (BG-21), net, in the totals."
    )


class InvoiceUpdate(InvoiceCreate):
    """Changes to a draft: any subset of :class:`InvoiceCreate`'s fields (null clears an optional one)."""

    client_id: Annotated[str, RecordId()] | None = Field(default=None, description="An active client.")  # type: ignore[assignment]


class IssueRequest(InputModel):
    """Issue options: the issue date (BT-2; default the draft's, else today)."""

    issue_date: Annotated[date, IsoDate()] | None = Field(default=None, description="YYYY-MM-DD.")


class PaymentCreate(InputModel):
    """A payment received: ``amount`` in the invoice currency, not above the balance due."""

    amount: Annotated[str, PaymentAmount()]
    date: Annotated[Day, IsoDate()] | None = Field(default=None, description="YYYY-MM-DD; default today.")
    method: Annotated[str, Text(200)] | None = Field(default=None, description="e.g. bank transfer.")
    reference: Annotated[str, Text(200)] | None = Field(default=None, description="e.g. the transfer's reference.")


class RefundCreate(PaymentCreate):
    """A refund: ``amount`` in the invoice currency, not above the refund due,
    paid back to the client, or with ``applied_to`` kept as a payment of
    another open invoice of the same client and currency."""

    applied_to: Annotated[str, RecordId()] | None = Field(
        default=None, description="An open invoice of the same client and currency the credit pays instead."
    )


class RefundRecorded(ReadModel):
    """The refund and the invoice after it."""

    refund: PaymentRead
    invoice: InvoiceRead


class PaymentRecorded(ReadModel):
    """The payment and the invoice after it."""

    payment: PaymentRead
    invoice: InvoiceRead


class CreditLineIn(InputModel):
    """Credit ``quantity`` (default: all that is left) of line ``position`` (1-based)."""

    position: Annotated[int, Field(ge=1, strict=True)]
    quantity: Annotated[str, PaymentAmount("invalid_quantity")] | None = Field(
        default=None, description="Decimal string, more than 0."
    )


class CreditNoteCreate(InputModel):
    """A credit note (EN 16931 type 381) for some lines of an issued invoice; no lines: all that is left."""

    lines: list[CreditLineIn] | None = None
    reason: Annotated[str, Text(4000, lines=True)] | None = None
    issue_date: Annotated[date, IsoDate()] | None = Field(default=None, description="YYYY-MM-DD; default today.")


class CreditNoteIssued(ReadModel):
    """The credit note and the invoice it corrects, after it."""

    credit_note: InvoiceRead
    invoice: InvoiceRead


class EventRead(ReadModel):
    """One entry of a record's activity log."""

    class Actor(ReadModel):
        id: uuid.UUID | None = None
        email: str | None = None

    id: uuid.UUID
    type: str = Field(examples=["invoice.issued"])
    actor: Actor
    occurred_at: Moment
    data: dict[str, Any]


# --------------------------------------------------------------------------
# Orders and the dashboard


class OrderCreate(InputModel):
    """A new open order of an active client."""

    error_codes: ClassVar[dict[str, str]] = {
        "currency": "invalid_invoice",
        "lines": "invalid_invoice",
        "notes": "invalid_invoice",
    }

    client_id: Annotated[str, RecordId()]
    lines: list[LineDocument] = Field(min_length=1, description="At least one line (BG-25).")
    currency: _Currency | None = Field(default=None, description="Default the client's, else the organisation's.")
    notes: Annotated[str, Text(4000, lines=True)] | None = None


class OrderRead(ReadModel):
    """An order: ``open`` until it is invoiced."""

    id: uuid.UUID
    client_id: uuid.UUID
    currency: str
    lines: list[LineRead]
    notes: str | None = None
    status: Literal["open", "invoiced"]
    invoice_id: uuid.UUID | None = None
    created_at: Moment | None = None
    updated_at: Moment | None = None


class OrderInvoiced(ReadModel):
    """The order, now invoiced, and the draft made from it."""

    order: OrderRead
    invoice: InvoiceRead


class AgeingRead(ReadModel):
    """The unpaid balance by days overdue."""

    not_due: Money
    d1_30: Money = Field(alias="1_30")
    d31_60: Money = Field(alias="31_60")
    d61_90: Money = Field(alias="61_90")
    over_90: Money


class MonthFigures(ReadModel):
    """One calendar month of the series: the gross of the invoices issued in it,
    and what has been paid of those invoices so far."""

    month: str = Field(description="YYYY-MM", examples=["2026-01"])
    invoiced: Money
    paid: Money


class CurrencyFigures(ReadModel):
    """The figures of one currency."""

    outstanding: Money
    overdue: Money
    paid_last_30_days: Money
    refunds_due: Money = Field(default=Decimal(0), description="Owed back to clients on issued invoices")
    counts: dict[str, int] = Field(description="By status; an overdue invoice counts only as overdue")
    ageing: AgeingRead
    months: list[MonthFigures] = Field(
        description="The 12 calendar months up to today's, oldest first; exact, computed by the service"
    )


class DashboardRead(ReadModel):
    """Per currency: outstanding, overdue, paid in the last 30 days, counts, ageing and the monthly series."""

    today: date
    currencies: dict[str, CurrencyFigures]


# --------------------------------------------------------------------------
# Webhooks (issue 20)

#: An event type an endpoint can subscribe to (:data:`invoicer.common.webhooks.EVENT_TYPES`).
WebhookEvent = Literal[EVENT_TYPES]  # type: ignore[valid-type]
_WebhookUrl = Annotated[str, Text(2000, required=True)]
_WebhookEvents = Annotated[
    list[WebhookEvent],
    Field(min_length=1, max_length=len(EVENT_TYPES), description="The event types delivered to the endpoint."),
]


class WebhookCreate(InputModel):
    """A new endpoint: where (``http(s)://``, no credentials; a literal address
    must be public unless ``WEBHOOK_ALLOWED_NETWORKS`` lets it through) and
    which events."""

    error_codes: ClassVar[dict[str, str]] = {"url": "invalid_url", "events": "invalid_events"}

    url: _WebhookUrl
    events: _WebhookEvents
    description: Annotated[str, Text(500)] = ""


class WebhookUpdate(InputModel):
    """Changes to an endpoint; ``enabled: true`` turns on again one a 410 turned off."""

    error_codes: ClassVar[dict[str, str]] = {"url": "invalid_url", "events": "invalid_events"}

    url: _WebhookUrl | None = None
    events: _WebhookEvents | None = None
    description: Annotated[str, Text(500)] | None = None
    enabled: bool | None = None


class WebhookRead(ReadModel):
    """An endpoint, without its secret (answered only when made)."""

    id: uuid.UUID
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None = None
    previous_secret_expires_at: Moment | None = Field(
        default=None, description="Until then the secret before the last rotation signs too."
    )
    created_at: Moment
    updated_at: Moment


class WebhookCreated(WebhookRead):
    """An endpoint as made or rotated, with its secret: shown this once."""

    secret: str = Field(description="whsec_ + base64 of 32 bytes; keep it, it is never answered again.")


class WebhookAttemptRead(ReadModel):
    """One HTTP attempt at a delivery."""

    attempted_at: Moment
    status_code: int | None = Field(default=None, description="None when no answer came (see error).")
    duration_ms: int
    error: str | None = None


class WebhookDeliveryRead(ReadModel):
    """One event for one endpoint and every attempt at it, oldest first."""

    id: uuid.UUID = Field(description="The webhook-id header: the same for every attempt.")
    event_id: uuid.UUID
    event_type: str
    status: Literal["pending", "succeeded", "dead"]
    next_attempt_at: Moment | None = None
    created_at: Moment
    attempts: list[WebhookAttemptRead]


class Page(BaseModel, typing.Generic[T]):
    """A page of a list: ``items``, ``page`` (from 1), ``per_page`` (1-100), ``total``."""

    items: list[T]
    page: int
    per_page: int
    total: int


class InvoicePage(BaseModel):
    """A page of the invoice list, reached by keyset: ``next`` and ``prev`` are
    cursors (opaque strings) to pass back as ``?cursor=`` with the same filters,
    sort and order, or null at either end. ``total`` is exact up to 10 000;
    beyond, it is 10 000 and ``total_exact`` is false ("10 000+")."""

    items: list[InvoiceSummary]
    page: int | None = Field(description="The page number when reached by ?page=, null when by ?cursor=")
    per_page: int
    total: int
    total_exact: bool
    next: str | None
    prev: str | None
