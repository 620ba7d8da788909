"""Documents a person can read and pay (issue 18): labels in the client's
language from the gettext catalogues, legal wording, the bank account with
its EPC QR code, the VAT categories in words, allowances and charges, the
logo."""

from __future__ import annotations

import io
import re
import tomllib
import zipfile
from dataclasses import replace
from datetime import date
from decimal import Decimal
from fnmatch import fnmatch
from importlib.resources import files
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from babel.messages.pofile import read_po
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from invoicer.invoice import presentation as pr
from invoicer.invoice.i18n import LANGUAGES, catalogue, language_of, placeholders, translator
from invoicer.invoice.model import CREDIT_NOTE, AllowanceCharge, Invoice, Line, PaymentInstructions
from invoicer.invoice.render_pdf import render_pdf
from invoicer.invoice.render_xlsx import render_xlsx

from .conftest import example_invoice

IBAN = "DE02120300000000202051"
PAYMENT = PaymentInstructions(
    iban=IBAN, bic="BYLADEM1001", account_name="Northwind Traders Ltd", reference="RF18539007547034"
)


def paid_by_transfer(**changes: object) -> Invoice:
    return replace(example_invoice(), **{"payment": PAYMENT, **changes})  # type: ignore[arg-type]


def credit_note(invoice: Invoice) -> Invoice:
    return replace(
        invoice,
        invoice_number="CN-2026-0001",
        document_type=CREDIT_NOTE,
        preceding_invoice="INV-2026-0001",
        preceding_invoice_date=date(2026, 11, 2),
    )


