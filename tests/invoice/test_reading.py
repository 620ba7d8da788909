"""Reading received invoices (invoicer.invoice.reading): e-invoice XML, text PDFs, the rules,
unreadable input and ``invoicer extract``. Documents are the project's own (the example invoice
rendered by render_pdf) and the two Apache-2.0 Factur-X PDFs in tests/data/einvoice.
OCR is in test_reading_ocr.py (slow)."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from invoicer.invoice.einvoice.validation import extract_from_pdf
from invoicer.invoice.reading import CONFIDENT, extract
from invoicer.invoice.reading.rules import find_fields, parse_amount, parse_dates
from invoicer.invoice.reading.words import Word, group_lines
from invoicer.invoice.render_pdf import render_pdf

from .conftest import example_invoice

DATA = Path(__file__).resolve().parent.parent / "data" / "einvoice"


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_pdf(example_invoice())


def _values(result) -> dict[str, str]:
    return {name: f.value for name, f in result.fields.items()}


def test_factur_x_pdf_is_read_from_its_xml_with_full_confidence():
    result = extract((DATA / "EN16931_Miete.pdf").read_bytes(), "EN16931_Miete.pdf")
    assert result.kind == "einvoice_pdf"
    assert result.error is None
    values = _values(result)
    assert values["supplier_name"] == "MUSTER-Autovermietung"
    assert values["invoice_number"] == "9314110911/00/M/00/N"
    assert values["issue_date"] == "2018-10-01"
    assert values["currency"] == "EUR"
    assert (values["total_net"], values["total_tax"], values["total_gross"]) == ("286.52", "54.44", "340.96")
    assert values["supplier_vat_id"] == "DE136695976"
    assert all(f.confidence == 1.0 and f.source == "xml" and f.page is None for f in result.fields.values())
    assert result.lines, "the EN 16931 profile has lines"
    checks = {c.name: c.ok for c in result.checks}
    assert checks["totals_add_up"] is True
    assert checks["vat_id_valid"] is True
    assert checks["currency_known"] is True


def test_plain_cii_xml_and_a_basic_wl_pdf_without_lines():
    _, xml = extract_from_pdf((DATA / "Facture_DOM_BASICWL.pdf").read_bytes())
    from_xml = extract(xml, "factur-x.xml")
    from_pdf = extract((DATA / "Facture_DOM_BASICWL.pdf").read_bytes(), "Facture_DOM_BASICWL.pdf")
    assert from_xml.kind == "einvoice_xml"
    assert from_pdf.kind == "einvoice_pdf"
    assert _values(from_xml) == _values(from_pdf)
    assert from_xml.value("total_gross") is not None
    assert from_xml.lines == []


UBL = b"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:ID>UBL-42</cbc:ID><cbc:IssueDate>2024-05-07</cbc:IssueDate><cbc:DueDate>2024-06-06</cbc:DueDate>
 <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
 <cac:AccountingSupplierParty><cac:Party>
  <cac:PostalAddress><cbc:StreetName>Main Street 1</cbc:StreetName><cbc:CityName>Utrecht</cbc:CityName>
   <cbc:PostalZone>3500</cbc:PostalZone><cac:Country><cbc:IdentificationCode>NL</cbc:IdentificationCode></cac:Country>
  </cac:PostalAddress>
  <cac:PartyTaxScheme><cbc:CompanyID>NL815254295B01</cbc:CompanyID>
   <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
  <cac:PartyLegalEntity><cbc:RegistrationName>Voorbeeld B.V.</cbc:RegistrationName></cac:PartyLegalEntity>
 </cac:Party></cac:AccountingSupplierParty>
 <cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>
  <cac:PayeeFinancialAccount><cbc:ID>NL91ABNA0417164300</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
 <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">21.00</cbc:TaxAmount></cac:TaxTotal>
 <cac:LegalMonetaryTotal><cbc:TaxExclusiveAmount currencyID="EUR">100.00</cbc:TaxExclusiveAmount>
  <cbc:TaxInclusiveAmount currencyID="EUR">121.00</cbc:TaxInclusiveAmount>
  <cbc:PayableAmount currencyID="EUR">121.00</cbc:PayableAmount></cac:LegalMonetaryTotal>
 <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">2</cbc:InvoicedQuantity>
  <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Consulting</cbc:Name></cac:Item>
  <cac:Price><cbc:PriceAmount currencyID="EUR">50.00</cbc:PriceAmount></cac:Price>
 </cac:InvoiceLine>
</Invoice>"""


