"""Credit notes and draft previews as a reader sees them: the PDF's text and
the XLSX's cells (LAYOUT.md, last paragraph)."""

from __future__ import annotations

import dataclasses
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from invoicer.invoice.model import CREDIT_NOTE
from invoicer.invoice.render_pdf import render_pdf
from invoicer.invoice.render_xlsx import render_xlsx

from .conftest import example_invoice, long_invoice


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def credit_note(base=None):
    return dataclasses.replace(
        base or example_invoice(),
        invoice_number="CN-2026-0001",
        due_date=None,
        document_type=CREDIT_NOTE,
        preceding_invoice="INV-2026-0001",
        preceding_invoice_date=date(2026, 11, 2),
    )


def draft(base=None):
    return dataclasses.replace(base or example_invoice(), invoice_number="", draft=True)


def cells(xlsx: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(xlsx)).active
    return [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None]


def test_an_unknown_document_type_is_refused():
    with pytest.raises(ValueError, match="unknown document type"):
        dataclasses.replace(example_invoice(), document_type="receipt")


def test_a_credit_note_pdf_is_titled_names_the_invoice_and_labels_its_credit():
    pdf = render_pdf(credit_note())
    text = "\n".join(pages_text(pdf))
    assert "CREDIT NOTE" in text and "INVOICE\n" not in text
    assert "Credit note no." in text and "CN-2026-0001" in text
    assert "Corrects invoice" in text and "INV-2026-0001" in text
    # EN 16931 type 381: positive amounts, the total labelled as a credit.
    assert "Total credit" in text and "€330.86" in text and "-€330.86" not in text
    assert "Credit note CN-2026-0001" in text  # footer
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "Credit note CN-2026-0001"


def test_a_long_credit_note_keeps_its_title_on_continuation_pages():
    pdf = render_pdf(credit_note(long_invoice()))
    pages = pages_text(pdf)
    assert len(pages) > 1
    assert all("CREDIT NOTE" in page for page in pages)
    assert "CN-2026-0001 (continued)" in pages[1]


def test_a_draft_pdf_says_draft_on_every_page_and_has_no_number():
    invoice = long_invoice()
    pdf = render_pdf(draft(invoice))
    pages = pages_text(pdf)
    assert len(pages) > 1
    for page in pages:
        assert "DRAFT" in page
    text = "\n".join(pages)
    assert "Invoice no." not in text and invoice.invoice_number not in text
    assert "Draft invoice" in text  # footer
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "Draft invoice"


def test_an_issued_invoice_has_no_draft_mark():
    text = "\n".join(pages_text(render_pdf(example_invoice())))
    assert "DRAFT" not in text and "Total credit" not in text


def test_a_credit_note_xlsx_has_its_title_reference_and_credit_total():
    values = cells(render_xlsx(credit_note()))
    assert "CREDIT NOTE" in values and "INVOICE" not in values
    assert "Corrects invoice" in values and "INV-2026-0001" in values
    assert "Total credit" in values
    sheet = load_workbook(io.BytesIO(render_xlsx(credit_note()))).active
    totals = [row for row in sheet.iter_rows(values_only=True) if "Total credit" in row]
    assert totals and totals[0][-1] == pytest.approx(330.86)  # a positive number


def test_a_draft_xlsx_is_marked_and_has_no_number():
    xlsx = render_xlsx(draft())
    values = cells(xlsx)
    assert values[0] == "DRAFT - not a valid invoice"
    assert "Invoice no." not in values and "INV-2026-0001" not in values
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert "DRAFT" in sheet.oddHeader.center.text
    # The item table still starts under a frozen header row with the lines.
    assert "Chai tea, 10 boxes x 20 bags" in values
