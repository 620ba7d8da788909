"""The rules both documents share (invoice/presentation.py) show the same in
the PDF (its text, read with pypdf) and in the XLSX (its cells, read with
openpyxl)."""

from __future__ import annotations

import dataclasses
import io
import random
from decimal import Decimal

import pytest
from babel import Locale
from babel.numbers import format_currency, format_decimal
from openpyxl import load_workbook
from pypdf import PdfReader

from invoicer.invoice.presentation import Formatter
from invoicer.invoice.render_pdf import render_pdf
from invoicer.invoice.render_xlsx import render_xlsx


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def xlsx_strings(data: bytes) -> list[str]:
    ws = load_workbook(io.BytesIO(data)).active
    return [cell.value for row in ws.iter_rows() for cell in row if isinstance(cell.value, str)]


def normal(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


@pytest.mark.parametrize("locale", ["en_GB", "de_DE"])
def test_totals_labels_are_the_same_in_both(example, locale):
    text = normal(pdf_text(render_pdf(example, locale=locale)))
    cells = [normal(s) for s in xlsx_strings(render_xlsx(example, locale=locale))]
    expected = {
        "en_GB": ["Subtotal", "VAT 19% on €256.00", "VAT 7% on €24.50", "Total VAT", "Total"],
        # German labels from the catalogue (invoice/i18n.py), German numbers from CLDR.
        "de_DE": ["Zwischensumme", "USt. 19 % auf 256,00 €", "USt. 7 % auf 24,50 €", "Summe USt.", "Gesamtbetrag"],
    }[locale]
    for label in expected:
        assert label in text, label
        assert label in cells, label


def test_party_lines_are_the_same_in_both(example):
    text = pdf_text(render_pdf(example))
    cells = xlsx_strings(render_xlsx(example))
    for line in (
        "Maria Anders",
        "Alfreds Futterkiste",
        "Obere Str. 57",
        "12209 Berlin",
        "Email: maria.anders@alfreds.example",
        "VAT ID: DE987654328",
        "Phone: +44 117 496 0123",
        "VAT ID: GB980780684",
        "BILL TO",
        "SHIP TO",
        "INVOICE",
    ):
        assert line in text, line
        assert line in cells, line


@pytest.mark.parametrize(
    ("notes", "shown", "thanks"),
    [
        ("Thank you for your business.", False, "Thank you for your business."),
        ("  THANK YOU for your\nbusiness.  ", False, "THANK YOU for your business."),
        ("Deliver to the back door.", True, "Thank you for your business."),
        (None, False, "Thank you for your business."),
    ],
)
def test_the_thank_you_rule_is_the_same_in_both(example, notes, shown, thanks):
    invoice = dataclasses.replace(example, notes=notes)
    text = pdf_text(render_pdf(invoice))
    cells = xlsx_strings(render_xlsx(invoice))
    assert ("NOTES" in text) is shown
    assert ("NOTES" in cells) is shown
    assert thanks in text
    assert thanks in cells


@pytest.mark.parametrize("locale", ["en_GB", "de_CH", "hi_IN", "ar_EG", "fa_IR", "sv_SE", "ja_JP"])
@pytest.mark.parametrize("currency", ["EUR", "JPY", "KWD", "INR", "CLF"])
def test_amounts_read_exactly_as_babel_writes_them(locale, currency):
    # The Formatter formats one value per shape with Babel and fills in the
    # digits of the others; every text must still be Babel's own (Indian
    # grouping, Arabic and Persian digits, narrow spaces, 0 to 4 decimals).
    rng = random.Random(f"{locale}{currency}")
    fmt = Formatter(currency, Locale.parse(locale))
    values = [Decimal(v) for v in ("0", "-0", "0.00", "1E+1", "-5E+2", "100", "1000000", "0.001", "10.10", "0.995")]
    for _ in range(300):
        digits = tuple(rng.choice((0, 0, 1, 2, 5, 7, 9)) for _ in range(rng.randint(1, 16)))
        values.append(Decimal((rng.random() < 0.2, digits, rng.randint(-6, 2))))
    for value in values:
        assert fmt.money(value) == format_currency(value, currency, locale=locale), value
        assert fmt.price(value) == format_currency(value, currency, locale=locale, decimal_quantization=False), value
        assert fmt.number(value) == format_decimal(value, locale=locale, decimal_quantization=False), value
