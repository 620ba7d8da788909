"""What the PDF and the XLSX invoice share: labels, the lines of a party
block, the totals rows, the thank-you rule, the colours, and how numbers,
amounts, percentages and dates are written for a locale (Babel/CLDR).

The layout these rules serve is described in ``LAYOUT.md``; each renderer
decides only where and how things are drawn. Nothing here imports ReportLab
or XlsxWriter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from .i18n import Translator, translator
from .model import CREDIT_NOTE, AllowanceCharge, Invoice, Party, PaymentInstructions, Totals

__all__ = [
    "ACCENT",
    "BAND",
    "BANK_TRANSFER",
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
    "VAT_NOTES",
    "ZEBRA",
    "EpcPayment",
    "Formatter",
    "PartyLine",
    "PaymentBlock",
    "document_name",
    "epc_qr_payload",
    "group_iban",
    "is_credit",
    "meta_rows",
    "one_line",
    "parse_locale",
    "party_lines",
    "payment_block",
    "period_text",
    "thanks",
    "title",
    "totals_rows",
    "vat_notes",
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

# Labels: the msgids of the catalogues (invoicer.invoice.i18n), i.e. the
# English text; a document writes ``fmt.tr(LABEL)`` in its own language.
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
VAT_NOTES = "VAT NOTES"
BANK_TRANSFER = "BANK TRANSFER"
UNIT_COLUMN = "UNIT"
"""A column of its own after QTY where the format has typed cells (XLSX);
the PDF writes the unit after the quantity."""

DASH = "\u2013"
"""The en dash between the parts of a VAT note or of a period."""
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


_ENGLISH = translator("en")


def party_lines(party: Party, *, with_name: bool = True, tr: Translator = _ENGLISH) -> list[PartyLine]:
    """The lines of a seller, Bill To or Ship To block, top to bottom:
    name (unless ``with_name`` is false), company, address lines, then
    phone, e-mail and VAT ID when given, labelled in ``tr``'s language.
    Empty fields give no line."""
    lines = [PartyLine("name", party.name)] if with_name else []
    if party.company and party.company.strip():
        lines.append(PartyLine("company", party.company))
    lines += [PartyLine("address", line) for line in party.address_lines]
    for label, value in (("Phone", party.phone), ("Email", party.email), ("VAT ID", party.vat_id)):
        if one_line(value):
            lines.append(PartyLine("contact", f"{tr(label)}: {one_line(value)}"))
    return lines


def is_credit(invoice: Invoice) -> bool:
    """True for a credit note (EN 16931 BT-3 code 381)."""
    return invoice.document_type == CREDIT_NOTE


def title(invoice: Invoice, tr: Translator = _ENGLISH) -> str:
    """The document's title: "INVOICE", or "CREDIT NOTE" for a credit note,
    in ``tr``'s language ("RECHNUNG" / "RECHNUNGSKORREKTUR" in German)."""
    return tr(CREDIT_NOTE_TITLE if is_credit(invoice) else TITLE)


def document_name(invoice: Invoice, tr: Translator = _ENGLISH) -> str:
    """How the document names itself in running text (footer, metadata):
    "Invoice INV-2026-0001", "Credit note CN-2026-0001", or for a draft,
    which has no number, "Draft invoice" / "Draft credit note"; in ``tr``'s
    language ("Rechnung …", "Rechnungskorrektur …")."""
    if invoice.draft:
        return tr("Draft credit note" if is_credit(invoice) else "Draft invoice")
    msgid = "Credit note {number}" if is_credit(invoice) else "Invoice {number}"
    return tr(msgid, number=one_line(invoice.invoice_number))


def meta_rows(invoice: Invoice, tr: Translator = _ENGLISH) -> list[tuple[str, str | date]]:
    """``(label, value)`` rows of the title block: the number (text; none
    for a draft, which has no number yet), issue date and, when given, due
    date (dates). A credit note's number is "Credit note no." and it names
    the invoice it corrects, "Corrects invoice" (EN 16931 BT-25) and that
    invoice's date, "Invoice date" (BT-26), when given. Then, when given,
    "Buyer reference" (BT-10), "Order reference" (BT-13), "Delivery date"
    (BT-72) and "Invoicing period" (BG-14, a ``(start, end)`` pair of dates
    becomes the text the caller formats: see :func:`period_text`). Labels in
    ``tr``'s language."""
    label = "Credit note no." if is_credit(invoice) else "Invoice no."
    rows: list[tuple[str, str | date]] = [] if invoice.draft else [(tr(label), invoice.invoice_number)]
    rows.append((tr("Issue date"), invoice.issue_date))
    if invoice.due_date:
        rows.append((tr("Due date"), invoice.due_date))
    if is_credit(invoice) and invoice.preceding_invoice:
        rows.append((tr("Corrects invoice"), invoice.preceding_invoice))
        if invoice.preceding_invoice_date:
            rows.append((tr("Invoice date"), invoice.preceding_invoice_date))
    if one_line(invoice.buyer_reference):
        rows.append((tr("Buyer reference"), one_line(invoice.buyer_reference)))
    if one_line(invoice.order_reference):
        rows.append((tr("Order reference"), one_line(invoice.order_reference)))
    if invoice.delivery_date:
        rows.append((tr("Delivery date"), invoice.delivery_date))
    return rows


