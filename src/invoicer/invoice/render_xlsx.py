"""Render an :class:`~invoicer.invoice.model.Invoice` as an XLSX workbook.

One sheet, "Invoice", with the blocks of the PDF (``LAYOUT.md``): seller,
title with number and dates, Bill To / Ship To, the item table (styled header,
panes frozen under it, header repeated when printed), and the totals.

Cells hold typed values: amounts and quantities are numbers, VAT rates are
percentages, dates are dates, each with a number format (amounts in the
invoice currency with its minor-unit digits, e.g. ``"€"#,##0.00``,
``"JP¥"#,##0``, ``"KWD"#,##0.000``). Amounts come from ``invoice.totals``
(EN 16931, computed by the model) and are converted from Decimal to the
cell's float only when written.

Text from users is data, never a formula: every user string is written as a
string cell (``data_type "s"``), and one that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return also gets Excel's quote prefix, so it stays
text when the cell is edited (OWASP "CSV/formula injection").
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from datetime import date
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_percent, get_currency_symbol
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .model import Invoice, Party, minor_unit

__all__ = ["render", "render_xlsx"]

THANK_YOU = "Thank you for your business."

# Style parts, created once per process and shared by every workbook.
_NAVY, _ACCENT, _MUTED, _INK = "1B2B4B", "1F63C6", "5F6B7A", "1E2530"
_FONT = Font(name="Calibri", size=10, color=_INK)
_FONT_BOLD = Font(name="Calibri", size=10, bold=True, color=_INK)
_FONT_MUTED = Font(name="Calibri", size=9, color=_MUTED)
_FONT_LABEL = Font(name="Calibri", size=9, bold=True, color=_NAVY)
_FONT_SELLER = Font(name="Calibri", size=16, bold=True, color=_NAVY)
_FONT_TITLE = Font(name="Calibri", size=22, bold=True, color=_ACCENT)
_FONT_HEADER = Font(name="Calibri", size=10, bold=True, color="FFFFFF")
_FONT_TOTAL = Font(name="Calibri", size=11, bold=True, color=_NAVY)
_FONT_THANKS = Font(name="Calibri", size=10, italic=True, color=_MUTED)
_FILL_HEADER = PatternFill("solid", fgColor=_NAVY)
_FILL_ZEBRA = PatternFill("solid", fgColor="F2F5F9")
_FILL_TOTAL = PatternFill("solid", fgColor="E2E6EC")
_THIN = Side(style="thin", color="C9D0DA")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_RULE = Border(bottom=_THIN)
_LEFT = Alignment(horizontal="left", vertical="top")
_RIGHT = Alignment(horizontal="right", vertical="center")
_CELL_LEFT = Alignment(horizontal="left", vertical="top", wrap_text=True, indent=1)
_CELL_RIGHT = Alignment(horizontal="right", vertical="top", indent=1)
_HEADER_LEFT = Alignment(horizontal="left", vertical="center", indent=1)
_HEADER_RIGHT = Alignment(horizontal="right", vertical="center", indent=1)
_TOTAL_RIGHT = Alignment(horizontal="right", vertical="center", indent=1)

_DATE_FORMAT = "d mmm yyyy"
_CELL_MAX = 32_767  # characters in one cell (Excel's limit)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot carry (control characters, lone surrogates).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Columns of the item table.
_TITLES = ("ITEM #", "DESCRIPTION", "QTY", "UNIT", "UNIT PRICE", "VAT %", "TOTAL")
_COL_POS, _COL_DESC, _COL_QTY, _COL_UNIT, _COL_PRICE, _COL_RATE, _COL_TOTAL = range(1, 8)
_DESC_MAX_WIDTH = 60


def _digits(value: Decimal) -> int:
    """Decimal places of ``value`` without trailing zeros (``1E+1`` -> 0)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _decimal_format(digits: int, grouping: bool = True) -> str:
    base = "#,##0" if grouping else "0"
    return base + ("." + "0" * digits if digits else "")


