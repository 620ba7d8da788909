"""The legacy flat invoice format that users of the old tool still send.

A legacy document looks like ``examples/legacy_invoice_data.json``::

    {
        "company_name": ...,
        "company_address": "12 Harbour Road, Bristol, UK",
        "bill_to_name": ...,
        "invoice_no": "NW-2026-0142",
        "date": "2026-11-02",
        "items": [{"id": 1, "description": ..., "qty": 12, "unit_price": 18.00, "total": 216.00}],
        "subtotal": 300.00,
        "tax_rate": 19,
        "tax_amount": 57.00,
        "total_amount": 357.00,
    }

:class:`LegacyInvoiceDocument` is its own pydantic model: its fields carry
the canonical names (``invoice_number``, ``seller_name``, ``lines``) and the
legacy names as aliases (``invoice_no``, ``company_name``, ``items``), and it
uses the field types and rules of :mod:`invoicer.invoice.schema`. Pydantic
reports errors by alias, so every error points into the legacy document
(``/items/2/qty``, ``/invoice_no``). The totals the old tool wrote are not
trusted: they are compared with the EN 16931 totals computed from the lines
(:meth:`LegacyInvoiceDocument.total_mismatches`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from invoicer.invoice import model
from invoicer.invoice.errors import JsonPath, Problem, plain
from invoicer.invoice.schema import (
    Amount,
    CurrencyCode,
    DocumentModel,
    IsoDate,
    Text,
    amounts_fit_every_document,
    at_most_max_lines,
    due_date_not_before_issue_date,
    optional_text,
    product_not_too_large,
)

__all__ = ["LegacyInvoiceDocument", "LegacyItemDocument", "is_legacy", "legacy_address", "to_canonical"]

# Field-name prefix of each party in the model -> the canonical party.
_PARTIES = {"seller_": "seller", "buyer_": "buyer", "ship_to_": "ship_to"}
# Fields of the model that have no place in the canonical document.
_NOT_MAPPED = {"tax_rate", "subtotal", "tax_amount", "total_amount", "id", "total"}
# Fields that need ship_to_name beside them.
_SHIP_TO_OTHERS = ("ship_to_company", "ship_to_address", "ship_to_phone", "ship_to_email")


class _Missing:
    """Stands for a field that a rule requires and the document lacks (never a JSON value)."""


_MISSING = _Missing()


def _required(value: Any) -> Any:
    if value is _MISSING:
        raise PydanticCustomError("required", "is required")
    return value


class LegacyItemDocument(DocumentModel):
    """One item of a legacy invoice; becomes one line (EN 16931 BG-25)."""

    model_config = ConfigDict(title="LegacyItem")

    id: Any = Field(default=None, description="The old tool's item number; not used (lines are numbered in order).")
    description: Annotated[str, Text(1000, lines=True, required=True)] = Field(
        description="Item name and description (BT-153/BT-154)."
    )
    quantity: Annotated[Decimal, Amount(gt=0)] = Field(alias="qty", description="Invoiced quantity (BT-129), above 0.")
    unit_price: Annotated[Decimal, Amount(ge=0)] = Field(description="Net unit price (BT-146), 0 or more.")
    total: Annotated[Decimal | None, Amount()] = Field(
        default=None, description="The old tool's qty x unit_price; must agree with ours to one minor unit."
    )

    @model_validator(mode="after")
    def _product_fits(self) -> LegacyItemDocument:
        product_not_too_large(self.quantity, self.unit_price, "qty x unit_price")
        return self


class LegacyInvoiceDocument(DocumentModel):
    """The old tool's flat invoice: ``company_*`` is the seller, ``bill_to_*`` the buyer,
    ``ship_to_*`` the deliver-to party, one ``tax_rate`` for every item.

    Addresses are one line, their parts separated by commas. ``currency`` may
    be absent (the server's ``LEGACY_CURRENCY`` applies). ``ship_to_name`` is
    required once any other ``ship_to_*`` field is given.
    """

    model_config = ConfigDict(
        title="LegacyInvoice",
        json_schema_extra={"dependentRequired": {name: ["ship_to_name"] for name in _SHIP_TO_OTHERS}},
    )

    seller_name: Annotated[str, Text(200, required=True)] = Field(alias="company_name", description="Seller (BT-27).")
    seller_address: Annotated[str | None, Text(1000, lines=True)] = Field(
        default=None, alias="company_address", description="Seller address, its parts separated by commas."
    )
    seller_phone: Annotated[str | None, Text(64)] = Field(default=None, alias="company_phone")
    seller_email: Annotated[str | None, Text(254, email=True)] = Field(default=None, alias="company_email")
    seller_vat_id: Annotated[str | None, Text(64)] = Field(default=None, alias="company_vat_id", description="BT-31.")
    buyer_name: Annotated[str, Text(200, required=True)] = Field(alias="bill_to_name", description="Buyer (BT-44).")
    buyer_company: Annotated[str | None, Text(200)] = Field(default=None, alias="bill_to_company")
    buyer_address: Annotated[str | None, Text(1000, lines=True)] = Field(
        default=None, alias="bill_to_address", description="Buyer address, its parts separated by commas."
    )
    buyer_phone: Annotated[str | None, Text(64)] = Field(default=None, alias="bill_to_phone")
    buyer_email: Annotated[str | None, Text(254, email=True)] = Field(default=None, alias="bill_to_email")
    buyer_vat_id: Annotated[str | None, Text(64)] = Field(default=None, alias="bill_to_vat_id", description="BT-48.")
    ship_to_name: Annotated[str | None, Text(200, required=True)] = Field(
        default=None, description="Deliver-to name (BT-70); required with any other ship_to_ field."
    )
    ship_to_company: Annotated[str | None, Text(200)] = Field(default=None)
    ship_to_address: Annotated[str | None, Text(1000, lines=True)] = Field(
        default=None, description="Deliver-to address, its parts separated by commas."
    )
    ship_to_phone: Annotated[str | None, Text(64)] = Field(default=None)
    ship_to_email: Annotated[str | None, Text(254, email=True)] = Field(default=None)
    invoice_number: Annotated[str, Text(64, required=True)] = Field(alias="invoice_no", description="BT-1.")
    issue_date: Annotated[date, IsoDate()] = Field(alias="date", description="Issue date (BT-2), YYYY-MM-DD.")
    due_date: Annotated[date | None, IsoDate()] = Field(default=None, description="Due date (BT-9), not before date.")
    currency: Annotated[str | None, CurrencyCode()] = Field(
        default=None, description="ISO 4217 code (BT-5); the server's LEGACY_CURRENCY if absent."
    )
    payment_terms: Annotated[str | None, Text(4000, lines=True)] = Field(default=None, description="BT-20.")
    notes: Annotated[str | None, Text(4000, lines=True)] = Field(default=None, description="BT-22.")
    # Before lines, so that the check of the amounts the lines add up to sees it.
    tax_rate: Annotated[Decimal, Amount(ge=0, le=100)] = Field(
        description="VAT rate in percent (BT-152) of every item, 0 to 100."
    )
    lines: list[LegacyItemDocument] = Field(
        alias="items", min_length=1, description="The items, in order; at most MAX_LINES (a server setting)."
    )
    subtotal: Annotated[Decimal | None, Amount()] = Field(default=None, description="The old tool's net; checked.")
    tax_amount: Annotated[Decimal | None, Amount()] = Field(default=None, description="The old tool's VAT; checked.")
    total_amount: Annotated[Decimal | None, Amount()] = Field(
        default=None, description="The old tool's gross; checked."
    )

    _due_date = field_validator("due_date")(classmethod(due_date_not_before_issue_date))
    _lines = field_validator("lines", mode="wrap")(at_most_max_lines)

    @model_validator(mode="before")
    @classmethod
    def _ship_to_needs_a_name(cls, data: Any) -> Any:
        """Mark ``ship_to_name`` missing when another ``ship_to_*`` field is there (reported as ``required``)."""
        if isinstance(data, dict) and "ship_to_name" not in data and any(name in data for name in _SHIP_TO_OTHERS):
            return {**data, "ship_to_name": _MISSING}
        return data

    _ship_to_name = field_validator("ship_to_name", mode="before")(_required)

    @field_validator("lines")
    @classmethod
    def _amounts_fit(cls, lines: list[LegacyItemDocument], info: ValidationInfo) -> list[LegacyItemDocument]:
        """The totals of valid items at a valid ``tax_rate``: :func:`amounts_fit_every_document`,
        in the document's currency or else ``info.context["legacy_currency"]`` (default USD)."""
        currency = info.data.get("currency") or (info.context or {}).get("legacy_currency", "USD")
        tax_rate = info.data.get("tax_rate")
        if "currency" in info.data and tax_rate is not None:  # both valid (an absent currency is None)
            amounts_fit_every_document(
                [
                    model.Line(position, item.description, item.quantity, item.unit_price, tax_rate)
                    for position, item in enumerate(lines, start=1)
                ],
                currency,
            )
        return lines

    def to_invoice(self, default_currency: str) -> model.Invoice:
        """The domain Invoice; ``default_currency`` (ISO 4217) applies when the document names none.

        Addresses are split on commas into lines; every line gets ``tax_rate``;
        there is a deliver-to party only if a ``ship_to_*`` field was given.
        """
        lines = tuple(
            model.Line(
                position=position,
                description=item.description.strip(),
                quantity=item.quantity,
                unit_price=item.unit_price,
                tax_rate=self.tax_rate,
            )
            for position, item in enumerate(self.lines, start=1)
        )
        seller, buyer, ship_to = (self._party(prefix) for prefix in _PARTIES)
        assert seller is not None and buyer is not None  # their names are required
        return model.Invoice(
            invoice_number=self.invoice_number.strip(),
            issue_date=self.issue_date,
            currency=self.currency or default_currency,
            seller=seller,
            buyer=buyer,
            lines=lines,
            due_date=self.due_date,
            ship_to=ship_to,
            payment_terms=optional_text(self.payment_terms),
            notes=optional_text(self.notes),
        )

    def _party(self, prefix: str) -> model.Party | None:
        values = {
            name.removeprefix(prefix): getattr(self, name)
            for name in type(self).model_fields
            if name.startswith(prefix)
        }
        if values["name"] is None:
            return None
        address = values.get("address")
        return model.Party(
            name=values["name"].strip(),
            company=optional_text(values.get("company")),
            address=legacy_address(address) if address is not None else None,
            phone=optional_text(values.get("phone")),
            email=optional_text(values.get("email")),
            vat_id=optional_text(values.get("vat_id")),
        )

    def total_mismatches(self, invoice: model.Invoice) -> list[Problem]:
        """The totals the old tool wrote that differ from ``invoice``'s by more than one minor unit.

        ``items[i].total`` against the line net (BT-131), ``subtotal`` against
        the net (BT-106), ``tax_amount`` against the VAT (BT-110),
        ``total_amount`` against the gross (BT-112); the tolerance is one minor
        unit of the currency (ISO 4217), the old tool's rounding. Code
        ``total_mismatch``, paths into the legacy document.
        """
        totals = invoice.totals
        tolerance = Decimal(1).scaleb(-model.minor_unit(invoice.currency))
        checks: list[tuple[JsonPath, Decimal | None, Decimal, str]] = [
            (("items", index, "total"), item.total, net, "qty x unit_price is")
            for index, (item, net) in enumerate(zip(self.lines, totals.line_nets, strict=True))
        ]
        checks += [
            (("subtotal",), self.subtotal, totals.net, "the line totals add up to"),
            (("tax_amount",), self.tax_amount, totals.tax, "the VAT computed from the lines is"),
            (("total_amount",), self.total_amount, totals.gross, "the lines add up to"),
        ]
        return [
            Problem(path, "total_mismatch", f"is {plain(given)} but {explanation} {plain(ours)}")
            for path, given, ours, explanation in checks
            if given is not None and abs(given - ours) > tolerance
        ]


def is_legacy(document: dict[str, Any]) -> bool:
    """True if ``document`` is in the legacy flat format.

    Canonical markers (``lines``, ``invoice_number``) win; otherwise any of
    ``items``, ``invoice_no`` or ``company_name`` marks a legacy document, so
    that a legacy document missing one of them is still told so in its own terms.
    """
    if "lines" in document or "invoice_number" in document:
        return False
    return any(key in document for key in ("items", "invoice_no", "company_name"))


def to_canonical(document: dict[str, Any], *, currency: str = "USD") -> dict[str, Any]:
    """Map a legacy document to the canonical shape, without checking it.

    ``company_*`` -> ``seller``, ``bill_to_*`` -> ``buyer``, ``ship_to_*`` ->
    ``ship_to`` (only if a ``ship_to_*`` field is present); addresses are
    split on commas into lines (free text the canonical format splits into
    its structured form, as :func:`legacy_address` does); ``invoice_no`` -> ``invoice_number``,
    ``date`` -> ``issue_date``; ``currency`` defaults to ``currency``;
    ``items[i]`` ``{description, qty, unit_price}`` -> ``lines[i]`` with the
    document's ``tax_rate`` (percent) on every line. ``id`` and the totals
    are not mapped; unknown fields and values that are not what they should
    be are passed on or dropped, for a validator to judge. The names come
    from the aliases of :class:`LegacyInvoiceDocument`.
    """
    canonical: dict[str, Any] = {}
    for name, field in LegacyInvoiceDocument.model_fields.items():
        key = field.alias or name
        if key not in document or name in _NOT_MAPPED:
            continue
        value = document[key]
        prefix = next((prefix for prefix in _PARTIES if name.startswith(prefix)), None)
        if prefix is None:
            canonical[name] = value
            continue
        if name.endswith("_address") and isinstance(value, str):
            value = _address_lines(value)
        canonical.setdefault(_PARTIES[prefix], {})[name.removeprefix(prefix)] = value
    canonical.setdefault("currency", currency)
    if isinstance(canonical.get("lines"), list):
        canonical["lines"] = [_line(item, document) for item in canonical["lines"]]
    return canonical


def _address_lines(text: str) -> str:
    """A legacy address's comma-separated parts as lines: ``"a, b"`` -> ``"a\\nb"``."""
    return "\n".join(part.strip() for part in text.split(",") if part.strip())


def legacy_address(text: str) -> model.Address | None:
    """A legacy address (parts separated by commas, ``"Obere Str. 57, 12209
    Berlin, Germany"``) in the structured form: each part a line, then
    :func:`~invoicer.invoice.model.address_from_text` (street, postal code and
    city, country: EN 16931 BT-35..40)."""
    return model.address_from_text(_address_lines(text))


def _line(item: Any, document: dict[str, Any]) -> Any:
    if not isinstance(item, dict):
        return item
    line = {
        name: item[field.alias or name]
        for name, field in LegacyItemDocument.model_fields.items()
        if name not in _NOT_MAPPED and (field.alias or name) in item
    }
    if "tax_rate" in document:
        line["tax_rate"] = document["tax_rate"]
    return line