def period_text(invoice: Invoice, fmt: Formatter) -> tuple[str, str] | None:
    """The invoicing period (EN 16931 BG-14, BT-73/74) as a title-block row,
    ``("Invoicing period", "1 Nov 2026 - 30 Nov 2026")`` (with an en dash),
    or ``None``."""
    if invoice.invoicing_period is None:
        return None
    start, end = invoice.invoicing_period
    return fmt.tr("Invoicing period"), f"{fmt.date(start)} {DASH} {fmt.date(end)}"


def totals_rows(
    totals: Totals,
    fmt: Formatter,
    *,
    credit: bool = False,
    allowances: Sequence[AllowanceCharge] = (),
    charges: Sequence[AllowanceCharge] = (),
) -> tuple[list[tuple[str, Decimal]], tuple[str, Decimal]]:
    """The totals box: ``(rows, total)``. ``rows`` are ``(label, amount)``:
    "Subtotal" (EN 16931 BT-106); when the document has allowances or
    charges (BG-20/21), one row per allowance ("Allowance: <reason>", the
    amount negative) and per charge ("Charge: <reason>"), then "Total without
    VAT" (BT-109 = BT-106 - BT-107 + BT-108); one row per VAT rate labelled
    with the rate and its taxable amount, e.g. "VAT 19% on €256.00" (BG-23,
    BT-117), and "Total VAT" (BT-110) when there is more than one rate.
    ``total`` is ``("Total", gross)`` (BT-112), or ``("Total credit",
    gross)`` for a credit note (``credit``): EN 16931 credit notes carry
    positive amounts, so the label, not a minus sign, says the amount is
    credited. Labels in ``fmt.tr``'s language. Amounts are the model's,
    never recomputed. ``allowances`` and ``charges`` are the invoice's
    (:attr:`~invoicer.invoice.model.Invoice.allowances`); without them the
    rows are those of an invoice that has none."""
    tr = fmt.tr
    if allowances or charges:
        rows = [(tr("Subtotal"), totals.line_total)]
        for item in allowances:
            rows.append((_with_reason(tr("Allowance"), item.reason), -item.amount))
        for item in charges:
            rows.append((_with_reason(tr("Charge"), item.reason), item.amount))
        rows.append((tr("Total without VAT"), totals.net))
    else:
        rows = [(tr("Subtotal"), totals.net)]
    for vat in totals.vat_breakdown:
        label = tr("VAT {rate} on {amount}", rate=fmt.percent(vat.rate), amount=fmt.money(vat.taxable_amount))
        rows.append((label, vat.tax_amount))
    if len(totals.vat_breakdown) > 1:
        rows.append((tr("Total VAT"), totals.tax))
    return rows, (tr("Total credit" if credit else "Total"), totals.gross)


def _with_reason(label: str, reason: str | None) -> str:
    return f"{label}: {one_line(reason)}" if one_line(reason) else label


# What a VAT category other than standard rate means (EN 16931 BT-118, UNCL 5305).
_CATEGORY_TEXT = {
    "AE": "Reverse charge",
    "K": "Intra-Community supply",
    "E": "Exempt from VAT",
    "G": "Export outside the EU",
    "O": "Not subject to VAT",
    "Z": "Zero rated",
}


def vat_notes(totals: Totals, fmt: Formatter) -> list[str]:
    """What the VAT breakdown must say besides its numbers, one text per
    breakdown line (EN 16931 BG-23) of a category other than standard rate
    or with an exemption reason: the category in words ("Reverse charge" for
    AE, "Intra-Community supply" for K, ...; BT-118), the line's rate and
    taxable amount, and its exemption reason (BT-120) when given, e.g.
    "Reverse charge - VAT 0% on €1,000.00: Reverse charge (Art. 196
    Directive 2006/112/EC)". A zero-rated line (Z) without a reason says
    nothing. In ``fmt.tr``'s language; the reason is the user's text."""
    tr, notes = fmt.tr, []
    for vat in totals.vat_breakdown:
        category = (vat.category or "").upper()
        reason = one_line(vat.exemption_reason)
        words = _CATEGORY_TEXT.get(category)
        if not reason and (words is None or category == "Z"):
            continue
        rate = tr("VAT {rate} on {amount}", rate=fmt.percent(vat.rate), amount=fmt.money(vat.taxable_amount))
        text = f"{tr(words)} {DASH} {rate}" if words else rate
        notes.append(f"{text}: {reason}" if reason else text)
    return notes


