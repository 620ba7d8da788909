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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.numbers import get_currency_precision

__all__ = [
    "ADDRESS_LIMITS",
    "CREDIT_NOTE",
    "DOCUMENT_TYPES",
    "INVOICE",
    "MAX_SIGNIFICANT_DIGITS",
    "TAX_CATEGORIES",
    "ZERO_RATE_CATEGORIES",
    "Address",
    "AllowanceCharge",
    "BankAccount",
    "Contact",
    "ElectronicAddress",
    "Invoice",
    "Line",
    "Party",
    "PaymentInstructions",
    "Totals",
    "VatBreakdown",
    "address_from_text",
    "amounts_beyond_limit",
    "compute_totals",
    "country_code_of",
    "country_name",
    "creditor_reference",
    "effective_category",
    "known_countries",
    "largest_amount",
    "minor_unit",
    "payment_instructions",
    "quantize_money",
    "significant_digits",
]

#: Significant decimal digits every number on every document keeps exactly.
#: Excel stores a cell's number as an IEEE 754 binary64 double and shows at most
#: 15 significant digits ("Excel specifications and limits": number precision);
#: a double holds every decimal of at most 15 significant digits closely enough
#: that it reads back as that decimal (DBL_DIG = 15, C11 5.2.4.2.2), a 16th digit
#: not always. Quantities, prices and every computed amount stay within it, so the
#: XLSX equals the API and the PDF to the last digit (the minor unit for amounts).
MAX_SIGNIFICANT_DIGITS = 15


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


def significant_digits(value: Decimal) -> int:
    """Digits from the first to the last non-zero one: ``120.50`` -> 4, ``0.001`` -> 1, ``0`` -> 0."""
    if value.is_zero():
        return 0
    return len(value.normalize().as_tuple().digits)


def largest_amount(currency: str) -> Decimal:
    """The largest amount in ``currency`` that keeps MAX_SIGNIFICANT_DIGITS digits
    down to its minor unit: EUR ``9999999999999.99``, JPY ``999999999999999``,
    KWD ``999999999999.999`` (ISO 4217 minor units, CLDR)."""
    return Decimal(10) ** (MAX_SIGNIFICANT_DIGITS - minor_unit(currency)) - _exponent(currency)


# --------------------------------------------------------------------------
# Postal addresses (EN 16931 BG-5 seller, BG-8 buyer, BG-15 deliver-to)

#: Territory codes CLDR knows that are not ISO 3166-1 alpha-2 country codes:
#: regions (EU, EZ, UN, QO), CLDR's unknown (ZZ), pseudo-locales (XA, XB),
#: user-assigned XK, and the exceptionally reserved codes CLDR also lists
#: (AC, CP, CQ, DG, EA, IC, TA).
_NOT_ISO_3166 = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"})
#: Languages whose country names :func:`country_code_of` recognises.
_NAME_LANGUAGES = ("en", "de", "fr")
#: Common names CLDR does not give (compared case-insensitively).
_COUNTRY_ALIASES = {"uk": "GB", "great britain": "GB", "england": "GB", "usa": "US", "u.s.a.": "US"}


@lru_cache(maxsize=1)
def known_countries() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes Babel (CLDR) knows, upper case (``"DE"``, ``"GB"``):
    the two-letter territories of CLDR without its regions and reserved codes."""
    codes = (code for code in Locale("en").territories if isinstance(code, str))
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha() and code not in _NOT_ISO_3166)


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Case-folded English, German and French country names (CLDR) -> ISO 3166-1 alpha-2 code."""
    names = dict(_COUNTRY_ALIASES)
    countries = known_countries()
    for language in _NAME_LANGUAGES:
        for code, name in Locale(language).territories.items():
            if code in countries and isinstance(name, str):
                names.setdefault(name.casefold(), code)
    return names