def pdf_text(data: bytes) -> str:
    """The text of every page, spaces of every width as one kind."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\xa0", " ").replace("\u202f", " ")


def flowing(text: str) -> str:
    """``text`` with every run of white space (line breaks of wrapped text) as one space."""
    return " ".join(text.split())


def qr_codes(data: bytes, page: int = 0) -> list[str]:
    """The QR codes a reader finds on the rendered page (150 dpi or so)."""
    image = pdfium.PdfDocument(data)[page].render(scale=2).to_pil()
    return [code.text for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.BarcodeFormat.QRCode]


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#1F63C6").save(buffer, "PNG")
    return buffer.getvalue()


# -- catalogues ---------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_translates_every_label(language):
    source = catalogue("en")
    path = files("invoicer.invoice") / "locale" / language / "LC_MESSAGES" / "invoicer.po"
    with path.open("rb") as po:
        messages = {m.id: m for m in read_po(po) if m.id}
    assert set(messages) == set(source), "a catalogue has exactly the labels of the English one"
    for msgid, message in messages.items():
        assert message.string and message.string.strip(), f"{language}: {msgid!r} has no translation"
        assert not message.fuzzy, f"{language}: {msgid!r} is fuzzy"
        assert placeholders(message.string) == placeholders(msgid), f"{language}: {msgid!r} fields differ"


def test_every_label_the_documents_use_is_in_the_catalogue():
    labels = [pr.TITLE, pr.CREDIT_NOTE_TITLE, pr.DRAFT, pr.BILL_TO, pr.SHIP_TO, pr.PAYMENT_TERMS, pr.NOTES]
    labels += [pr.THANK_YOU, pr.UNIT_COLUMN, pr.VAT_NOTES, pr.BANK_TRANSFER, *pr.COLUMNS]
    assert set(labels) <= set(catalogue("en"))
    with pytest.raises(KeyError):
        translator("de")("No such label")


@pytest.mark.parametrize(
    ("language", "invoice", "credit_note"),
    [
        ("de", "Rechnung", "Rechnungskorrektur"),
        ("fr", "Facture", "Avoir"),
        ("nl", "Factuur", "Creditnota"),
        ("es", "Factura", "Factura rectificativa"),
        ("it", "Fattura", "Nota di credito"),
        ("pl", "Faktura", "Faktura korygująca"),
        ("pt", "Fatura", "Nota de crédito"),
        ("en", "Invoice", "Credit note"),
    ],
)
def test_documents_carry_each_countrys_legal_name(language, invoice, credit_note):
    tr = translator(language)
    assert tr("Invoice") == invoice
    assert tr("Credit note") == credit_note
    assert tr(pr.TITLE) == invoice.upper()
    assert tr(pr.CREDIT_NOTE_TITLE) == credit_note.upper()


def test_no_german_label_says_gutschrift():
    # In German VAT law a "Gutschrift" is self-billing (§ 14 (2) UStG), not a credit note.
    assert not [text for text in catalogue("de").values() if "gutschrift" in text.casefold()]


@pytest.mark.parametrize(("locale", "language"), [("de_DE", "de"), ("de_AT", "de"), ("fr_BE", "fr"), ("sv_SE", "en")])
def test_language_follows_the_locale_and_falls_back_to_english(locale, language):
    assert language_of(locale) == language


# -- German PDF and XLSX -------------------------------------------------------


def test_german_invoice_reads_german():
    text = pdf_text(render_pdf(paid_by_transfer(), locale="de_DE"))
    for expected in ("RECHNUNG", "Rechnung INV-2026-0001", "Rechnungsnr.", "RECHNUNGSEMPFÄNGER", "LIEFERADRESSE"):
        assert expected in text
    assert "18,00 €" in text and "330,86 €" in text
    assert "02.11.2026" in text and "02.12.2026" in text
    assert "USt. 19 % auf 256,00 €" in text
    assert "Gesamtbetrag" in text and "Seite 1 von 1" in text
    assert "Vielen Dank für Ihren Auftrag." in text
    for english in ("INVOICE", "BILL TO", "Subtotal", "Page 1 of 1", "Thank you"):
        assert english not in text


def test_german_credit_note_is_a_rechnungskorrektur():
    text = pdf_text(render_pdf(credit_note(paid_by_transfer()), locale="de_DE"))
    assert "RECHNUNGSKORREKTUR" in text and "Rechnungskorrektur CN-2026-0001" in text
    assert "Korrigiert Rechnung" in text and "Korrekturbetrag" in text
    assert "gutschrift" not in text.casefold()


def test_french_draft_is_marked_in_french():
    text = pdf_text(render_pdf(replace(paid_by_transfer(), draft=True, invoice_number=""), locale="fr_FR"))
    assert "BROUILLON" in text and "Brouillon de facture" in text and "FACTURE" in text


def test_german_xlsx_reads_german():
    ws = load_workbook(io.BytesIO(render_xlsx(paid_by_transfer(), locale="de_DE"))).active
    assert ws.title == "Rechnung"
    cells = {cell.value for row in ws.iter_rows() for cell in row if cell.value is not None}
    assert {"RECHNUNG", "Rechnungsnr.", "RECHNUNGSEMPFÄNGER", "BESCHREIBUNG", "Gesamtbetrag"} <= cells
    assert {"BANKÜBERWEISUNG", "DE02 1203 0000 0000 2020 51", "BYLADEM1001", "Verwendungszweck"} <= cells


def test_english_stays_the_default():
    text = pdf_text(render_pdf(paid_by_transfer()))
    assert "INVOICE" in text and "BANK TRANSFER" in text and "Page 1 of 1" in text


# -- payment block and EPC QR code ---------------------------------------------


def test_iban_is_printed_in_groups_of_four():
    assert pr.group_iban("de02 1203 00000000202051") == "DE02 1203 0000 0000 2020 51"
    text = pdf_text(render_pdf(paid_by_transfer(), locale="en_GB"))
    assert "DE02 1203 0000 0000 2020 51" in text
    assert "BYLADEM1001" in text and "Northwind Traders Ltd" in text and "RF18539007547034" in text


def test_epc_qr_code_reads_as_the_payment():
    invoice = paid_by_transfer()
    (payload,) = qr_codes(render_pdf(invoice, locale="de_DE"))
    lines = payload.split("\n")
    # EPC069-12: service tag, version, character set, SEPA credit transfer, BIC, name, IBAN, amount, ..., text.
    assert lines[0] == "BCD"
    assert lines[3] == "SCT"
    assert lines[4] == "BYLADEM1001"
    assert lines[5] == "Northwind Traders Ltd"
    assert lines[6] == IBAN
    assert lines[7] == f"EUR{invoice.totals.gross}" == "EUR330.86"
    assert lines[-1] == "RF18539007547034"


def test_reference_defaults_to_the_invoice_number():
    invoice = paid_by_transfer(payment=replace(PAYMENT, reference=None))
    (payload,) = qr_codes(render_pdf(invoice))
    assert payload.split("\n")[-1] == "INV-2026-0001"


@pytest.mark.parametrize(
    "invoice",
    [
        pytest.param(credit_note(paid_by_transfer()), id="credit note"),
        pytest.param(paid_by_transfer(currency="USD"), id="not EUR"),
        pytest.param(paid_by_transfer(draft=True, invoice_number=""), id="draft"),
    ],
)
def test_no_qr_code_where_nothing_is_to_be_paid_in_euro(invoice):
    data = render_pdf(invoice, locale="de_DE")
    assert qr_codes(data) == []
    assert "DE02 1203 0000 0000 2020 51" in pdf_text(data)  # the account is still shown
    assert pr.epc_qr_payload(invoice) is None


def test_no_payment_block_without_an_iban():
    for invoice in (example_invoice(), paid_by_transfer(payment=PaymentInstructions(bic="BYLADEM1001"))):
        data = render_pdf(invoice)
        assert "BANK TRANSFER" not in pdf_text(data)
        assert qr_codes(data) == []


# -- VAT categories, allowances and charges ------------------------------------


def reverse_charge_invoice() -> Invoice:
    reason = "Reverse charge: Art. 196 Council Directive 2006/112/EC"
    lines = (
        Line(
            1,
            "Consulting, November",
            Decimal("10"),
            Decimal("100.00"),
            Decimal("0"),
            "hour",
            tax_category="AE",
            exemption_reason=reason,
        ),
    )
    return replace(example_invoice(), lines=lines)


def test_reverse_charge_is_said_in_words_with_its_reason():
    text = flowing(pdf_text(render_pdf(reverse_charge_invoice())))
    assert "VAT NOTES" in text
    assert "Reverse charge – VAT 0% on €1,000.00: Reverse charge: Art. 196 Council Directive 2006/112/EC" in text
    german = flowing(pdf_text(render_pdf(reverse_charge_invoice(), locale="de_DE")))
    assert "Steuerschuldnerschaft des Leistungsempfängers" in german
    assert "Art. 196 Council Directive 2006/112/EC" in german
    french = pdf_text(render_pdf(reverse_charge_invoice(), locale="fr_FR"))
    assert "Autoliquidation" in french


def test_intra_community_supply_is_said_in_words():
    line = Line(
        1,
        "Machine",
        Decimal("1"),
        Decimal("5000.00"),
        Decimal("0"),
        tax_category="K",
        exemption_reason="Intra-Community supply, Art. 138 Directive 2006/112/EC",
    )
    text = flowing(pdf_text(render_pdf(replace(example_invoice(), lines=(line,)), locale="en_GB")))
    assert "Intra-Community supply – VAT 0% on €5,000.00: Intra-Community supply, Art. 138" in text


def test_standard_rate_invoice_has_no_vat_notes():
    assert "VAT NOTES" not in pdf_text(render_pdf(example_invoice()))


def test_allowances_and_charges_are_in_the_totals_box():
    invoice = replace(
        example_invoice(),
        allowances=(AllowanceCharge(Decimal("20.00"), "Loyalty discount", Decimal("19")),),
        charges=(AllowanceCharge(Decimal("5.00"), "Packing", Decimal("19")),),
    )
    text = pdf_text(render_pdf(invoice))
    assert "Subtotal €280.50" in text
    assert "Allowance: Loyalty discount -€20.00" in text
    assert "Charge: Packing €5.00" in text
    assert f"Total without VAT €{invoice.totals.net}" in text
    assert f"€{invoice.totals.gross}" in text
    cells = [
        [c.value for c in row if c.value is not None]
        for row in load_workbook(io.BytesIO(render_xlsx(invoice, locale="de_DE"))).active.iter_rows()
    ]
    assert ["Nachlass: Loyalty discount", -20.0] in cells and ["Zuschlag: Packing", 5.0] in cells


# -- logo -----------------------------------------------------------------------


@pytest.mark.parametrize(("size", "expected"), [((600, 200), (153.07, 51.02)), ((100, 100), (51.02, 51.02))])
def test_logo_is_drawn_at_18_mm_and_never_distorted(size, expected):
    data = render_pdf(paid_by_transfer(logo=png(*size)), locale="de_DE")
    page = pdfium.PdfDocument(data)[0]
    (image,) = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])
    left, bottom, right, top = image.get_bounds()
    assert (round(right - left, 2), round(top - bottom, 2)) == expected
    assert left == pytest.approx(54.0)  # the left margin: top left of the page
    assert top == pytest.approx(page.get_height() - 50.0)
    assert "Northwind Traders Ltd" in pdf_text(data)  # the seller block is still there


def test_a_very_wide_logo_keeps_its_shape_within_the_seller_block():
    data = render_pdf(paid_by_transfer(logo=png(4000, 100)))
    (image,) = pdfium.PdfDocument(data)[0].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])
    left, bottom, right, top = image.get_bounds()
    assert (right - left) / (top - bottom) == pytest.approx(40, rel=0.01)
    assert right - left < 595 * 0.6


def test_no_logo_no_image():
    page = pdfium.PdfDocument(render_pdf(example_invoice()))[0]
    assert list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])) == []


# -- every language, and data a QR code cannot carry --------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_renders_every_block(language):
    tr = translator(language)
    invoice = paid_by_transfer(logo=png(300, 100), lines=reverse_charge_invoice().lines)
    for document in (invoice, credit_note(invoice), replace(invoice, draft=True, invoice_number="")):
        text = flowing(pdf_text(render_pdf(document, locale=language)))
        assert pr.title(document, tr) in text
        assert tr(pr.BANK_TRANSFER) in text and tr("Reverse charge") in text
        assert tr("Page {page} of {pages}", page=1, pages=1) in text
        ws = load_workbook(io.BytesIO(render_xlsx(document, locale=language))).active
        cells = {cell.value for row in ws.iter_rows() for cell in row if cell.value is not None}
        assert pr.title(document, tr) in cells and tr(pr.BANK_TRANSFER) in cells


def test_a_name_too_long_for_the_qr_code_is_printed_whole_without_a_code():
    name = "Northwind Traders and Sons International Holding Company of Bristol Limited"  # 76 > 70
    data = render_pdf(paid_by_transfer(payment=replace(PAYMENT, account_name=name)))
    assert name in flowing(pdf_text(data))
    assert qr_codes(data) == []


def test_an_iban_the_qr_encoder_refuses_gives_no_code_and_no_error():
    data = render_pdf(paid_by_transfer(payment=replace(PAYMENT, iban="XX")))
    assert "XX" in pdf_text(data)
    assert qr_codes(data) == []


def test_the_catalogues_ship_in_the_wheel():
    # The image installs a wheel: its package data must name every catalogue.
    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = root / "src" / "invoicer" / "invoice"
    catalogues = sorted(path.relative_to(package).as_posix() for path in package.glob("locale/*/LC_MESSAGES/*.po"))
    assert len(catalogues) == len(LANGUAGES)
    for path in catalogues:
        assert any(fnmatch(path, pattern) for pattern in patterns["invoicer.invoice"]), path


@pytest.mark.parametrize("size", [(600, 200), (100, 100)])
def test_the_sheet_shows_the_logo_18_mm_high_above_the_seller(size):
    data = render_xlsx(paid_by_transfer(logo=png(*size)), locale="de_DE")
    with zipfile.ZipFile(io.BytesIO(data)) as xlsx:
        assert [name for name in xlsx.namelist() if name.startswith("xl/media/")] == ["xl/media/image1.png"]
        drawing = xlsx.read("xl/drawings/drawing1.xml").decode()
    cx, cy = (int(v) for v in re.search(r'<a:ext cx="(\d+)" cy="(\d+)"', drawing).groups())
    assert cy == pytest.approx(18 * 36_000, rel=0.01)  # EMU: 36 000 a millimetre
    assert cx / cy == pytest.approx(size[0] / size[1], rel=0.02)
    assert re.search(r"<xdr:from><xdr:col>0</xdr:col>.*?<xdr:row>0</xdr:row>", drawing)
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A2"].value == "Northwind Traders Ltd"


def test_a_jpeg_logo_is_drawn_too():
    buffer = io.BytesIO()
    Image.new("RGB", (300, 150), "#1B2B4B").save(buffer, "JPEG")
    invoice = paid_by_transfer(logo=buffer.getvalue())
    (image,) = pdfium.PdfDocument(render_pdf(invoice))[0].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])
    left, bottom, right, top = image.get_bounds()
    assert (round(right - left, 2), round(top - bottom, 2)) == (102.05, 51.02)
    with zipfile.ZipFile(io.BytesIO(render_xlsx(invoice))) as xlsx:
        assert "xl/media/image1.jpeg" in xlsx.namelist()