def test_ubl_invoice():
    result = extract(UBL, "invoice.xml")
    assert result.kind == "einvoice_xml"
    assert _values(result) == {
        "invoice_number": "UBL-42",
        "issue_date": "2024-05-07",
        "due_date": "2024-06-06",
        "currency": "EUR",
        "iban": "NL91ABNA0417164300",
        "total_tax": "21.00",
        "supplier_name": "Voorbeeld B.V.",
        "supplier_vat_id": "NL815254295B01",
        "supplier_address": "Main Street 1, 3500, Utrecht, NL",
        "total_net": "100.00",
        "total_gross": "121.00",
    }
    assert [(ln.description, ln.quantity, ln.unit_price, ln.net_amount) for ln in result.lines] == [
        ("Consulting", "2", "50.00", "100.00")
    ]
    assert all(c.ok is not False for c in result.checks)


@pytest.mark.parametrize("locale", ["en_GB", "de_DE"])
def test_text_pdf_rendered_by_the_project(locale):
    invoice = example_invoice()
    result = extract(render_pdf(invoice, locale=locale), "invoice.pdf")
    assert result.kind == "text_pdf"
    values = _values(result)
    assert values["supplier_name"] == invoice.seller.name
    assert values["invoice_number"] == invoice.invoice_number
    assert values["issue_date"] == invoice.issue_date.isoformat()
    assert values["due_date"] == invoice.due_date.isoformat()
    assert values["currency"] == "EUR"
    totals = invoice.totals
    assert Decimal(values["total_gross"]) == totals.gross
    assert Decimal(values["total_net"]) == totals.net
    assert Decimal(values["total_tax"]) == totals.tax
    assert values["iban"] == "DE89370400440532013000"
    # The seller's VAT ID (a UK one), not the buyer's (DE987654328), though both check out:
    # two valid VAT IDs on one page leave which is the seller's unconfirmed.
    assert values["supplier_vat_id"] == invoice.seller.vat_id == "GB980780684"
    assert result.fields["supplier_vat_id"].confidence < CONFIDENT
    # Checked values only are confident: the totals add up; the IBAN's check digits hold.
    for name in ("total_gross", "total_net", "total_tax", "iban"):
        assert result.fields[name].confidence >= CONFIDENT
    gross = result.fields["total_gross"]
    assert gross.source == "text"
    assert gross.page == 1
    assert gross.bbox is not None
    assert 0 <= gross.bbox[0] < gross.bbox[2] <= 1
    assert 0 <= gross.bbox[1] < gross.bbox[3] <= 1


def test_unreadable_input_is_a_result_saying_why():
    broken = extract(b"%PDF-1.7\n1 0 obj <<>> garbage", "broken.pdf")
    assert broken.kind == "unreadable"
    assert "cannot be read" in (broken.error or "")
    nothing = extract(b"just some words", "notes.txt")
    assert nothing.kind == "unreadable"
    assert "not a PDF" in (nothing.error or "")
    bad_xml = extract(b"<Invoice><unclosed></Invoice>", "x.xml")
    assert bad_xml.kind == "unreadable"
    assert "well-formed" in (bad_xml.error or "")
    other_root = extract(b"<html/>", "x.xml")
    assert "not a CII or UBL" in (other_root.error or "")