def country_code_of(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code ``text`` names, or None: an upper-case code
    (``"DE"``) or a country's English, German or French name as CLDR writes it,
    any case (``"Germany"``, ``"Deutschland"``, ``"Allemagne"``), or ``"UK"``, ``"USA"``."""
    text = " ".join(text.split())
    if text in known_countries():
        return text
    return _country_names().get(text.casefold())


def country_name(code: str) -> str:
    """The English name of ISO 3166-1 alpha-2 ``code`` (CLDR): ``"DE"`` -> ``"Germany"``;
    the code itself when CLDR has no name for it."""
    name = Locale("en").territories.get(code)
    return name if isinstance(name, str) else code


#: Countries whose addresses put the city before the postal code (UPU S42 address
#: templates): "Bristol BS1 4RW", "New York, NY 10001", "Sydney NSW 2000".
_CITY_FIRST = frozenset({"GB", "IE", "IM", "JE", "GG", "GI", "FK", "US", "CA", "AU", "NZ", "PR", "MT"})
#: Of those, the ones that print the region between city and postal code.
_CITY_REGION_POSTAL = frozenset({"US", "CA", "AU", "PR"})
#: Field limits of :class:`Address` (characters); see :mod:`invoicer.invoice.schema`.
ADDRESS_LIMITS = {"line1": 1000, "line2": 1000, "city": 200, "postal_code": 32, "region": 200}

# Patterns of a locality line (the line with the postal code), tried in this order.
_UK_POSTCODE = r"(?:[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}|GIR ?0AA)"
_US_LOCALITY = re.compile(r"(?P<city>[^,]+?),? (?P<region>[A-Z]{2}) (?P<postal_code>[0-9]{5}(?:-[0-9]{4})?)")
_CITY_POSTAL = re.compile(rf"(?P<city>[^0-9].*?),? (?P<postal_code>{_UK_POSTCODE})")
_POSTAL_CITY = re.compile(
    r"(?P<postal_code>(?:[A-Z]{1,3}-)?(?:[0-9]{4} ?[A-Z]{2}|[0-9]{4,5}|[0-9]{2}-[0-9]{3}|[0-9]{3} [0-9]{2}))"
    r" (?P<city>[^0-9].*)"
)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address (EN 16931 BG-5 seller, BG-8 buyer, BG-15 deliver-to).

    ``line1`` (BT-35 / BT-50 / BT-75), ``line2`` (BT-36 / BT-51 / BT-76),
    ``city`` (BT-37 / BT-52 / BT-77), ``postal_code`` (BT-38 / BT-53 / BT-78),
    ``region`` (country subdivision, BT-39 / BT-54 / BT-79) and
    ``country_code`` (ISO 3166-1 alpha-2, upper case, BT-40 / BT-55 / BT-80).
    Every field may be None. ``line2`` may hold line breaks: an address typed
    as free text that :func:`address_from_text` cannot split keeps its lines
    after the first there, so that it prints as typed (the next issue maps
    them to BT-36 and BT-162, address line 3).
    """

    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country_code: str | None = None

    @property
    def lines(self) -> list[str]:
        """The address as printed, top to bottom: ``line1``, the lines of
        ``line2``, the locality (``"12209 Berlin"``; city first where the
        country writes it so: ``"Bristol BS1 4RW"``, ``"New York, NY 10001"``),
        the region when neither part of the locality nor the city itself, and the country's English
        name (CLDR). Empty parts give no line."""
        lines = [text for text in (self.line1, *(self.line2 or "").splitlines()) if text and text.strip()]
        locality, region_used = self._locality()
        lines += [locality] if locality else []
        if self.region and not region_used and self.region.casefold() != (self.city or "").casefold():
            lines.append(self.region)  # a city-state (Berlin, Hamburg) is not printed twice
        if self.country_code:
            lines.append(country_name(self.country_code))
        return [line.strip() for line in lines]

    def _locality(self) -> tuple[str, bool]:
        """The locality line and whether it holds the region."""
        city, postal, region = self.city or "", self.postal_code or "", self.region or ""
        if not (city or postal):
            return "", False
        style = self._style()
        if style == "city_region_postal" and region:
            return f"{city}, {region} {postal}".strip(" ,"), True
        if style in ("city_postal", "city_region_postal"):
            return f"{city} {postal}".strip(), False
        return f"{postal} {city}".strip(), False

    def _style(self) -> str:
        country = self.country_code
        if country is None:  # the postal code tells the custom: a UK postcode, a US ZIP code with a state
            postal = self.postal_code or ""
            if re.fullmatch(_UK_POSTCODE, postal):
                return "city_postal"
            if self.region and re.fullmatch(r"[0-9]{5}(?:-[0-9]{4})?", postal):
                return "city_region_postal"
            return "postal_city"
        if country in _CITY_REGION_POSTAL:
            return "city_region_postal"
        return "city_postal" if country in _CITY_FIRST else "postal_city"

    def to_json(self) -> dict[str, str]:
        """The address as stored and answered: ``{"line1": ..., "city": ...}``, absent parts left out."""
        return {item.name: value for item in fields(self) if (value := getattr(self, item.name)) is not None}

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | str | None) -> Address | None:
        """A stored address back: an object as :meth:`to_json` writes it (unknown
        keys ignored, empty texts as None), or the free text of a record stored
        before addresses were structured (:func:`address_from_text`); None for
        None or an empty one."""
        if value is None:
            return None
        if isinstance(value, str):
            return address_from_text(value)
        address = cls(**{item.name: (str(value.get(item.name) or "").strip() or None) for item in fields(cls)})
        return address if address.to_json() else None


