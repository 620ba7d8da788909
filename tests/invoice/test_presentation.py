"""The rules both documents share (invoice/presentation.py) show the same in
the PDF (its text, read with pypdf) and in the XLSX (its cells, read with
openpyxl)."""

from __future__ import annotations

import dataclasses
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

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
        "de_DE": ["Subtotal", "VAT 19 % on 256,00 €", "VAT 7 % on 24,50 €", "Total VAT", "Total"],
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
        "VAT ID: DE987654321",
        "Phone: +44 117 496 0123",
        "VAT ID: GB123456789",
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