def test_encrypted_pdf(rendered):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(rendered)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    result = extract(buffer.getvalue(), "locked.pdf")
    assert result.kind == "unreadable"
    assert "encrypted" in (result.error or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("EUR 571,04", "571.04"),
        ("€12.50", "12.50"),
        ("-12,50", "-12.50"),
        ("(8.00)", "-8.00"),
        ("RM30.00", "30.00"),
        ("1'234.50 CHF", "1234.50"),
        ("19 %", None),
        ("12", None),
    ],
)
def test_amounts(text, expected):
    value = parse_amount(text)
    assert (str(value) if value is not None else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rechnungsdatum 7. Mai 2014", date(2014, 5, 7)),
        ("le 3 juillet 2019", date(2019, 7, 3)),
        ("Fecha: 7 de mayo de 2014", date(2014, 5, 7)),
        ("Date: May 7, 2014", date(2014, 5, 7)),
        ("31.10.2018", date(2018, 10, 31)),
        ("8-9-2022", date(2022, 9, 8)),
        ("2018-10-31", date(2018, 10, 31)),
        ("10/31/2018", date(2018, 10, 31)),
        ("18/06/2018 08:18", date(2018, 6, 18)),
    ],
)
def test_dates(text, expected):
    assert [d for d, _, _ in parse_dates(text)] == [expected]


def test_month_first_only_when_asked():
    assert parse_dates("03/04/2020")[0][0] == date(2020, 4, 3)
    assert parse_dates("03/04/2020", month_first=True)[0][0] == date(2020, 3, 4)


def _page(*rows: tuple[float, float, str]) -> list:
    """Lines from ``(x, top, text)`` rows set in a monospaced font: each character 0.008 wide
    (spaces too, so that columns line up as typed), each word 0.01 high."""
    import re

    words = []
    for x, top, text in rows:
        for part in re.finditer(r"\S+", text):
            start = x + 0.008 * part.start()
            words.append(Word(part[0], start, top, start + 0.008 * len(part[0]), top + 0.01, 1))
    return group_lines(words)


def test_the_invoice_date_not_the_order_or_due_date_and_the_seller_not_the_buyer():
    lines = _page(
        (0.1, 0.05, "Bestelldatum: 01.03.2021"),
        (0.1, 0.10, "Rechnung an"),
        (0.1, 0.12, "Kaufhaus Muster GmbH"),
        (0.1, 0.14, "Hauptstr. 1"),
        (0.1, 0.16, "12345 Berlin"),
        (0.6, 0.20, "Rechnungsnummer: R-2021-17"),
        (0.6, 0.22, "Rechnungsdatum: 5. März 2021"),
        (0.6, 0.24, "Fällig am: 19.03.2021"),
        (0.5, 0.50, "Nettobetrag 100,00 EUR"),
        (0.5, 0.52, "MwSt. 19 % 19,00 EUR"),
        (0.5, 0.54, "Gesamtbetrag 119,00 EUR"),
        (0.1, 0.90, "Beispiel Werkzeuge GmbH · Hafenweg 2 · 20457 Hamburg"),
        (0.1, 0.92, "USt-IdNr. DE136695976 · IBAN DE89 3704 0044 0532 0130 00"),
    )
    fields = find_fields(lines, "text")
    values = {k: f.value for k, f in fields.items()}
    assert values["issue_date"] == "2021-03-05"
    assert values["due_date"] == "2021-03-19"
    assert values["invoice_number"] == "R-2021-17"
    assert values["supplier_name"] == "Beispiel Werkzeuge GmbH"
    assert values["supplier_vat_id"] == "DE136695976"
    assert values["iban"] == "DE89370400440532013000"
    assert (values["total_net"], values["total_tax"], values["total_gross"]) == ("100.00", "19.00", "119.00")
    assert values["currency"] == "EUR"
    assert fields["total_gross"].confidence >= CONFIDENT
    assert fields["issue_date"].confidence < CONFIDENT, "found once: not checked"


def test_totals_that_do_not_add_up_are_not_confident():
    lines = _page(
        (0.5, 0.50, "Subtotal 100.00"),
        (0.5, 0.52, "VAT 20.00"),
        (0.5, 0.54, "Total 125.00"),
    )
    fields = find_fields(lines, "text")
    assert fields["total_gross"].value == "125.00"
    assert all(fields[n].confidence < CONFIDENT for n in ("total_gross", "total_net", "total_tax"))