def group_iban(iban: str) -> str:
    """An IBAN in groups of four, as printed (ISO 13616-1 "paper format"):
    ``"DE02120300000000202051"`` -> ``"DE02 1203 0000 0000 2020 51"``."""
    compact = "".join(iban.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


@dataclass(frozen=True, slots=True)
class PaymentBlock:
    """The "Bank transfer" block (EN 16931 BG-16, BT-81 code 58):
    ``title``, ``rows`` of ``(label, value)`` (account holder BT-85, IBAN
    BT-84 grouped by four, BIC BT-86, payment reference BT-83) and the EPC
    QR code's payload (``qr``, :func:`epc_qr_payload`) or ``None``."""

    title: str
    rows: list[tuple[str, str]]
    qr: EpcPayment | None


@dataclass(frozen=True, slots=True)
class EpcPayment:
    """What an EPC069-12 QR code ("GiroCode") asks a banking app to pay:
    ``name`` (the beneficiary, at most 70 characters), ``iban`` (compact),
    ``bic`` (or ``None``), ``amount`` (EUR, 0.01 to 999 999 999.99) and
    ``text`` (unstructured remittance information, at most 140 characters)."""

    name: str
    iban: str
    bic: str | None
    amount: Decimal
    text: str


def _reference(invoice: Invoice, payment: PaymentInstructions) -> str:
    """The payment reference (BT-83): the given one, else the invoice number."""
    return one_line(payment.reference) or one_line(invoice.invoice_number)


def epc_qr_payload(invoice: Invoice) -> EpcPayment | None:
    """The payment an EPC QR code on ``invoice`` asks for, or ``None`` when
    the document must not carry one: only an issued invoice (not a draft,
    which has no number and is not payable, and never a credit note, which
    is not paid by its recipient) in EUR whose payment instructions give an
    IBAN, with a gross amount of 0.01 to 999 999 999.99 EUR (EPC069-12 §5.3)
    and a beneficiary name of at most 70 characters.

    The amount is the invoice's gross (BT-112): the balance due at issue.
    Documents are not re-rendered after payment, so a code never asks for
    money already paid. The reference (BT-83, else the invoice number) is
    cut to the standard's 140 characters."""
    payment = invoice.payment
    if payment is None or not one_line(payment.iban):
        return None
    if invoice.draft or is_credit(invoice) or invoice.currency != "EUR":
        return None
    amount = invoice.totals.gross
    if not Decimal("0.01") <= amount <= Decimal("999999999.99"):
        return None
    name = one_line(payment.account_name) or one_line(invoice.seller.company) or one_line(invoice.seller.name)
    if not name or len(name) > 70:
        return None
    return EpcPayment(
        name=name,
        iban="".join((payment.iban or "").split()).upper(),
        bic=one_line(payment.bic).replace(" ", "").upper() or None,
        amount=amount,
        text=_reference(invoice, payment)[:140],
    )


def payment_block(invoice: Invoice, tr: Translator = _ENGLISH) -> PaymentBlock | None:
    """The payment block of ``invoice``, or ``None`` when its payment
    instructions (BG-16) give no IBAN. A draft shows the bank account (so
    that a preview looks like the document) with its reference if one was
    given, but no QR code (:func:`epc_qr_payload`)."""
    payment = invoice.payment
    if payment is None or not one_line(payment.iban):
        return None
    rows: list[tuple[str, str]] = []
    if one_line(payment.account_name):
        rows.append((tr("Account holder"), one_line(payment.account_name)))
    rows.append(("IBAN", group_iban(payment.iban or "")))
    if one_line(payment.bic):
        rows.append(("BIC", one_line(payment.bic).upper()))
    reference = _reference(invoice, payment)
    if reference:
        rows.append((tr("Payment reference"), reference))
    return PaymentBlock(tr(BANK_TRANSFER), rows, epc_qr_payload(invoice))


def thanks(notes: str | None, tr: Translator = _ENGLISH) -> tuple[bool, str]:
    """The thank-you rule: ``(show_notes, thank_you_line)``. Notes that only
    say "Thank you for your business." (any case or spacing; in English or
    in ``tr``'s language) are not repeated as notes; they become the
    thank-you line. Otherwise the notes are shown and the line is
    :data:`THANK_YOU` in ``tr``'s language."""
    text = one_line(notes)
    if text.casefold() in (THANK_YOU.casefold(), tr(THANK_YOU).casefold()):
        return False, text if tr(THANK_YOU) == THANK_YOU else tr(THANK_YOU)
    return bool(text), tr(THANK_YOU)


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
        self.tr = translator(locale)
        """The labels in the locale's language (:mod:`invoicer.invoice.i18n`)."""
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