class _Formats:
    """Excel number formats and display strings for one invoice."""

    def __init__(self, currency: str, locale: Locale) -> None:
        self.currency = currency
        self.locale = locale
        self.minor = minor_unit(currency)
        self.symbol = get_currency_symbol(currency, locale=locale).replace('"', "")
        # Where the locale writes the symbol: "¤#,##0.00" (en), "#,##0.00 ¤" (de).
        pattern = locale.currency_formats["standard"].pattern.split(";")[0]
        pattern = pattern.replace("\u200f", "").replace("\u200e", "").strip()
        self._prefix = pattern.startswith("¤")
        self._space = " " if ("\xa0" in pattern or " " in pattern) else ""
        self._money: dict[int, str] = {}

    def money_format(self, digits: int | None = None) -> str:
        """Number format of an amount with ``digits`` decimals (default:
        the currency's minor unit), e.g. ``'"€"#,##0.00'``."""
        digits = self.minor if digits is None else max(digits, self.minor)
        fmt = self._money.get(digits)
        if fmt is None:
            number = _decimal_format(digits)
            if self._prefix:
                fmt = f'"{self.symbol}{self._space}"{number}'
            else:
                fmt = f'{number}"{self._space}{self.symbol}"'
            self._money[digits] = fmt
        return fmt

    def money(self, amount: Decimal) -> str:
        return format_currency(amount, self.currency, locale=self.locale)


def _clean(text: str | None) -> str:
    return _ILLEGAL.sub("", text or "")


def _set_text(cell: Cell, text: str | None) -> Cell:
    """Write user text as a string, never a formula (see module docstring)."""
    value = _clean(text)
    if len(value) > _CELL_MAX:  # Excel refuses longer cells as corrupt
        value = value[: _CELL_MAX - 1] + "…"
    cell.value = value
    cell.data_type = "s"  # openpyxl makes a formula of any string starting with "="
    if value.startswith(_FORMULA_START):
        cell.quotePrefix = True  # Excel keeps it text when the cell is edited
    return cell


def _named_styles(wb: Workbook, fmt: _Formats) -> None:
    """Register this workbook's named styles, built from the shared parts."""
    money = fmt.money_format()
    for style in (
        NamedStyle("Invoice Text", font=_FONT, alignment=_LEFT),
        NamedStyle("Invoice Muted", font=_FONT_MUTED, alignment=_LEFT),
        NamedStyle("Invoice Label", font=_FONT_LABEL, alignment=_LEFT),
        NamedStyle("Invoice Header", font=_FONT_HEADER, fill=_FILL_HEADER, border=_GRID, alignment=_HEADER_LEFT),
        NamedStyle("Invoice Header Num", font=_FONT_HEADER, fill=_FILL_HEADER, border=_GRID, alignment=_HEADER_RIGHT),
        NamedStyle("Invoice Cell", font=_FONT, border=_GRID, alignment=_CELL_LEFT),
        NamedStyle("Invoice Cell Num", font=_FONT, border=_GRID, alignment=_CELL_RIGHT),
        NamedStyle("Invoice Cell Z", font=_FONT, fill=_FILL_ZEBRA, border=_GRID, alignment=_CELL_LEFT),
        NamedStyle("Invoice Cell Num Z", font=_FONT, fill=_FILL_ZEBRA, border=_GRID, alignment=_CELL_RIGHT),
        NamedStyle("Invoice Sum Label", font=_FONT_MUTED, border=_RULE, alignment=_RIGHT),
        NamedStyle("Invoice Sum", font=_FONT, border=_RULE, alignment=_TOTAL_RIGHT, number_format=money),
        NamedStyle("Invoice Total Label", font=_FONT_TOTAL, fill=_FILL_TOTAL, alignment=_RIGHT),
        NamedStyle("Invoice Total", font=_FONT_TOTAL, fill=_FILL_TOTAL, alignment=_TOTAL_RIGHT, number_format=money),
        NamedStyle("Invoice Meta Label", font=_FONT_MUTED, alignment=_RIGHT),
        NamedStyle("Invoice Meta", font=_FONT_BOLD, alignment=_RIGHT),
        NamedStyle("Invoice Date", font=_FONT_BOLD, alignment=_RIGHT, number_format=_DATE_FORMAT),
        NamedStyle("Invoice Seller", font=_FONT_SELLER, alignment=_LEFT),
        NamedStyle("Invoice Title", font=_FONT_TITLE, alignment=_RIGHT),
        NamedStyle("Invoice Name", font=_FONT_BOLD, alignment=_LEFT),
        NamedStyle("Invoice Thanks", font=_FONT_THANKS, alignment=_LEFT),
    ):
        wb.add_named_style(style)