def test_invoicer_extract_writes_one_json_per_file(tmp_path, rendered, capsys):
    from invoicer.cli import main

    pdf = tmp_path / "received.pdf"
    pdf.write_bytes(rendered)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 nothing")
    out = tmp_path / "out"
    status = main(["extract", str(pdf), str(broken), "--out", str(out)])
    assert status == 1, "one file could not be read"
    document = json.loads((out / "received.json").read_text(encoding="utf-8"))
    assert document["file"] == "received.pdf"
    assert document["fields"]["invoice_number"]["value"] == "INV-2026-0001"
    assert 0 <= document["fields"]["invoice_number"]["confidence"] <= 1
    assert {c["name"] for c in document["checks"]} >= {"totals_add_up", "dates_plausible", "currency_known"}
    failed = json.loads((out / "broken.json").read_text(encoding="utf-8"))
    assert failed["kind"] == "unreadable"
    assert failed["error"]
    assert "broken.pdf" in capsys.readouterr().err


def test_a_vat_breakdown_table_with_values_under_its_header():
    lines = _page(
        (0.5, 0.40, "Factuur totaal EUR 49,99"),
        (0.55, 0.50, "BTW %   Grondslag   BTW bedrag   Totaal"),
        (0.55, 0.52, "21 %    41,31       8,68         49,99"),
    )
    fields = find_fields(lines, "text")
    assert (fields["total_net"].value, fields["total_tax"].value, fields["total_gross"].value) == (
        "41.31",
        "8.68",
        "49.99",
    )
    assert fields["total_gross"].confidence >= CONFIDENT, "net + tax = gross checks all three"


def test_a_receipt_s_rounded_total_and_a_date_glued_to_its_time():
    lines = _page(
        (0.2, 0.05, "KEDAI CONTOH SDN BHD"),
        (0.2, 0.07, "NO 1 JALAN CONTOH 43300 SELANGOR"),
        (0.1, 0.15, "REG CASHIER 18-03-201811:23"),
        (0.1, 0.50, "Total (Inclusive of GST): 48.16"),
        (0.1, 0.52, "Rounding Adj: -0.01"),
        (0.1, 0.54, "TOTAL: 48.15"),
        (0.1, 0.56, "CASH: 50.00"),
        (0.1, 0.58, "CHANGE: 1.85"),
    )
    fields = find_fields(lines, "ocr")
    assert fields["total_gross"].value == "48.15"
    assert fields["issue_date"].value == "2018-03-18"
    assert fields["supplier_name"].value == "KEDAI CONTOH SDN BHD"
    assert fields["supplier_address"].value.startswith("NO 1 JALAN CONTOH")


def test_a_page_that_came_in_sideways_is_turned_and_a_skew_taken_out(monkeypatch):
    """The orientation logic of ocr.image_words, with the OCR engine replaced by a fake (the real
    engine is exercised in test_reading_ocr.py): tall boxes mean a sideways page, which is turned
    a quarter both ways and read again; the better reading is kept and its skew removed."""
    import math

    from PIL import Image

    from invoicer.invoice.reading import ocr

    def box(x, y, w, h, angle=0.0):
        c, s = math.cos(angle), math.sin(angle)
        return [(x, y), (x + w * c, y + w * s), (x + w * c - h * s, y + w * s + h * c), (x - h * s, y + h * c)]

    def fake_run(image):
        if image.size == (400, 200):  # as scanned: text runs top to bottom
            return [(box(10 + 40 * i, 10, 20, 150), f"word{i}", 0.5) for i in range(6)]
        # Turned: two wide lines, tilted by 2 degrees; the 270-degree turn reads better.
        score = 0.97 if image.info.get("turn") == 270 else 0.6
        tilt = math.radians(2)
        return [(box(20, 30, 150, 12, tilt), "Total 12.50", score), (box(20, 80, 150, 12, tilt), "Invoice 7", score)]

    original_rotate = Image.Image.rotate

    def rotate(self, angle, *args, **kwargs):
        turned = original_rotate(self, angle, *args, **kwargs)
        turned.info["turn"] = angle
        return turned

    monkeypatch.setattr(ocr, "_run", fake_run)
    monkeypatch.setattr(Image.Image, "rotate", rotate)
    words = ocr.image_words(Image.new("RGB", (400, 200), "white"), 1)
    assert [w.text for w in words] == ["Total 12.50", "Invoice 7"]
    assert [w.conf for w in words] == [0.97, 0.97], "the better of the two turns is kept"
    # Deskewed: each box is about as high as the text, not stretched by the 2-degree tilt.
    assert all((w.bottom - w.top) * 400 < 16 for w in words)
