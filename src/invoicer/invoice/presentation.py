"""What the PDF and the XLSX invoice share: labels, the lines of a party
block, the totals rows, the thank-you rule, the colours, and how numbers,
amounts, percentages and dates are written for a locale (Babel/CLDR).

The layout these rules serve is described in ``LAYOUT.md``; each renderer
decides only where and how things are drawn. Nothing here imports ReportLab
or XlsxWriter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from .model import CREDIT_NOTE, Invoice, Party, Totals

__all__ = [
    "ACCENT",
    "BAND",
    "BILL_TO",
    "BOX",
    "COLUMNS",
    "CREDIT_NOTE_TITLE",
    "DRAFT",
    "GRID",
    "INK",
    "MUTED",
    "NAVY",
    "NOTES",
    "PAYMENT_TERMS",
    "SHIP_TO",
    "THANK_YOU",
    "TITLE",
    "UNIT_COLUMN",
    "ZEBRA",
    "Formatter",
    "PartyLine",
    "document_name",
    "is_credit",
    "meta_rows",
    "one_line",
    "parse_locale",
    "party_lines",
    "thanks",
    "title",
    "totals_rows",
]

# Colours, as "#RRGGBB".
NAVY = "#1B2B4B"  # seller name, labels, table header, total
ACCENT = "#1F63C6"  # the "INVOICE" title
INK = "#1E2530"  # body text
MUTED = "#5F6B7A"  # small print: contacts, labels of totals and dates, thank-you line
GRID = "#C9D0DA"  # thin rules and grid lines
ZEBRA = "#F2F5F9"  # every second item row
BOX = "#F4F6F9"  # Bill To / Ship To boxes (PDF)
BAND = "#E2E6EC"  # the band under the total

# Labels (English whatever the locale).
TITLE = "INVOICE"
CREDIT_NOTE_TITLE = "CREDIT NOTE"
DRAFT = "DRAFT"
"""The mark across every page of a draft's preview."""
BILL_TO = "BILL TO"
SHIP_TO = "SHIP TO"
PAYMENT_TERMS = "PAYMENT TERMS"
NOTES = "NOTES"
THANK_YOU = "Thank you for your business."
COLUMNS = ("ITEM #", "DESCRIPTION", "QTY", "UNIT PRICE", "VAT %", "TOTAL")
"""Titles of the item table's columns."""
UNIT_COLUMN = "UNIT"
"""A column of its own after QTY where the format has typed cells (XLSX);
the PDF writes the unit after the quantity."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # controls, lone surrogates


def one_line(text: str | None) -> str:
    """``text`` on one line: runs of white space (line breaks included)
    become one space, control characters are dropped; ``None`` -> ``""``."""
    if not text:
        return ""
    return " ".join(_CONTROL.sub("", text.replace("\t", " ").replace("\r", " ").replace("\n", " ")).split())


@dataclass(frozen=True, slots=True)
class PartyLine:
    """One line of a party block. ``kind`` is ``"name"``, ``"company"``,
    ``"address"`` (one printed line of the address,
    :attr:`~invoicer.invoice.model.Address.lines`: a free-text address keeps
    the user's line breaks) or
    ``"contact"`` (``"Phone: …"``, ``"Email: …"``, ``"VAT ID: …"``, the value
    on one line). ``text`` of the first three is the user's text unchanged."""

    kind: str
    text: str


def party_lines(party: Party, *, with_name: bool = True) -> list[PartyLine]:
    """The lines of a seller, Bill To or Ship To block, top to bottom:
    name (unless ``with_name`` is false), company, address lines, then
    phone, e-mail and VAT ID when given. Empty fields give no line."""
    lines = [PartyLine("name", party.name)] if with_name else []
    if party.company and party.company.strip():
        lines.append(PartyLine("company", party.company))
    lines += [PartyLine("address", line) for line in party.address_lines]
    for label, value in (("Phone", party.phone), ("Email", party.email), ("VAT ID", party.vat_id)):
        if one_line(value):
            lines.append(PartyLine("contact", f"{label}: {one_line(value)}"))
    return lines


def is_credit(invoice: Invoice) -> bool:
    """True for a credit note (EN 16931 BT-3 code 381)."""
    return invoice.document_type == CREDIT_NOTE


def title(invoice: Invoice) -> str:
    """The document's title: "INVOICE", or "CREDIT NOTE" for a credit note."""
    return CREDIT_NOTE_TITLE if is_credit(invoice) else TITLE


def document_name(invoice: Invoice) -> str:
    """How the document names itself in running text (footer, metadata):
    "Invoice INV-2026-0001", "Credit note CN-2026-0001", or for a draft,
    which has no number, "Draft invoice" / "Draft credit note"."""
    kind = "credit note" if is_credit(invoice) else "invoice"
    if invoice.draft:
        return f"Draft {kind}"
    return f"{kind.capitalize()} {one_line(invoice.invoice_number)}"


def meta_rows(invoice: Invoice) -> list[tuple[str, str | date]]:
    """``(label, value)`` rows of the title block: the number (text; none
    for a draft, which has no number yet), issue date and, when given, due
    date (dates). A credit note's number is "Credit note no." and it names
    the invoice it corrects, "Corrects invoice" (EN 16931 BT-25) and that
    invoice's date, "Invoice date" (BT-26), when given."""
    label = "Credit note no." if is_credit(invoice) else "Invoice no."
    rows: list[tuple[str, str | date]] = [] if invoice.draft else [(label, invoice.invoice_number)]
    rows.append(("Issue date", invoice.issue_date))
    if invoice.due_date:
        rows.append(("Due date", invoice.due_date))
    if is_credit(invoice) and invoice.preceding_invoice:
        rows.append(("Corrects invoice", invoice.preceding_invoice))
        if invoice.preceding_invoice_date:
            rows.append(("Invoice date", invoice.preceding_invoice_date))
    return rows


def totals_rows(
    totals: Totals, fmt: Formatter, *, credit: bool = False
) -> tuple[list[tuple[str, Decimal]], tuple[str, Decimal]]:
    """The totals box: ``(rows, total)``. ``rows`` are ``(label, amount)``:
    "Subtotal" (EN 16931 BT-106), one row per VAT rate labelled with the
    rate and its taxable amount, e.g. "VAT 19% on €256.00" (BG-23, BT-117),
    and "Total VAT" (BT-110) when there is more than one rate. ``total`` is
    ``("Total", gross)`` (BT-112), or ``("Total credit", gross)`` for a
    credit note (``credit``): EN 16931 credit notes carry positive amounts,
    so the label, not a minus sign, says the amount is credited. Amounts are
    the model's, never recomputed."""
    rows = [("Subtotal", totals.net)]
    for vat in totals.vat_breakdown:
        rows.append((f"VAT {fmt.percent(vat.rate)} on {fmt.money(vat.taxable_amount)}", vat.tax_amount))
    if len(totals.vat_breakdown) > 1:
        rows.append(("Total VAT", totals.tax))
    return rows, ("Total credit" if credit else "Total", totals.gross)


def thanks(notes: str | None) -> tuple[bool, str]:
    """The thank-you rule: ``(show_notes, thank_you_line)``. Notes that only
    say "Thank you for your business." (any case or spacing) are not repeated
    as notes; they become the thank-you line. Otherwise the notes are shown
    and the line is :data:`THANK_YOU`."""
    text = one_line(notes)
    if text.casefold() == THANK_YOU.casefold():
        return False, text
    return bool(text), THANK_YOU


def parse_locale(locale: str) -> Locale:
    """The Babel locale for a CLDR identifier (``"en_GB"``, ``"de_DE"``).
    Raises ``ValueError`` ("unknown locale …") if CLDR has no such locale."""
    try:
        return Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {locale!r}") from exc


#: (kind, value key, (currency, locale)) -> text.
_FORMATTED: dict[tuple[str, Hashable, tuple[str, str]], str] = {}
_FORMATTED_MAX = 50_000
#: (kind, sign, which digits are non-zero, exponent, (currency, locale)) -> parts, or None.
_SHAPES: dict[tuple[str, int, tuple[bool, ...], int, tuple[str, str]], tuple[str, ...] | None] = {}
_SHAPES_MAX = 10_000


def _as_shape(sign: int, digits: tuple[int, ...], exponent: int, digit: int) -> Decimal:
    """The Decimal ``(sign, digits, exponent)`` with each non-zero digit
    replaced by ``digit``: ``-1203.50`` -> ``-1101.10`` for ``digit`` 1."""
    return Decimal((sign, tuple(digit if d else 0 for d in digits), exponent))


class Formatter:
    """Locale-aware text of the invoice's numbers and dates (Babel, CLDR).

    Babel takes some 30-40 us per number. Quantities, rates, prices and dates
    recur within an invoice and across invoices, so each result is kept per
    process, keyed by the value's exact representation (``as_tuple``:
    ``1.0`` and ``1`` are formatted differently and are different keys),
    the currency and the locale. The cache changes nothing but the speed.
    """

    def __init__(self, currency: str, locale: Locale) -> None:
        self.currency = currency
        self.locale = locale
        self._key = (currency, str(locale))

    def _cached(self, kind: str, key: Hashable, make: Callable[[], str]) -> str:
        full = (kind, key, self._key)
        text = _FORMATTED.get(full)
        if text is None:
            text = make()
            if len(_FORMATTED) >= _FORMATTED_MAX:
                _FORMATTED.clear()
            _FORMATTED[full] = text
        return text

    def _by_shape(self, kind: str, value: Decimal, babel: Callable[[Decimal], str]) -> str:
        """``babel(value)``, computed once per *shape* of the value instead of
        once per value: Babel's output depends on the sign, the exponent and
        which digits are zero (grouping, trailing zeros, padding), not on the
        non-zero digits themselves, which it copies in order. So Babel formats
        the shape with every non-zero digit 1, the text is split at its 1s, and
        the value's non-zero digits go into the gaps. The split is used only
        if the shape with 2s gives the same text with 2s in the same places
        (no other "1" in the text, e.g. in a symbol or in non-Latin digits)
        and shows every non-zero digit (nothing rounded away); otherwise, and
        for NaN or infinity, Babel formats the value itself. Some 20 times
        faster than Babel for the amounts of a long item table."""
        sign, digits, exponent = value.as_tuple()
        if not isinstance(exponent, int):
            return babel(value)
        key = (kind, sign, tuple(bool(d) for d in digits), exponent, self._key)
        parts = _SHAPES.get(key, ())
        if parts == ():
            ones = babel(_as_shape(sign, digits, exponent, 1))
            found: tuple[str, ...] | None = tuple(ones.split("1"))
            shown = sum(1 for d in digits if d)
            if len(found or ()) != shown + 1 or babel(_as_shape(sign, digits, exponent, 2)) != "2".join(found or ()):
                found = None
            if len(_SHAPES) >= _SHAPES_MAX:
                _SHAPES.clear()
            parts = _SHAPES[key] = found
        if parts is None:
            return babel(value)
        nonzero = [str(d) for d in digits if d]
        return parts[0] + "".join(d + part for d, part in zip(nonzero, parts[1:], strict=True))

    def money(self, amount: Decimal) -> str:
        """An amount already rounded to the currency's minor unit, with the
        currency as the locale writes it: '€256.00', '256,00 €', '¥55,358'."""
        return self._cached(
            "money",
            amount.as_tuple(),
            lambda: self._by_shape(
                "money", amount, lambda value: format_currency(value, self.currency, locale=self.locale)
            ),
        )

    def price(self, amount: Decimal) -> str:
        """A unit price: at least the currency's digits, more if given."""
        return self._cached(
            "price",
            amount.as_tuple(),
            lambda: self._by_shape(
                "price",
                amount,
                lambda value: format_currency(value, self.currency, locale=self.locale, decimal_quantization=False),
            ),
        )

    def number(self, value: Decimal) -> str:
        """A quantity or a rate, all significant digits (Decimal('1E+1') -> '10')."""
        return self._cached(
            "number",
            value.as_tuple(),
            lambda: self._by_shape(
                "number", value, lambda shaped: format_decimal(shaped, locale=self.locale, decimal_quantization=False)
            ),
        )

    def percent(self, rate: Decimal) -> str:
        """A rate in percent as the locale writes it: '19%', '7.5%', '19 %'."""
        return self._cached(
            "percent",
            rate.as_tuple(),
            lambda: format_percent(rate / 100, locale=self.locale, decimal_quantization=False),
        )

    def date(self, value: date) -> str:
        """A date in CLDR's "medium" format: '2 Nov 2026', '02.11.2026'."""
        return self._cached("date", value, lambda: format_date(value, format="medium", locale=self.locale))
