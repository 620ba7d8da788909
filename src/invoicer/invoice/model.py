"""The invoice as the renderers and the API see it, and its totals.

Amounts are :class:`decimal.Decimal` from parsing to rendering, never float.
The totals follow EN 16931 (the European e-invoicing semantic model):

* line net amount = quantity x unit price, rounded half up to the currency's
  minor unit (EN 16931 BT-131; ISO 4217 minor units, taken from Babel/CLDR);
* sum of line net amounts (BT-106) is the sum of the rounded line nets;
* VAT per rate (BG-23): taxable amount (BT-116) = sum of the line nets at that
  rate, VAT amount (BT-117) = taxable amount x rate / 100, rounded once per
  rate, not per line (BR-CO-17);
* total VAT (BT-110) = sum of the per-rate VAT amounts (BR-CO-14);
* gross, i.e. total with VAT (BT-112) = net + VAT (BR-CO-15).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache

from babel.numbers import get_currency_precision

__all__ = [
    "CREDIT_NOTE",
    "DOCUMENT_TYPES",
    "INVOICE",
    "Invoice",
    "Line",
    "Party",
    "Totals",
    "VatBreakdown",
    "compute_totals",
    "minor_unit",
    "quantize_money",
]


INVOICE = "invoice"
"""Document type of a commercial invoice (EN 16931 BT-3, UNTDID 1001 code 380)."""
CREDIT_NOTE = "credit_note"
"""Document type of a credit note (EN 16931 BT-3, UNTDID 1001 code 381)."""
DOCUMENT_TYPES: dict[str, str] = {INVOICE: "380", CREDIT_NOTE: "381"}
"""The document types the renderers know, with their UNTDID 1001 code (BT-3)."""


@lru_cache(maxsize=512)
def minor_unit(currency: str) -> int:
    """Number of decimal digits of ``currency``'s minor unit (ISO 4217).

    ``currency`` is an upper-case ISO 4217 alphabetic code, e.g. ``"EUR"`` -> 2,
    ``"JPY"`` -> 0, ``"KWD"`` -> 3. The digits come from Babel's CLDR data, not
    from a table of our own. Unknown codes fall back to CLDR's default of 2;
    validation rejects unknown codes before they get here.
    """
    return get_currency_precision(currency)


@lru_cache(maxsize=512)
def _exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` half up to ``currency``'s minor unit (EN 16931 rounding).

    >>> quantize_money(Decimal("2.345"), "EUR")
    Decimal('2.35')
    >>> quantize_money(Decimal("2.5"), "JPY")
    Decimal('3')
    """
    return amount.quantize(_exponent(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Party:
    """Seller (EN 16931 BG-4), buyer (BG-7) or deliver-to party (BG-13).

    ``address`` keeps the user's line breaks (``"\\n"`` separated lines).
    Every field but ``name`` may be ``None``.
    """

    name: str
    company: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    vat_id: str | None = None

    @property
    def address_lines(self) -> list[str]:
        """The address split into its lines, empty lines dropped."""
        if not self.address:
            return []
        return [part.strip() for part in self.address.splitlines() if part.strip()]


@dataclass(frozen=True, slots=True)
class Line:
    """One invoice line (EN 16931 BG-25).

    ``position`` is the 1-based line number shown as "ITEM #";
    ``quantity`` (BT-129), ``unit_price`` (BT-146, net of VAT, in the invoice
    currency) and ``tax_rate`` (BT-152, a percentage such as ``Decimal("19")``)
    are exact decimals as given by the user. ``unit`` is a free-text unit of
    measure such as ``"box"`` or ``None``.
    """

    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    unit: str | None = None

    def net_amount(self, currency: str) -> Decimal:
        """Line net amount (BT-131): quantity x unit price, rounded half up
        to the minor unit of ``currency``."""
        return quantize_money(self.quantity * self.unit_price, currency)


@dataclass(frozen=True, slots=True)
class VatBreakdown:
    """VAT for one rate (EN 16931 BG-23): ``rate`` in percent, ``taxable_amount``
    (BT-116) and ``tax_amount`` (BT-117) in the invoice currency."""

    rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    """Document totals (EN 16931 BG-22), all in ``currency``.

    ``line_nets`` holds each line's rounded net amount, in line order, so that
    renderers print exactly the numbers the totals were summed from.
    ``vat_breakdown`` is ordered by descending rate.
    """

    currency: str
    net: Decimal
    tax: Decimal
    gross: Decimal
    vat_breakdown: tuple[VatBreakdown, ...]
    line_nets: tuple[Decimal, ...]

    def as_strings(self) -> dict[str, str]:
        """``{"currency", "net", "tax", "gross"}`` with amounts as decimal
        strings, e.g. ``{"currency": "EUR", "net": "280.50", ...}``."""
        return {
            "currency": self.currency,
            "net": str(self.net),
            "tax": str(self.tax),
            "gross": str(self.gross),
        }


def compute_totals(lines: tuple[Line, ...] | list[Line], currency: str) -> Totals:
    """Compute the EN 16931 totals of ``lines`` in ``currency``.

    Rules: BR-CO-10 (net = sum of line nets), BR-CO-17 (VAT per rate rounded
    once per rate from the sum of that rate's line nets), BR-CO-14 (total VAT =
    sum of per-rate VAT), BR-CO-15 (gross = net + VAT). Raises nothing for
    valid lines; quantities and prices may be negative (credit lines).
    """
    # Exact: amounts have at most 25 significant digits and products 50, so
    # no intermediate result is rounded before the rounding the rules ask for.
    with localcontext() as context:
        context.prec = 80
        return _compute_totals(lines, currency)


def _plain_rate(rate: Decimal) -> Decimal:
    """``rate`` with trailing zeros dropped but never in exponent form:
    "19.00" -> 19, "20" -> 20 (not 2E+1), "7.50" -> 7.5."""
    normal = rate.normalize()
    return normal.quantize(Decimal(1)) if normal.as_tuple().exponent > 0 else normal


def _compute_totals(lines, currency: str) -> Totals:
    line_nets = tuple(line.net_amount(currency) for line in lines)
    taxable: dict[Decimal, Decimal] = {}
    for line, net in zip(lines, line_nets):
        # One key per rate value, so that "19", "19.0" and 19 are one rate.
        rate = _plain_rate(line.tax_rate)
        taxable[rate] = taxable.get(rate, Decimal(0)) + net
    breakdown = tuple(
        VatBreakdown(
            rate=rate,
            taxable_amount=quantize_money(amount, currency),
            tax_amount=quantize_money(amount * rate / 100, currency),
        )
        for rate, amount in sorted(taxable.items(), key=lambda item: item[0], reverse=True)
    )
    zero = quantize_money(Decimal(0), currency)
    net = sum(line_nets, zero)
    tax = sum((vat.tax_amount for vat in breakdown), zero)
    return Totals(
        currency=currency,
        net=net,
        tax=tax,
        gross=net + tax,
        vat_breakdown=breakdown,
        line_nets=line_nets,
    )


@dataclass(frozen=True, slots=True)
class Invoice:
    """A validated invoice in the canonical shape (EN 16931 vocabulary).

    ``currency`` is an ISO 4217 code (BT-5); ``issue_date`` (BT-2) and
    ``due_date`` (BT-9, optional) are dates; ``lines`` are in document order.
    ``totals`` is computed from the lines on construction, never taken from
    the input.

    What kind of document it is (renderer input, not fields of the canonical
    upload format): ``document_type`` is :data:`INVOICE` or
    :data:`CREDIT_NOTE` (BT-3, codes 380/381). A credit note carries positive
    amounts, as EN 16931 asks of type 381: the type, not a sign, says they
    are credited. ``preceding_invoice`` (BT-25) and ``preceding_invoice_date``
    (BT-26) name the invoice a credit note corrects. ``draft`` marks a
    preview of a document not yet issued: it has no number
    (``invoice_number`` is ``""``) and is marked DRAFT on every page.
    Raises ``ValueError`` for an unknown ``document_type``.
    """

    invoice_number: str
    issue_date: date
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    due_date: date | None = None
    ship_to: Party | None = None
    payment_terms: str | None = None
    notes: str | None = None
    document_type: str = INVOICE
    preceding_invoice: str | None = None
    preceding_invoice_date: date | None = None
    draft: bool = False
    totals: Totals = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.document_type not in DOCUMENT_TYPES:
            raise ValueError(f"unknown document type {self.document_type!r}; expected one of {sorted(DOCUMENT_TYPES)}")
        object.__setattr__(self, "totals", compute_totals(self.lines, self.currency))
