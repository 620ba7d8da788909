"""The PDF invoice as a reader sees it: its text (extracted with pypdf), its
pages, fonts and metadata, and where its text lies on the page."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.pdfbase import pdfmetrics

from invoicer.invoice.model import Invoice, Line, Party
from invoicer.invoice.render_pdf import render_pdf
from invoicer.invoice.typefaces import register_fonts

A4_W, A4_H = 595.28, 841.89
LETTER_W, LETTER_H = 612.0, 792.0
MARGIN = 54.0  # left and right margins of the layout, in points


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def text_of(pdf: bytes) -> str:
    return "\n".join(pages_text(pdf))


def shown_strings(pdf: bytes) -> list[list[tuple[float, float, float]]]:
    """Per page: (x, y, width) in points of every string shown (``Tj``),
    read from the content stream; widths from the embedded fonts' /Widths."""
    reader = PdfReader(io.BytesIO(pdf))
    out = []
    for page in reader.pages:
        fonts = {name: ref.get_object() for name, ref in page["/Resources"]["/Font"].items()}
        found: list[tuple[float, float, float]] = []
        font, size, x, y, char_space = None, 0.0, 0.0, 0.0, 0.0
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"Tf":
                font, size = fonts[operands[0]], float(operands[1])
            elif op == b"Tm":
                x, y = float(operands[4]), float(operands[5])
            elif op == b"Tc":
                char_space = float(operands[0])
            elif op == b"Tj":
                string = operands[0]
                raw = string.get_original_bytes() if hasattr(string, "get_original_bytes") else bytes(string)
                widths, first = font["/Widths"], int(font["/FirstChar"])
                width = sum(float(widths[code - first]) for code in raw) * size / 1000 + char_space * len(raw)
                found.append((x, y, width))
                x += width
        out.append(found)
    return out


# -- content -----------------------------------------------------------------