def address_from_text(text: str) -> Address | None:
    """The structured form of an address typed as free text, one line per ``\n``.

    Lines are stripped and empty ones dropped (None when none is left). Then,
    from the end:

    1. a last line naming a country (:func:`country_code_of`: an ISO 3166-1
       alpha-2 code, or an English, German or French name) gives ``country_code``;
    2. the line before it, if it reads as a locality, gives ``postal_code``,
       ``city`` and perhaps ``region``: "12209 Berlin", "75001 Paris",
       "D-12209 Berlin", "1011 AB Amsterdam", "00-950 Warszawa", "114 55
       Stockholm" (postal code first), "Bristol BS1 4RW" (a UK postcode after
       the city), "New York, NY 10001" (US city, state, ZIP code);
    3. of the lines before, the first is ``line1`` and the others are
       ``line2``, kept on their own lines (joined with ``\n``).

    A locality is taken only when the address then prints as typed
    (:attr:`Address.lines`, the country by its English name): otherwise its
    line stays in ``line2``. So an address that cannot be split is ``line1``
    = its first line and ``line2`` = the rest, and prints exactly as typed.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    country = country_code_of(lines[-1])
    if country is not None:
        lines = lines[:-1]
    plain = _plain_lines(lines, country)
    if lines:
        parsed = _locality(lines[-1])
        if parsed is not None:
            split = Address(**_plain_lines(lines[:-1], country).to_json(), **parsed)
            expected = [*lines, *([country_name(country)] if country else [])]
            if split.lines == expected:
                return split
    return plain


def _plain_lines(lines: list[str], country: str | None) -> Address:
    """``line1`` = the first line, ``line2`` = the others, one per ``\n``."""
    return Address(line1=lines[0] if lines else None, line2="\n".join(lines[1:]) or None, country_code=country)


def _locality(line: str) -> dict[str, str] | None:
    """``{"postal_code", "city"[, "region"]}`` read from ``line``, or None."""
    line = " ".join(line.split())
    for pattern in (_US_LOCALITY, _CITY_POSTAL, _POSTAL_CITY):
        found = pattern.fullmatch(line)
        if found:
            parts = {key: value.strip() for key, value in found.groupdict().items()}
            if all(parts[key] and len(parts[key]) <= ADDRESS_LIMITS[key] for key in parts):
                return parts
    return None


@dataclass(frozen=True, slots=True)
class ElectronicAddress:
    """Where a party receives e-invoices (EN 16931 BT-34 seller, BT-49
    buyer): ``value`` in ``scheme``, an Electronic Address Scheme code (CEF
    EAS list: ``EM`` e-mail, ``9930`` German VAT number, ``0204`` Leitweg-ID,
    ``0088`` GLN, ...)."""

    scheme: str
    value: str


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact point (EN 16931 BG-6 seller, BG-9 buyer): ``name`` (BT-41 /
    BT-56), ``phone`` (BT-42 / BT-57) and ``email`` (BT-43 / BT-58)."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class BankAccount:
    """A payment account (EN 16931 BG-17): ``iban`` (BT-84), ``bic`` (BT-86)
    and ``account_name`` (BT-85)."""

    iban: str
    bic: str | None = None
    account_name: str | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """Seller (EN 16931 BG-4), buyer (BG-7) or deliver-to party (BG-13).

    ``address`` is an :class:`Address` (BG-5 / BG-8 / BG-15); free text
    given in its place (``"Obere Str. 57\n12209 Berlin"``) is turned into
    one by :func:`address_from_text` on construction. Every field but
    ``name`` may be ``None``.
    """

    name: str
    company: str | None = None
    address: Address | None = None
    phone: str | None = None
    email: str | None = None
    vat_id: str | None = None
    # What e-invoices add (EN 16931): the seller's tax number (BT-32) and legal
    # registration (BT-30), an electronic address (BT-34 / BT-49) and a contact (BG-6 / BG-9).
    tax_number: str | None = None
    legal_registration: str | None = None
    electronic_address: ElectronicAddress | None = None
    contact: Contact | None = None
    bank_account: BankAccount | None = None

    def __post_init__(self) -> None:
        if isinstance(self.address, str):
            object.__setattr__(self, "address", address_from_text(self.address))

    @property
    def address_lines(self) -> list[str]:
        """The address as printed (:attr:`Address.lines`); empty without one."""
        return self.address.lines if self.address is not None else []


@dataclass(frozen=True, slots=True)
class Line:
    """One invoice line (EN 16931 BG-25).

    ``position`` is the 1-based line number shown as "ITEM #";
    ``quantity`` (BT-129), ``unit_price`` (BT-146, net of VAT, in the invoice
    currency) and ``tax_rate`` (BT-152, a percentage such as ``Decimal("19")``)
    are exact decimals as given by the user. ``unit`` is a free-text unit of
    measure such as ``"box"`` or ``None``; ``unit_code`` its UN/ECE
    Recommendation 20/21 code (BT-130, ``C62`` one, ``HUR`` hour, ``KGM``
    kilogram). ``tax_category`` is the VAT category code (BT-151, UNTDID 5305:
    one of :data:`TAX_CATEGORIES`); ``exemption_reason`` and
    ``exemption_code`` (BT-120/121, a VATEX code) say why a line is not taxed
    at the standard rate (categories E, AE, K, G, O).
    """

    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    unit: str | None = None
    unit_code: str | None = None
    tax_category: str | None = None
    exemption_reason: str | None = None
    exemption_code: str | None = None

    @property
    def category(self) -> str | None:
        """The VAT category (BT-151): :attr:`tax_category`, else ``S`` when
        the rate is above 0, else None (a 0 % line must say which; see
        :func:`effective_category`)."""
        return effective_category(self.tax_category, self.tax_rate)

    def net_amount(self, currency: str) -> Decimal:
        """Line net amount (BT-131): quantity x unit price, rounded half up
        to the minor unit of ``currency``."""
        return quantize_money(self.quantity * self.unit_price, currency)


@dataclass(frozen=True, slots=True)
class AllowanceCharge:
    """A document-level allowance (EN 16931 BG-20) or charge (BG-21):
    ``amount`` (BT-92 / BT-99, net of VAT, in the invoice currency),
    ``reason`` (BT-97 / BT-104), ``tax_rate`` (BT-96 / BT-103, percent) and
    ``tax_category`` (BT-95 / BT-102; ``S`` by default above 0 %), and
    ``reason_code`` (BT-98 / BT-105, UNTDID 5189 / 7161) when known."""

    amount: Decimal
    reason: str | None
    tax_rate: Decimal
    tax_category: str | None = None
    reason_code: str | None = None

    @property
    def category(self) -> str | None:
        """The VAT category, as :attr:`Line.category` decides it."""
        return effective_category(self.tax_category, self.tax_rate)


@dataclass(frozen=True, slots=True)
class VatBreakdown:
    """VAT for one (category, rate) pair (EN 16931 BG-23): ``rate`` in
    percent (BT-119), ``taxable_amount`` (BT-116) and ``tax_amount`` (BT-117)
    in the invoice currency, ``category`` (BT-118; None when a 0 % line did
    not say), and the ``exemption_reason`` / ``exemption_code`` (BT-120/121)
    of the first line of that category that gives one."""

    rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    category: str | None = None
    exemption_reason: str | None = None
    exemption_code: str | None = None


@dataclass(frozen=True, slots=True)
class Totals:
    """Document totals (EN 16931 BG-22), all in ``currency``.

    ``net`` is the total without VAT (BT-109) = ``line_total`` (BT-106, the
    sum of line nets) - ``allowance_total`` (BT-107) + ``charge_total``
    (BT-108), BR-CO-13; ``tax`` is BT-110 and ``gross`` BT-112.
    ``line_nets`` holds each line's rounded net amount, in line order, so that
    renderers print exactly the numbers the totals were summed from.
    ``vat_breakdown`` is ordered by descending rate, then category.
    """

    currency: str
    net: Decimal
    tax: Decimal
    gross: Decimal
    vat_breakdown: tuple[VatBreakdown, ...]
    line_nets: tuple[Decimal, ...]
    line_total: Decimal = Decimal(0)
    allowance_total: Decimal = Decimal(0)
    charge_total: Decimal = Decimal(0)

    def as_strings(self) -> dict[str, str]:
        """``{"currency", "net", "tax", "gross"}`` with amounts as decimal
        strings, e.g. ``{"currency": "EUR", "net": "280.50", ...}``."""
        return {
            "currency": self.currency,
            "net": str(self.net),
            "tax": str(self.tax),
            "gross": str(self.gross),
        }


def amounts_beyond_limit(totals: Totals) -> list[tuple[str, Decimal]]:
    """The computed amounts larger (in magnitude) than :func:`largest_amount` of
    ``totals.currency``, as ``(what, amount)`` in document order: each line's net
    amount (BT-131, "the net amount of line 2"), each rate's taxable amount
    (BT-116) and VAT (BT-117), then ``net`` (BT-106), ``tax`` (BT-110) and
    ``gross`` (BT-112) as the API names them. Empty when every document can show
    every amount to the minor unit (:data:`MAX_SIGNIFICANT_DIGITS`)."""
    limit = largest_amount(totals.currency)
    named = [(f"the net amount of line {index}", net) for index, net in enumerate(totals.line_nets, start=1)]
    for vat in totals.vat_breakdown:
        rate = f"{vat.rate}%"
        named += [(f"the amount taxed at {rate}", vat.taxable_amount), (f"the VAT at {rate}", vat.tax_amount)]
    named += [("the total net amount (net)", totals.net), ("the total VAT (tax)", totals.tax)]
    named += [("the total with VAT (gross)", totals.gross)]
    return [(what, amount) for what, amount in named if abs(amount) > limit]


def compute_totals(
    lines: tuple[Line, ...] | list[Line],
    currency: str,
    *,
    allowances: Sequence[AllowanceCharge] = (),
    charges: Sequence[AllowanceCharge] = (),
) -> Totals:
    """Compute the EN 16931 totals of ``lines`` (and the document-level
    ``allowances`` and ``charges``, BG-20/21) in ``currency``.

    Rules: BR-CO-10 (BT-106 = sum of line nets), BR-CO-11/12 (BT-107/108 =
    sums of allowances/charges), BR-CO-13 (BT-109 = BT-106 - BT-107 +
    BT-108), the VAT breakdown per (category, rate) with its taxable amount
    the line nets plus charges minus allowances of that pair (BR-S-08,
    BR-Z-08, BR-E-08, BR-AE-08, BR-IC-08, BR-G-08, BR-O-08), its VAT rounded
    once per pair, not per line (BR-CO-17), BR-CO-14 (BT-110 = sum of the
    breakdown's VAT), BR-CO-15 (BT-112 = BT-109 + BT-110). Raises nothing
    for valid lines; quantities and prices may be negative (credit lines).
    """
    # Exact: amounts have at most 25 significant digits and products 50, so
    # no intermediate result is rounded before the rounding the rules ask for.
    with localcontext() as context:
        context.prec = 80
        return _compute_totals(lines, currency, allowances, charges)


#: VAT category codes of EN 16931 (BT-151, BT-118; UNTDID 5305), with their meaning.
TAX_CATEGORIES: dict[str, str] = {
    "S": "Standard rate",
    "Z": "Zero rated goods",
    "E": "Exempt from tax",
    "AE": "VAT reverse charge",
    "K": "Intra-community supply (VAT exempt for EEA intra-community supply of goods and services)",
    "G": "Free export item, tax not charged",
    "O": "Services outside scope of tax",
    "L": "Canary Islands general indirect tax",
    "M": "Tax for production, services and importation in Ceuta and Melilla",
}
#: Categories whose rate must be 0 (BR-Z-05, BR-E-05, BR-AE-05, BR-IC-05, BR-G-05; O has no rate at all, BR-O-05).
ZERO_RATE_CATEGORIES = frozenset({"Z", "E", "AE", "K", "G", "O"})


def effective_category(tax_category: str | None, rate: Decimal) -> str | None:
    """The VAT category a line or allowance has: the one it states, else
    ``S`` (standard rate) when its rate is above 0, else None — a 0 % line
    must say whether it is zero rated, exempt, reverse charge, … (BR-CO-3 asks
    every line for BT-151; the API refuses to guess)."""
    if tax_category:
        return tax_category
    return "S" if rate > 0 else None


def _plain_rate(rate: Decimal) -> Decimal:
    """``rate`` with trailing zeros dropped but never in exponent form:
    "19.00" -> 19, "20" -> 20 (not 2E+1), "7.50" -> 7.5."""
    normal = rate.normalize()
    exponent = normal.as_tuple().exponent  # a letter only for NaN and infinity, which validation refuses
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


def _compute_totals(
    lines: Sequence[Line],
    currency: str,
    allowances: Sequence[AllowanceCharge],
    charges: Sequence[AllowanceCharge],
) -> Totals:
    line_nets = tuple(line.net_amount(currency) for line in lines)
    # One key per (category, rate value), so that "19", "19.0" and 19 are one rate.
    taxable: dict[tuple[str | None, Decimal], Decimal] = {}
    exemptions: dict[tuple[str | None, Decimal], tuple[str | None, str | None]] = {}
    for line, net in zip(lines, line_nets, strict=True):
        key = (line.category, _plain_rate(line.tax_rate))
        taxable[key] = taxable.get(key, Decimal(0)) + net
        if key not in exemptions or exemptions[key] == (None, None):
            exemptions[key] = (line.exemption_reason, line.exemption_code)
    zero = quantize_money(Decimal(0), currency)
    allowance_total = sum((quantize_money(item.amount, currency) for item in allowances), zero)
    charge_total = sum((quantize_money(item.amount, currency) for item in charges), zero)
    for sign, items in ((-1, allowances), (1, charges)):
        for item in items:
            key = (item.category, _plain_rate(item.tax_rate))
            taxable[key] = taxable.get(key, Decimal(0)) + sign * quantize_money(item.amount, currency)
            exemptions.setdefault(key, (None, None))
    breakdown = tuple(
        VatBreakdown(
            rate=rate,
            taxable_amount=quantize_money(amount, currency),
            tax_amount=quantize_money(amount * rate / 100, currency),
            category=category,
            exemption_reason=exemptions[(category, rate)][0],
            exemption_code=exemptions[(category, rate)][1],
        )
        for (category, rate), amount in sorted(taxable.items(), key=lambda item: (-item[0][1], item[0][0] or ""))
    )
    line_total = sum(line_nets, zero)
    net = line_total - allowance_total + charge_total
    tax = sum((vat.tax_amount for vat in breakdown), zero)
    return Totals(
        currency=currency,
        net=net,
        tax=tax,
        gross=net + tax,
        vat_breakdown=breakdown,
        line_nets=line_nets,
        line_total=line_total,
        allowance_total=allowance_total,
        charge_total=charge_total,
    )


@dataclass(frozen=True, slots=True)
class PaymentInstructions:
    """How to pay (EN 16931 BG-16): ``iban`` (BT-84, the payee's account),
    ``bic`` (BT-86), ``account_name`` (BT-85) and ``reference`` (BT-83,
    remittance information: the invoice number, or an ISO 11649 RF creditor
    reference). Means: SEPA credit transfer (BT-81 code 58) with an IBAN."""

    iban: str | None = None
    bic: str | None = None
    account_name: str | None = None
    reference: str | None = None


def creditor_reference(text: str) -> str:
    """An ISO 11649 structured creditor reference ("RF" reference) made from
    ``text`` (an invoice number): its letters and digits, upper case, at most
    21, after ``RF`` and two check digits (ISO 7064 MOD 97-10), e.g.
    ``INV-2026-0001`` -> ``RF16INV20260001``. Banks across SEPA check it, so a
    payer's typo is caught. Raises ValueError when ``text`` has no letter or digit."""
    from stdnum.iso7064 import mod_97_10  # noqa: PLC0415

    reference = "".join(char for char in text.upper() if char.isascii() and char.isalnum())[-21:]
    if not reference:
        raise ValueError(f"{text!r} has no letter or digit to make a creditor reference from")
    return f"RF{mod_97_10.calc_check_digits(reference + 'RF')}{reference}"


def payment_instructions(account: BankAccount | None, reference: str | None) -> PaymentInstructions | None:
    """BG-16 from the seller's account (BG-17) and the remittance information
    (BT-83, e.g. the invoice number); None without an account."""
    if account is None:
        return None
    return PaymentInstructions(account.iban, account.bic, account.account_name, reference)


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

    What an e-invoice needs besides (all optional): ``buyer_reference``
    (BT-10; the Leitweg-ID of a German public buyer), ``order_reference``
    (BT-13), ``delivery_date`` (BT-72) or ``invoicing_period`` (BG-14,
    start and end), document-level ``allowances`` and ``charges`` (BG-20/21,
    in the totals) and ``payment`` (BG-16: how to pay).

    ``logo``: the seller's logo, PNG or JPEG bytes already checked and
    re-encoded by the service that stores it, drawn at the top left of the
    PDF's first page; ``None`` for none.
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
    buyer_reference: str | None = None
    order_reference: str | None = None
    delivery_date: date | None = None
    invoicing_period: tuple[date, date] | None = None
    allowances: tuple[AllowanceCharge, ...] = ()
    charges: tuple[AllowanceCharge, ...] = ()
    payment: PaymentInstructions | None = None
    logo: bytes | None = field(default=None, repr=False)
    totals: Totals = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.document_type not in DOCUMENT_TYPES:
            raise ValueError(f"unknown document type {self.document_type!r}; expected one of {sorted(DOCUMENT_TYPES)}")
        totals = compute_totals(self.lines, self.currency, allowances=self.allowances, charges=self.charges)
        object.__setattr__(self, "totals", totals)
