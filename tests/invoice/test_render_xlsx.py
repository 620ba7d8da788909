"""The XLSX invoice as a spreadsheet user sees it: the cells, their types and
number formats, read back with openpyxl."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from invoicer.invoice.render_xlsx import render_xlsx

FORMULA_LIKE = ["=1+1", "+SUM(A1)", "-2", "@cmd"]


def sheet_of(data: bytes) -> Worksheet:
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Invoice"]
    return workbook.active


def find(ws: Worksheet, value) -> list:
    return [cell for row in ws.iter_rows() for cell in row if cell.value == value]


def amount_right_of(ws: Worksheet, label: str):
    """The cell at the right end of the row whose label is ``label``."""
    (cell,) = find(ws, label)
    row = [c for c in ws[cell.row] if c.value is not None]
    return row[-1]


def header_row(ws: Worksheet) -> int:
    (cell,) = find(ws, "DESCRIPTION")
    return cell.row


def test_totals_are_numbers_with_a_currency_format(example):
    ws = sheet_of(render_xlsx(example))
    expected = {
        "Subtotal": 280.5,
        "VAT 19% on €256.00": 48.64,
        "VAT 7% on €24.50": 1.72,
        "Total VAT": 50.36,
        "Total": 330.86,
    }
    for label, value in expected.items():
        cell = amount_right_of(ws, label)
        assert cell.data_type == "n" and isinstance(cell.value, float | int), label
        assert cell.value == value, label
        assert "€" in cell.number_format and "0.00" in cell.number_format, cell.number_format


def test_item_rows_hold_typed_values(example):
    ws = sheet_of(render_xlsx(example))
    first = header_row(ws) + 1
    position, description, qty, unit, price, rate, total = (c for c in ws[first][:7])
    assert position.value == 1
    assert description.value == "Chai tea, 10 boxes x 20 bags"
    assert qty.value == 12 and qty.data_type == "n"
    assert unit.value == "box"
    assert price.value == 18.0 and "€" in price.number_format
    assert rate.value == pytest.approx(0.19) and rate.number_format.endswith("%")
    assert total.value == 216.0 and "€" in total.number_format
    # The line totals are the model's rounded line nets.
    line_totals = [ws.cell(row=first + i, column=7).value for i in range(3)]
    assert line_totals == [float(net) for net in example.totals.line_nets]


def test_header_row_is_styled_and_panes_frozen_under_it(example):
    ws = sheet_of(render_xlsx(example))
    row = header_row(ws)
    assert [c.value for c in ws[row][:7]] == ["ITEM #", "DESCRIPTION", "QTY", "UNIT", "UNIT PRICE", "VAT %", "TOTAL"]
    for cell in ws[row][:7]:
        assert cell.font.bold
        assert cell.font.color.rgb.endswith("FFFFFF")
        assert cell.fill.fgColor.rgb.endswith("1B2B4B")  # navy
    assert ws.freeze_panes == f"A{row + 1}"


def test_jpy_amounts_have_no_decimals(jpy):
    ws = sheet_of(render_xlsx(jpy))
    total = amount_right_of(ws, "Total")
    assert total.value == float(jpy.totals.gross) == 55358
    assert "¥" in total.number_format
    assert "." not in total.number_format


def test_kwd_amounts_have_three_decimals(example):
    kwd = dataclasses.replace(example, currency="KWD")
    ws = sheet_of(render_xlsx(kwd))
    total = amount_right_of(ws, "Total")
    assert total.value == float(kwd.totals.gross)
    assert "KWD" in total.number_format and "0.000" in total.number_format


def test_unit_price_keeps_its_extra_digits(example):
    line = dataclasses.replace(example.lines[0], unit_price=Decimal("0.125"), quantity=Decimal("1.5"))
    ws = sheet_of(render_xlsx(dataclasses.replace(example, lines=(line,))))
    price = ws.cell(row=header_row(ws) + 1, column=5)
    qty = ws.cell(row=header_row(ws) + 1, column=3)
    assert price.value == 0.125 and "0.000" in price.number_format
    assert qty.value == 1.5 and qty.number_format == "#,##0.0"


def test_dates_are_date_cells(example):
    ws = sheet_of(render_xlsx(example))
    issue = amount_right_of(ws, "Issue date")
    due = amount_right_of(ws, "Due date")
    assert issue.is_date and issue.value == datetime(2026, 11, 2)
    assert due.is_date and due.value == datetime(2026, 12, 2)
    assert "yyyy" in issue.number_format


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1899, 12, 31), date(1900, 1, 1), date(1900, 2, 28)])
def test_dates_no_serial_number_names_in_every_program_are_iso_text(example, day):
    # Excel shows serial 0 as "0 Jan 1900" and negatives as ####; serials 1-59 are
    # a day off in LibreOffice and Google Sheets (Excel's phantom 29 Feb 1900).
    ws = sheet_of(render_xlsx(dataclasses.replace(example, issue_date=day, due_date=day)))
    for label in ("Issue date", "Due date"):
        cell = amount_right_of(ws, label)
        assert cell.data_type == "s" and cell.value == day.isoformat()
        assert date.fromisoformat(cell.value) == day


@pytest.mark.parametrize("day", [date(1900, 3, 1), date(9999, 12, 31)])
def test_dates_from_march_1900_are_date_cells(example, day):
    ws = sheet_of(render_xlsx(dataclasses.replace(example, issue_date=day, due_date=None)))
    cell = amount_right_of(ws, "Issue date")
    assert cell.is_date and cell.value == datetime(day.year, day.month, day.day)


def test_parties_and_seller_blocks(example, long):
    ws = sheet_of(render_xlsx(example))
    for text in (
        "Northwind Traders Ltd",
        "INVOICE",
        "INV-2026-0001",
        "BILL TO",
        "SHIP TO",
        "Maria Anders",
        "Obere Str. 57",
        "Lagerweg 3",
        "Alfreds Futterkiste (Warehouse)",
        "VAT ID: DE987654328",
    ):
        assert find(ws, text), text
    assert not find(sheet_of(render_xlsx(long)), "SHIP TO")


def test_user_text_never_becomes_a_formula(hostile):
    ws = sheet_of(render_xlsx(hostile))
    cells = [cell for row in ws.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type != "f" for cell in cells)
    for text in FORMULA_LIKE:
        found = find(ws, text)
        assert found, text
        for cell in found:
            assert cell.data_type == "s"
            assert cell.value == text
            assert cell.quotePrefix  # Excel keeps it text when edited


def test_markup_and_non_latin_text_intact(hostile, non_latin, markup):
    assert find(sheet_of(render_xlsx(hostile)), markup)
    ws = sheet_of(render_xlsx(non_latin))
    for text in ("Søren Ølstad", "Łódź", "Αθήνα Παπαδοπούλου", "Москва Торг", "ул. Тверская 7"):
        assert find(ws, text), text


def test_characters_xml_cannot_carry_do_not_break_the_file(example):
    seller = dataclasses.replace(example.seller, name="Bell\x07 Ltd\x00")
    invoice = dataclasses.replace(example, seller=seller, notes="lone \ud800 surrogate")
    ws = sheet_of(render_xlsx(invoice))
    assert find(ws, "Bell Ltd")
    assert find(ws, "lone  surrogate")


def test_long_invoice_has_every_line_and_the_right_total(long):
    ws = sheet_of(render_xlsx(long))
    first = header_row(ws) + 1
    totals = [ws.cell(row=first + i, column=7).value for i in range(len(long.lines))]
    assert totals == [float(net) for net in long.totals.line_nets]
    assert amount_right_of(ws, "Total").value == float(long.totals.gross)


def test_column_widths_fit_the_content(example, non_latin):
    ws = sheet_of(render_xlsx(example))
    longest = max(len(line.description) for line in example.lines)
    assert ws.column_dimensions["B"].width >= longest
    assert ws.column_dimensions["G"].width >= len("€330.86")
    # A very long description is wrapped in a capped column, its row taller.
    ws = sheet_of(render_xlsx(non_latin))
    assert ws.column_dimensions["B"].width <= 70
    long_row = header_row(ws) + 2
    assert ws.cell(row=long_row, column=2).alignment.wrap_text
    assert ws.row_dimensions[long_row].height > 100


def test_metadata(example):
    workbook = load_workbook(io.BytesIO(render_xlsx(example)))
    assert workbook.properties.title == "Invoice INV-2026-0001"
    assert workbook.properties.creator == "Northwind Traders Ltd"


def test_locale_places_the_currency_symbol(example):
    # A German sheet is in German (labels from the catalogue, invoice/i18n.py).
    workbook = load_workbook(io.BytesIO(render_xlsx(example, locale="de_DE")))
    assert workbook.sheetnames == ["Rechnung"]
    ws = workbook.active
    fmt = amount_right_of(ws, "Gesamtbetrag").number_format
    assert fmt.endswith('€"') and fmt.startswith("#,##0.00")
    assert find(ws, "USt. 19\xa0% auf 256,00\xa0€") or find(ws, "USt. 19 % auf 256,00 €")


def test_unknown_locale_is_rejected(example):
    with pytest.raises(ValueError, match="locale"):
        render_xlsx(example, locale="xx_NOPE")