def test_example_shows_parties_number_totals_and_vat_lines(example):
    text = text_of(render_pdf(example))
    for expected in (
        "Northwind Traders Ltd",
        "Maria Anders",
        "Alfreds Futterkiste",
        "INV-2026-0001",
        "2 Nov 2026",  # issue date, en_GB medium
        "2 Dec 2026",  # due date
        "€280.50",  # subtotal
        "VAT 19% on €256.00",
        "€48.64",
        "VAT 7% on €24.50",
        "€1.72",
        "€330.86",  # gross total
        "€216.00",  # line total of 12 x 18.00
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert "$" not in text


def test_item_table_header_and_rows(example):
    text = text_of(render_pdf(example))
    for header in ("ITEM #", "DESCRIPTION", "QTY", "UNIT PRICE", "VAT %", "TOTAL"):
        assert header in text
    assert "Chai tea, 10 boxes x 20 bags" in text
    assert "12 box" in text
    assert "Recipe book: Cajun cooking" in text


def test_payment_terms_and_a_single_thank_you(example):
    text = text_of(render_pdf(example))
    assert "Net 30. Bank transfer to IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX." in text
    # The example's note is the thank-you line itself: printed once, not twice.
    assert text.count("Thank you for your business.") == 1


def test_notes_are_printed(long):
    text = text_of(render_pdf(long))
    assert "Delivery in two shipments." in text
    assert "Second shipment follows in March." in text
    assert "Thank you for your business." in text


def test_ship_to_only_when_given(example, long):
    assert long.ship_to is None
    assert "SHIP TO" not in text_of(render_pdf(long))
    with_ship_to = text_of(render_pdf(example))
    assert "SHIP TO" in with_ship_to
    assert "Alfreds Futterkiste (Warehouse)" in with_ship_to
    assert "Lagerweg 3" in with_ship_to


def test_no_due_date_line_without_due_date(hostile):
    assert "Due date" not in text_of(render_pdf(hostile))


def test_jpy_amounts_have_no_minor_digits(jpy):
    text = text_of(render_pdf(jpy))
    assert jpy.totals.gross == Decimal("55358")
    assert "JP¥55,358" in text
    assert "JP¥12,498" in text  # 2.5 x 4999 rounded half up
    assert "JP¥55,358.00" not in text


def test_locale_changes_number_and_date_format(example):
    text = text_of(render_pdf(example, locale="de_DE"))
    assert "330,86\xa0€" in text or "330,86 €" in text
    assert "02.11.2026" in text


def test_tax_rate_normalised_decimals_print_plainly(example):
    line = Line(1, "Service", Decimal("1"), Decimal("100.00"), Decimal("1E+1"))
    half = Line(2, "Books", Decimal("2"), Decimal("10.00"), Decimal("7.50"))
    invoice = dataclasses.replace(example, lines=(line, half))
    text = text_of(render_pdf(invoice))
    assert "VAT 10% on €100.00" in text
    assert "VAT 7.5% on €20.00" in text
    assert "1E+1" not in text


# -- pages -------------------------------------------------------------------


def test_long_invoice_repeats_header_and_numbers_pages(long):
    assert len(long.lines) >= 60
    pages = pages_text(render_pdf(long))
    assert len(pages) >= 2
    assert "Page 2 of" in pages[1]
    with_items = [text for text in pages if re.search(r"\bItem \d+:", text)]
    assert len(with_items) >= 2
    for text in with_items:  # the table header is repeated on every page of the table
        assert "ITEM #" in text and "DESCRIPTION" in text and "UNIT PRICE" in text
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Northwind Traders Ltd · Invoice INV-2026-0999" in text  # footer


def test_every_line_printed_once_across_pages(long):
    text = text_of(render_pdf(long))
    for line in long.lines:
        assert text.count(f"Item {line.position}: spare part") == 1, line.position
    assert text.count("Subtotal") == 1


@pytest.mark.parametrize("page_size", ["A4", "LETTER"])
def test_content_stays_inside_margins_and_clear_of_footer(page_size, long_of):
    """Whatever the length, no text overflows the margins or runs into the
    footer; the totals and terms move to the next page when they must."""
    width = A4_W if page_size == "A4" else LETTER_W
    for n_lines in range(18, 46, 3):
        pdf = render_pdf(long_of(n_lines), page_size=page_size)
        for page in shown_strings(pdf):
            assert page
            for x, _y, w in page:
                assert x >= MARGIN - 0.5 and x + w <= width - MARGIN + 0.5, (n_lines, x, w)
            # Below the content area there is only the footer: one line of
            # seller, invoice number and "Page x of y".
            assert len({round(y) for _, y, _ in page if y < 60}) == 1, n_lines
        text = text_of(pdf)
        assert text.index("Subtotal") > text.index(f"Item {n_lines}:")
        assert text.index("PAYMENT TERMS") > text.index("Subtotal")
        assert text.count("€") > n_lines


def test_long_descriptions_wrap_within_the_page(non_latin):
    pdf = render_pdf(non_latin)
    text = text_of(pdf)
    assert "https://example.com/" in text
    assert "x" * 150 in text.replace("\n", "")  # an unbreakable word is broken, not lost
    for page in shown_strings(pdf):
        for x, _y, w in page:
            assert x + w <= A4_W - MARGIN + 0.5


def test_a_description_longer_than_a_page_continues_on_the_next(example):
    huge = dataclasses.replace(example.lines[1], description="word " * 2500)
    invoice = dataclasses.replace(example, lines=(example.lines[0], huge, example.lines[2]))
    pages = pages_text(render_pdf(invoice))
    assert len(pages) >= 3
    assert sum(text.count("word") for text in pages) == 2500
    assert all("DESCRIPTION" in text for text in pages[:-1])
    assert "€330.86" in pages[-1] or "€330.86" in pages[-2]


# -- text is data, in any script -----------------------------------------------


def test_non_latin_text_extracts_as_written(non_latin):
    text = text_of(render_pdf(non_latin))
    for expected in ("Søren Ølstad", "Łódź", "Αθήνα Παπαδοπούλου", "Москва Торг", "ул. Тверская 7", "Smørrebrød"):
        assert expected in text


def test_control_characters_and_tabs_are_not_drawn(example):
    buyer = dataclasses.replace(example.buyer, name="Maria\tAnders\x07", address="Obere Str. 57\r\n12209 Berlin")
    text = text_of(render_pdf(dataclasses.replace(example, buyer=buyer, notes="lone \ud800 surrogate")))
    assert "Maria Anders" in text
    assert "Obere Str. 57\n12209 Berlin" in text
    assert "lone surrogate" in text


def test_markup_in_user_text_is_printed_literally(hostile, markup):
    text = text_of(render_pdf(hostile))
    assert markup in text  # '<font color=red>x</font> & <para>'
    assert "=1+1" in text
    assert "+SUM(A1)" in text
    assert "@cmd" in text


# -- the file ------------------------------------------------------------------


def test_fonts_are_embedded_dejavu(example):
    reader = PdfReader(io.BytesIO(render_pdf(example)))
    for page in reader.pages:
        fonts = [ref.get_object() for ref in page["/Resources"]["/Font"].values()]
        names = {str(font["/BaseFont"]) for font in fonts}
        assert names and all("DejaVuSans" in name for name in names), names
        for font in fonts:
            assert "/FontFile2" in font["/FontDescriptor"].get_object()  # embedded TrueType


def test_rendering_twice_gives_the_same_text(non_latin, example):
    # The second rendering uses cached font subsets; it must read the same.
    for invoice in (non_latin, example):
        assert text_of(render_pdf(invoice)) == text_of(render_pdf(invoice))


def test_fonts_are_registered_once_per_process(example):
    register_fonts()
    before = pdfmetrics.getFont("DejaVuSans")
    render_pdf(example)
    render_pdf(example)
    assert register_fonts().regular == "DejaVuSans"
    assert pdfmetrics.getFont("DejaVuSans") is before


def test_metadata(example):
    meta = PdfReader(io.BytesIO(render_pdf(example))).metadata
    assert meta.title == "Invoice INV-2026-0001"
    assert meta.author == "Northwind Traders Ltd"


@pytest.mark.parametrize(
    ("page_size", "expected"),
    [("A4", (A4_W, A4_H)), ("a4", (A4_W, A4_H)), ("LETTER", (LETTER_W, LETTER_H)), ("Letter", (LETTER_W, LETTER_H))],
)
def test_page_size(example, page_size, expected):
    box = PdfReader(io.BytesIO(render_pdf(example, page_size=page_size))).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("page_size", ["A5", "legal", "", "A4 "])
def test_unknown_page_size_is_rejected(example, page_size):
    with pytest.raises(ValueError, match="page size"):
        render_pdf(example, page_size=page_size)


def test_unknown_locale_is_rejected(example):
    with pytest.raises(ValueError, match="locale"):
        render_pdf(example, locale="xx_NOPE")


def test_minimal_invoice_renders():
    invoice = Invoice(
        invoice_number="1",
        issue_date=date(2026, 1, 1),
        currency="KWD",
        seller=Party(name="S"),
        buyer=Party(name="B"),
        lines=(Line(1, "x", Decimal("1"), Decimal("1.2345"), Decimal("0")),),
    )
    text = text_of(render_pdf(invoice))
    assert "KWD1.235" in text  # total: 3 minor digits, rounded half up
    assert "KWD1.2345" in text  # unit price keeps its given digits
    assert "Page 1 of 1" in text


# Legal identifiers at their longest, and a seller with every detail.
LONG_NUMBER = "INV-2026-" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "-WWWWWWWWWWWWWWWWWW"
LONG_SELLER = "Compagnie Générale des Établissements Industriels et Commerciaux du Rhône SARL"


def legal_identifiers_invoice(base: Invoice, n_lines: int = 60) -> Invoice:
    seller = Party(
        name=LONG_SELLER,
        company="Établissements Rhône-Alpes, division des fournitures industrielles et commerciales",
        address="\n".join(f"Bâtiment {i}, 12 quai du Rhône" for i in range(1, 15)),
        phone="+33 4 72 00 00 00 / +33 6 12 34 56 78 (standard et comptabilité fournisseurs)",
        email="service.facturation.fournisseurs@compagnie-generale-rhone.example",
        vat_id="FR" + "12345678901" * 5 + "X",
    )
    buyer = Party(
        name="Maria Anders-" + "Alfreds Futterkiste Handelsgesellschaft " * 4 + "mbH",
        company="Alfreds Futterkiste",
        address="\n".join(f"Obere Str. {i}" for i in range(1, 40)),
        email="maria.anders@alfreds.example",
        vat_id="DE" + "987654321" * 7,
    )
    lines = tuple(Line(i, f"Item {i}", Decimal(1), Decimal("10.00"), Decimal(19), "pcs") for i in range(1, n_lines + 1))
    return dataclasses.replace(base, invoice_number=LONG_NUMBER, seller=seller, buyer=buyer, lines=lines)


def compact(text: str) -> str:
    """``text`` without white space: wrapped lines join up again."""
    return "".join(text.split())


def overlaps(page: list[tuple[float, float, float]]) -> list[tuple]:
    """Pairs of strings drawn over each other: overlapping across and less than 6 pt apart in height."""
    found = []
    for i, (x1, y1, w1) in enumerate(page):
        for x2, y2, w2 in page[i + 1 :]:
            if min(x1 + w1, x2 + w2) - max(x1, x2) > 1 and abs(y1 - y2) < 6:
                found.append(((x1, y1, w1), (x2, y2, w2)))
    return found


def test_the_example_draws_nothing_over_anything(example, long):
    for invoice in (example, long):
        for page in shown_strings(render_pdf(invoice)):
            assert overlaps(page) == []


def test_legal_identifiers_and_seller_details_are_never_cut(example):
    invoice = legal_identifiers_invoice(example)
    assert len(LONG_NUMBER) == 64 and len(LONG_SELLER) == 78
    pages = pages_text(render_pdf(invoice))
    assert len(pages) > 1

    first = compact(pages[0])
    seller, buyer = invoice.seller, invoice.buyer
    for whole in (LONG_NUMBER, LONG_SELLER, buyer.name, buyer.vat_id, seller.company):
        assert compact(whole) in first, whole
    # Every seller detail line, the last ones (phone, e-mail, VAT ID) included.
    for line in (*seller.address_lines, seller.phone, seller.email, seller.vat_id):
        assert compact(line) in compact("".join(pages)), line
    # The footer of every page names the whole seller and invoice number.
    for text in pages:
        assert compact(f"{LONG_SELLER} · Invoice {LONG_NUMBER}") in compact(text)
    # The running header of the following pages too.
    for text in pages[1:]:
        assert compact(f"{LONG_NUMBER} (continued)") in compact(text)


@pytest.mark.parametrize("page_size", ["A4", "LETTER"])
def test_wrapped_identifiers_stay_inside_the_page_and_clear_of_each_other(example, page_size):
    width = A4_W if page_size == "A4" else LETTER_W
    pdf = render_pdf(legal_identifiers_invoice(example), page_size=page_size)
    for page in shown_strings(pdf):
        assert overlaps(page) == []
        for x, y, w in page:
            assert x >= MARGIN - 0.5 and x + w <= width - MARGIN + 0.5 and y > 10


def test_the_page_text_is_written_as_reportlabs_own_text_object_writes_it():
    """pdf_engine.Ink writes text already shown in a font's subset 0 itself;
    the page must hold the same bytes as when ReportLab's textOut writes all
    of it (new characters, a second subset, font and size changes included)."""
    from reportlab.lib.colors import black, grey
    from reportlab.pdfgen.canvas import Canvas

    from invoicer.invoice.pdf_engine import Ink

    faces = register_fonts()
    beyond_one_subset = "".join(chr(c) for c in [*range(0x100, 0x17F), *range(0x410, 0x450), *range(0x391, 0x3A2)])
    texts = [
        ("Invoice INV-2026-0001", faces.bold, 14.0, black),
        ("Søren Ølstad, Łódź", faces.regular, 9.0, black),
        ("12 Harbour Road", faces.regular, 9.0, black),
        ("Søren Ølstad (ASCII and known letters)", faces.regular, 9.0, grey),
        ("Αθήνα, Москва: 1\u00a0234,50\u00a0€", faces.regular, 9.0, grey),
        ("Москва, Αθήνα", faces.regular, 9.0, grey),
        ("plain ASCII again (with parentheses) and a \\ backslash", faces.regular, 9.0, grey),
        ("Zażółć gęślą jaźń", faces.italic, 8.0, black),
        ("Søren Ølstad, Łódź", faces.regular, 9.0, black),
        (beyond_one_subset, faces.regular, 9.0, black),
        ("Łódź after a second subset", faces.regular, 9.0, black),
        ("Łódź, in subset 0 again", faces.regular, 9.0, black),
        ("Thank you", faces.italic, 8.0, black),
        ("Thank you (in italics, twice)", faces.italic, 8.0, black),
    ]

    def draw(with_ink: bool) -> bytes:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, invariant=1)
        if with_ink:
            ink = Ink(canvas, black)
            for row, (text, font, size, colour) in enumerate(texts):
                ink.text(40, 800 - 12 * row, text, font, size, colour)
            ink.finish()
        else:
            t = canvas.beginText()
            shown: tuple[str, float] | None = None
            fill = None
            for row, (text, font, size, colour) in enumerate(texts):
                if shown != (font, size):
                    t.setFont(font, size)
                    shown = (font, size)
                if fill is not colour:
                    t.setFillColor(colour)
                    fill = colour
                t.setTextOrigin(40, 800 - 12 * row)
                t.textOut(text)
            canvas.drawText(t)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    ours, reportlabs = draw(with_ink=True), draw(with_ink=False)
    assert ours == reportlabs
    assert "Zażółć gęślą jaźń" in text_of(ours)


def test_page_streams_are_deflated_binary_not_ascii85(example):
    """Every page's content stream is /FlateDecode alone: ASCII85 on top made
    the streams a quarter larger and the PDF slower (bench/RESULTS.md)."""
    pdf = render_pdf(dataclasses.replace(example, lines=example.lines * 60))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 1
    for page in reader.pages:
        contents = page["/Contents"].get_object()
        assert contents["/Filter"] in ("/FlateDecode", ["/FlateDecode"]), contents["/Filter"]
    assert "INV-2026-0001" in text_of(pdf)