def _party_lines(party: Party) -> list[tuple[str, str]]:
    """(style, text) rows of a party block; the name first, in bold."""
    rows = [("Invoice Name", party.name)]
    if party.company:
        rows.append(("Invoice Text", party.company))
    rows += [("Invoice Text", line) for line in party.address_lines]
    for label, value in (("Phone", party.phone), ("Email", party.email), ("VAT ID", party.vat_id)):
        if value:
            rows.append(("Invoice Muted", f"{label}: {value}"))
    return rows


class _Sheet:
    def __init__(self, ws: Worksheet, invoice: Invoice, fmt: _Formats, desc_chars: int) -> None:
        self.ws = ws
        self.desc_chars = desc_chars
        self.inv = invoice
        self.fmt = fmt
        self.row = 1

    def text(self, row: int, col: int, value: str | None, style: str) -> Cell:
        cell = self.ws.cell(row=row, column=col)
        cell.style = style  # first: a named style resets quotePrefix
        return _set_text(cell, value)

    def label(self, row: int, col: int, value: str | None, style: str) -> Cell:
        """A fixed label of ours (not user text)."""
        cell = self.ws.cell(row=row, column=col, value=value)
        cell.style = style
        return cell

    def number(self, row: int, col: int, value: Decimal, style: str, number_format: str | None = None) -> Cell:
        """A numeric cell: the Decimal becomes the cell's float only here."""
        cell = self.ws.cell(row=row, column=col)
        cell.style = style
        cell.value = float(value)
        if number_format is not None:
            cell.number_format = number_format
        return cell

    # -- blocks --------------------------------------------------------------

    def heading(self) -> None:
        inv, ws = self.inv, self.ws
        seller = inv.seller
        self.text(1, 1, seller.name, "Invoice Seller")
        ws.row_dimensions[1].height = 30
        self.label(1, _COL_TOTAL, "INVOICE", "Invoice Title")
        details = ([seller.company] if seller.company else []) + list(seller.address_lines)
        for label, value in (("Phone", seller.phone), ("Email", seller.email), ("VAT ID", seller.vat_id)):
            if value:
                details.append(f"{label}: {value}")
        for i, line in enumerate(details):
            self.text(2 + i, 1, line, "Invoice Muted")

        meta_row = 2
        self.label(meta_row, _COL_RATE, "Invoice no.", "Invoice Meta Label")
        self.text(meta_row, _COL_TOTAL, inv.invoice_number, "Invoice Meta")
        dates: list[tuple[str, date]] = [("Issue date", inv.issue_date)]
        if inv.due_date:
            dates.append(("Due date", inv.due_date))
        for i, (label, value) in enumerate(dates, start=1):
            self.label(meta_row + i, _COL_RATE, label, "Invoice Meta Label")
            cell = ws.cell(row=meta_row + i, column=_COL_TOTAL, value=value)
            cell.style = "Invoice Date"
        self.row = 2 + max(len(details), len(dates) + 1) + 1

    def parties(self) -> None:
        inv = self.inv
        blocks = [(1, "BILL TO", inv.buyer)]
        if inv.ship_to is not None:
            blocks.append((_COL_PRICE, "SHIP TO", inv.ship_to))
        top = self.row
        height = 0
        for col, title, party in blocks:
            self.label(top, col, title, "Invoice Label")
            lines = _party_lines(party)
            for i, (style, text) in enumerate(lines, start=1):
                self.text(top + i, col, text, style)
            height = max(height, len(lines) + 1)
        self.row = top + height + 1

    def table(self) -> int:
        """Write the item table; returns the header row number."""
        inv, fmt, ws = self.inv, self.fmt, self.ws
        header = self.row
        for col, title in enumerate(_TITLES, start=1):
            style = "Invoice Header" if col in (_COL_DESC, _COL_UNIT) else "Invoice Header Num"
            self.label(header, col, title, style)
        ws.row_dimensions[header].height = 20

        money = fmt.money_format()
        row = header
        for index, (line, net) in enumerate(zip(inv.lines, inv.totals.line_nets)):
            row += 1
            z = " Z" if index % 2 else ""
            text_style, num_style = "Invoice Cell" + z, "Invoice Cell Num" + z
            cell = ws.cell(row=row, column=_COL_POS, value=line.position)
            cell.style = num_style
            self.text(row, _COL_DESC, line.description, text_style)
            self._fit_height(row, line.description)
            self.number(row, _COL_QTY, line.quantity, num_style, _decimal_format(_digits(line.quantity)))
            self.text(row, _COL_UNIT, line.unit, text_style)
            self.number(row, _COL_PRICE, line.unit_price, num_style, fmt.money_format(_digits(line.unit_price)))
            rate_format = _decimal_format(_digits(line.tax_rate), grouping=False) + "%"
            self.number(row, _COL_RATE, line.tax_rate / 100, num_style, rate_format)
            self.number(row, _COL_TOTAL, net, num_style, money)
        self.row = row + 2
        return header

    def _fit_height(self, row: int, description: str) -> None:
        """Set the height of a row whose description wraps; spreadsheet
        programs do not all fit row heights of a file when they open it."""
        paras = _clean(description).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        # Proportional text fits some 10% more characters than the column
        # width counts (in "0"s); word wrapping loses a little of that again.
        per_line = self.desc_chars * 1.1
        n = sum(max(1, math.ceil(len(p) / per_line)) for p in paras)
        if n > 1:
            self.ws.row_dimensions[row].height = min(409, 13.0 * n + 4)  # 409 pt: Excel's maximum

    def totals(self) -> None:
        fmt, totals, ws = self.fmt, self.inv.totals, self.ws
        rows: list[tuple[str, Decimal]] = [("Subtotal", totals.net)]
        for vat in totals.vat_breakdown:
            label = f"VAT {format_percent(vat.rate / 100, locale=fmt.locale, decimal_quantization=False)}"
            rows.append((f"{label} on {fmt.money(vat.taxable_amount)}", vat.tax_amount))
        if len(totals.vat_breakdown) > 1:
            rows.append(("Total VAT", totals.tax))
        for label, amount in rows:
            self.label(self.row, _COL_RATE, label, "Invoice Sum Label")
            self.number(self.row, _COL_TOTAL, amount, "Invoice Sum")
            self.row += 1
        # The total on a grey band across the last three columns.
        self.label(self.row, _COL_PRICE, None, "Invoice Total Label")
        self.label(self.row, _COL_RATE, "Total", "Invoice Total Label")
        self.number(self.row, _COL_TOTAL, totals.gross, "Invoice Total")
        ws.row_dimensions[self.row].height = 20
        self.row += 2

    def texts(self, width: int) -> None:
        inv = self.inv
        notes = " ".join(_clean(inv.notes).split())
        notes_are_thanks = notes.casefold() == THANK_YOU.casefold()
        blocks = [("PAYMENT TERMS", inv.payment_terms)]
        if not notes_are_thanks:
            blocks.append(("NOTES", inv.notes))
        for title, text in blocks:
            if not text or not text.strip():
                continue
            self.label(self.row, 1, title, "Invoice Label")
            self.row += 1
            for para in _clean(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
                for line in textwrap.wrap(para, width=width, break_long_words=True) or [""]:
                    self.text(self.row, 1, line, "Invoice Text")
                    self.row += 1
            self.row += 1
        self.label(self.row, 1, notes if notes_are_thanks else THANK_YOU, "Invoice Thanks")


def _column_widths(invoice: Invoice, fmt: _Formats) -> list[float]:
    """Column widths in Excel character units, fitted to the item table."""
    lines = invoice.lines
    widths = [float(len(t)) + 3 for t in _TITLES]
    extra = len(fmt.symbol) + 2  # currency symbol, space, sign

    def fit(col: int, lengths) -> None:
        widths[col - 1] = max(widths[col - 1], max(lengths, default=0) + 3)

    def amount_len(value: Decimal, digits: int) -> int:
        return len(f"{value:,.{digits}f}") + extra

    fit(_COL_POS, (len(str(line.position)) for line in lines))
    fit(_COL_DESC, (len(part) for line in lines for part in _clean(line.description).splitlines()))
    widths[_COL_DESC - 1] = min(max(widths[_COL_DESC - 1], 30), _DESC_MAX_WIDTH)
    fit(_COL_QTY, (amount_len(line.quantity, _digits(line.quantity)) - extra + 1 for line in lines))
    fit(_COL_UNIT, (len(_clean(line.unit)) for line in lines))
    fit(_COL_PRICE, (amount_len(line.unit_price, max(fmt.minor, _digits(line.unit_price))) for line in lines))
    totals = invoice.totals
    fit(_COL_TOTAL, (amount_len(a, fmt.minor) for a in (totals.gross, totals.net, totals.tax, *totals.line_nets)))
    widths[_COL_TOTAL - 1] = max(widths[_COL_TOTAL - 1], 14)  # also holds the dates
    return [min(w, 80) * 1.1 for w in widths]


def render(invoice: Invoice, options) -> bytes:
    """The ``xlsx`` format's renderer: :func:`render_xlsx` in ``options.locale``."""
    return render_xlsx(invoice, locale=options.locale)


def render_xlsx(invoice: Invoice, *, locale: str = "en_GB") -> bytes:
    """Render ``invoice`` as an XLSX workbook (Office Open XML) and return its
    bytes.

    One sheet "Invoice": seller, title with invoice number and dates, Bill To
    / Ship To, the item table (ITEM #, DESCRIPTION, QTY, UNIT, UNIT PRICE,
    VAT %, TOTAL) with panes frozen under its header, then subtotal, VAT per
    rate and total. Amounts are numeric cells (floats converted from the
    model's Decimals, which are already rounded to the currency's minor unit,
    EN 16931) with a number format in ``invoice.currency`` and its minor-unit
    digits; quantities are numbers, VAT rates percentages (0.19 shown as
    19%), dates real dates. ``locale`` (CLDR, e.g. ``"en_GB"``) decides where
    the currency symbol goes and how the VAT labels write amounts.

    User text is always a string cell, never a formula. Pure: no I/O.

    Raises ``ValueError`` for an unknown ``locale``.
    """
    try:
        babel_locale = Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {locale!r}") from exc
    fmt = _Formats(invoice.currency, babel_locale)

    wb = Workbook()
    _named_styles(wb, fmt)
    ws = wb.active
    ws.title = "Invoice"
    ws.sheet_view.showGridLines = False
    number = _clean(invoice.invoice_number)
    wb.properties.title = f"Invoice {number}"
    wb.properties.creator = _clean(invoice.seller.name)

    widths = _column_widths(invoice, fmt)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width

    sheet = _Sheet(ws, invoice, fmt, desc_chars=max(10, int(widths[_COL_DESC - 1] / 1.1) - 3))
    sheet.heading()
    sheet.parties()
    header = sheet.table()
    sheet.totals()
    sheet.texts(width=int(sum(widths) / 1.1))

    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    ws.print_title_rows = f"{header}:{header}"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
