"""Render an :class:`~invoicer.invoice.model.Invoice` as an XLSX workbook,
written with XlsxWriter.

One sheet, "Invoice", with the blocks of the PDF (``LAYOUT.md``): seller,
title with number and dates, Bill To / Ship To, the item table (styled header,
panes frozen under it, header repeated when printed), and the totals. Labels,
party lines, totals rows, the thank-you rule and colours are those of
:mod:`invoicer.invoice.presentation`, shared with the PDF.

Cells hold typed values: amounts and quantities are numbers, VAT rates are
percentages, dates are dates, each with a number format (amounts in the
invoice currency with its minor-unit digits, e.g. ``"€"#,##0.00``,
``"JP¥"#,##0``, ``"KWD"#,##0.000``). Amounts come from ``invoice.totals``
(EN 16931, computed by the model) and are converted from Decimal to the
cell's float only when written. That float reads back as the same decimal:
validation keeps every number within 15 significant digits
(:data:`~invoicer.invoice.model.MAX_SIGNIFICANT_DIGITS`, Excel's precision).

Text from users is data, never a formula: the workbook is opened with
XlsxWriter's ``strings_to_formulas``, ``strings_to_numbers`` and
``strings_to_urls`` off and every user string is written with
``write_string``; one that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return also gets Excel's quote prefix, so it stays text when the
cell is edited (OWASP "CSV/formula injection"). Excel's limits are kept:
32 767 characters in a cell, 409 points of row height, no characters XML
cannot carry.

Speed: every cell format is created once per workbook (:class:`_Styles`),
including the number-format variants a line needs.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import get_currency_symbol
from xlsxwriter import Workbook
from xlsxwriter.exceptions import XlsxWriterException
from xlsxwriter.format import Format
from xlsxwriter.image import Image
from xlsxwriter.worksheet import Worksheet

from . import presentation as pr
from .formats import RenderOptions
from .i18n import translator
from .model import Invoice, minor_unit

__all__ = ["render", "render_xlsx"]

_DATE_FORMAT = "d mmm yyyy"
# The first day every spreadsheet program reads from the same serial number.
# Excel's 1900 date system has no serial for days before 1900-01-01 (0 shows
# as "0 Jan 1900", negatives as ####) and counts a 29 Feb 1900 that never was
# (Lotus 1-2-3 compatibility), so serials 1-59 (1 Jan - 28 Feb 1900) name a
# different day in LibreOffice and Google Sheets (epoch 1899-12-30) than in
# Excel. An earlier date is written as ISO 8601 text (YYYY-MM-DD, as the API
# writes it), which every program shows and reads back as that date.
_FIRST_SERIAL_DATE = date(1900, 3, 1)
_CELL_MAX = 32_767  # characters in one cell (Excel's limit)
_ROW_MAX_PT = 409  # row height in points (Excel's limit)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot carry (control characters, lone surrogates).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DIGIT_PX = 7  # width of "0" in Calibri 11, Excel's unit of column width
_LOGO_PX = 18 / 25.4 * 96  # the logo's height, 18 mm as the PDF draws it, in Excel's 96 dpi pixels
_LOGO_MAX_W_PX = 420  # at most the width of the first columns

# Columns of the item table: the shared columns with UNIT after QTY.
_TITLES = (*pr.COLUMNS[:3], pr.UNIT_COLUMN, *pr.COLUMNS[3:])
_COL_POS, _COL_DESC, _COL_QTY, _COL_UNIT, _COL_PRICE, _COL_RATE, _COL_TOTAL = range(1, 8)
_DESC_MAX_WIDTH = 60

# Cell styles by name: font, fill, border and alignment (XlsxWriter format
# properties). Number formats and the quote prefix are added per cell.
_FONT = {"font_name": "Calibri", "font_size": 10, "font_color": pr.INK}
_FONT_BOLD = {**_FONT, "bold": True}
_FONT_MUTED = {**_FONT, "font_size": 9, "font_color": pr.MUTED}
_GRID = {"border": 1, "border_color": pr.GRID}
_RULE = {"bottom": 1, "bottom_color": pr.GRID}
_LEFT = {"align": "left", "valign": "top"}
_RIGHT = {"align": "right", "valign": "vcenter"}
_CELL_LEFT = {"align": "left", "valign": "top", "text_wrap": True, "indent": 1}
_CELL_RIGHT = {"align": "right", "valign": "top", "indent": 1}
_HEADER = {
    "font_name": "Calibri",
    "font_size": 10,
    "bold": True,
    "font_color": "#FFFFFF",
    "pattern": 1,
    "bg_color": pr.NAVY,
    **_GRID,
    "valign": "vcenter",
    "indent": 1,
}
_ZEBRA = {"pattern": 1, "bg_color": pr.ZEBRA}
_TOTAL = {
    "font_name": "Calibri",
    "font_size": 11,
    "bold": True,
    "font_color": pr.NAVY,
    "pattern": 1,
    "bg_color": pr.BAND,
    "align": "right",
    "valign": "vcenter",
}
_STYLES: dict[str, dict[str, Any]] = {
    "text": {**_FONT, **_LEFT},
    "muted": {**_FONT_MUTED, **_LEFT},
    "label": {**_FONT, "font_size": 9, "bold": True, "font_color": pr.NAVY, **_LEFT},
    "header": {**_HEADER, "align": "left"},
    "header num": {**_HEADER, "align": "right"},
    "cell": {**_FONT, **_GRID, **_CELL_LEFT},
    "cell num": {**_FONT, **_GRID, **_CELL_RIGHT},
    "cell z": {**_FONT, **_ZEBRA, **_GRID, **_CELL_LEFT},
    "cell num z": {**_FONT, **_ZEBRA, **_GRID, **_CELL_RIGHT},
    "sum label": {**_FONT_MUTED, **_RULE, **_RIGHT},
    "sum": {**_FONT, **_RULE, **_RIGHT, "indent": 1},
    "total label": _TOTAL,
    "total": {**_TOTAL, "indent": 1},
    "meta label": {**_FONT_MUTED, **_RIGHT},
    "meta": {**_FONT_BOLD, **_RIGHT},
    "seller": {**_FONT, "font_size": 16, "bold": True, "font_color": pr.NAVY, **_LEFT},
    "title": {**_FONT, "font_size": 22, "bold": True, "font_color": pr.ACCENT, **_RIGHT},
    "draft": {**_FONT, "font_size": 22, "bold": True, "font_color": pr.ACCENT, **_LEFT, "valign": "vcenter"},
    "name": {**_FONT_BOLD, **_LEFT},
    "thanks": {**_FONT, "italic": True, "font_color": pr.MUTED, **_LEFT},
}
_PARTY_STYLE = {"name": "name", "company": "text", "address": "text", "contact": "muted"}


def _digits(value: Decimal) -> int:
    """Decimal places of ``value`` without trailing zeros (``1E+1`` -> 0)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _decimal_format(digits: int, grouping: bool = True) -> str:
    base = "#,##0" if grouping else "0"
    return base + ("." + "0" * digits if digits else "")


class _Money:
    """Excel number formats of amounts in one currency and locale."""

    def __init__(self, currency: str, locale: Locale) -> None:
        self.minor = minor_unit(currency)
        self.symbol = get_currency_symbol(currency, locale=locale).replace('"', "")
        # Where the locale writes the symbol: "¤#,##0.00" (en), "#,##0.00 ¤" (de).
        pattern = locale.currency_formats["standard"].pattern.split(";")[0]
        pattern = pattern.replace("\u200f", "").replace("\u200e", "").strip()
        self._prefix = pattern.startswith("¤")
        self._space = " " if ("\xa0" in pattern or " " in pattern) else ""
        self._formats: dict[int, str] = {}

    def format(self, digits: int | None = None) -> str:
        """Number format of an amount with ``digits`` decimals (default:
        the currency's minor unit), e.g. ``'"€"#,##0.00'``."""
        digits = self.minor if digits is None else max(digits, self.minor)
        fmt = self._formats.get(digits)
        if fmt is None:
            number = _decimal_format(digits)
            fmt = f'"{self.symbol}{self._space}"{number}' if self._prefix else f'{number}"{self._space}{self.symbol}"'
            self._formats[digits] = fmt
        return fmt


class _Styles:
    """The cell formats of one workbook, each created once: a style name
    (:data:`_STYLES`) with an optional number format and quote prefix."""

    def __init__(self, wb: Workbook) -> None:
        self._wb = wb
        self._made: dict[tuple[str, str | None, bool], Format] = {}

    def __call__(self, style: str, num_format: str | None = None, quote: bool = False) -> Format:
        key = (style, num_format, quote)
        fmt = self._made.get(key)
        if fmt is None:
            props = dict(_STYLES[style])
            if num_format is not None:
                props["num_format"] = num_format
            if quote:
                props["quote_prefix"] = True
            fmt = self._made[key] = self._wb.add_format(props)
        return fmt


def _clean(text: str | None) -> str:
    return _ILLEGAL.sub("", text or "")


def _lines(text: str | None) -> list[str]:
    return _clean(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")


class _Sheet:
    """Writes the blocks top to bottom; rows and columns are 1-based here
    (as Excel shows them), XlsxWriter's 0-based only in the cell writers."""

    def __init__(
        self, ws: Worksheet, styles: _Styles, invoice: Invoice, fmt: pr.Formatter, money: _Money, desc_chars: int
    ) -> None:
        self.ws = ws
        self.style = styles
        self.inv = invoice
        self.fmt = fmt
        self.tr = fmt.tr
        self.money = money
        self.desc_chars = desc_chars
        self.row = 1

    def text(self, row: int, col: int, value: str | None, style: str) -> None:
        """User text: always a string cell, never a formula (module docstring)."""
        text = _clean(value)
        if not text:
            self.ws.write_blank(row - 1, col - 1, None, self.style(style))
            return
        if len(text) > _CELL_MAX:  # Excel refuses longer cells as corrupt
            text = text[: _CELL_MAX - 1] + "…"
        self.ws.write_string(row - 1, col - 1, text, self.style(style, quote=text.startswith(_FORMULA_START)))

    def label(self, row: int, col: int, value: str | None, style: str) -> None:
        """A fixed label of ours (not user text); ``None`` a styled blank."""
        if value is None:
            self.ws.write_blank(row - 1, col - 1, None, self.style(style))
        else:
            self.ws.write_string(row - 1, col - 1, value, self.style(style))

    def number(self, row: int, col: int, value: Decimal | int, style: str, num_format: str | None = None) -> None:
        """A numeric cell: the Decimal becomes the cell's float only here."""
        self.ws.write_number(row - 1, col - 1, float(value), self.style(style, num_format))

    def date(self, row: int, col: int, value: date, style: str) -> None:
        """A date cell shown ``d mmm yyyy``; before 1900-03-01 an ISO 8601 text
        cell instead (see :data:`_FIRST_SERIAL_DATE`)."""
        if value < _FIRST_SERIAL_DATE:
            self.ws.write_string(row - 1, col - 1, value.isoformat(), self.style(style))
        else:
            self.ws.write_datetime(row - 1, col - 1, value, self.style(style, _DATE_FORMAT))

    # -- blocks --------------------------------------------------------------

    def heading(self) -> None:
        inv, ws = self.inv, self.ws
        if inv.draft:
            # A row of its own above everything: DRAFT, not a valid document.
            kind = "credit note" if pr.is_credit(inv) else "invoice"
            self.label(1, 1, self.tr(f"DRAFT - not a valid {kind}"), "draft")
            ws.set_row(0, 30)
            self.row = 2
        self.logo()
        top = self.row
        self.text(top, 1, inv.seller.name, "seller")
        ws.set_row(top - 1, 30)
        self.label(top, _COL_TOTAL, pr.title(inv, self.tr), "title")
        details = pr.party_lines(inv.seller, with_name=False, tr=self.tr)
        for i, line in enumerate(details):
            self.text(top + 1 + i, 1, line.text, "muted")

        meta = pr.meta_rows(inv, self.tr)
        period = pr.period_text(inv, self.fmt)
        if period is not None:
            meta.append(period)
        for i, (label, value) in enumerate(meta):
            row = top + 1 + i
            self.label(row, _COL_RATE, label, "meta label")
            if isinstance(value, str):
                self.text(row, _COL_TOTAL, value, "meta")
            else:
                self.date(row, _COL_TOTAL, value, "meta")
        self.row = top + 1 + max(len(details), len(meta)) + 1

    def logo(self) -> None:
        """The seller's logo in a row of its own above the seller's name, 18 mm
        high and as wide as its aspect ratio says (never distorted); nothing
        if there is none or XlsxWriter cannot read it (PNG and JPEG it can)."""
        data = self.inv.logo
        if not data:
            return
        try:
            image = Image(io.BytesIO(data))
        except XlsxWriterException:
            return
        if not image.width or not image.height:
            return
        # XlsxWriter draws width x scale x 96 / dpi pixels (and so the height);
        # the shape is the pixels' (as in the PDF), whatever the dpi say.
        # A very wide logo is scaled down as a whole to _LOGO_MAX_W_PX.
        height_px = min(_LOGO_PX, _LOGO_MAX_W_PX * image.height / image.width)
        width_px = height_px * image.width / image.height
        x_scale = width_px / (image.width * 96.0 / image.x_dpi)
        y_scale = height_px / (image.height * 96.0 / image.y_dpi)
        self.ws.set_row(self.row - 1, height_px * 0.75 + 8)  # points: 0.75 per pixel, and some air
        self.ws.insert_image(
            self.row - 1,
            0,
            "logo",
            {
                "image_data": io.BytesIO(data),
                "x_scale": x_scale,
                "y_scale": y_scale,
                "x_offset": 2,
                "y_offset": 4,
                "object_position": 3,
                "description": _clean(self.inv.seller.name),
            },
        )
        self.row += 1

    def parties(self) -> None:
        inv = self.inv
        blocks = [(1, self.tr(pr.BILL_TO), inv.buyer)]
        if inv.ship_to is not None:
            blocks.append((_COL_PRICE, self.tr(pr.SHIP_TO), inv.ship_to))
        top = self.row
        height = 0
        for col, title, party in blocks:
            self.label(top, col, title, "label")
            lines = pr.party_lines(party, tr=self.tr)
            for i, line in enumerate(lines, start=1):
                self.text(top + i, col, line.text, _PARTY_STYLE[line.kind])
            height = max(height, len(lines) + 1)
        self.row = top + height + 1

    def table(self) -> int:
        """Write the item table; returns the header row number."""
        inv, money = self.inv, self.money
        header = self.row
        for col, title in enumerate(_TITLES, start=1):
            self.label(header, col, self.tr(title), "header" if col in (_COL_DESC, _COL_UNIT) else "header num")
        self.ws.set_row(header - 1, 20)

        total_format = money.format()
        row = header
        for index, (line, net) in enumerate(zip(inv.lines, inv.totals.line_nets, strict=True)):
            row += 1
            z = " z" if index % 2 else ""
            text_style, num_style = "cell" + z, "cell num" + z
            self.number(row, _COL_POS, line.position, num_style)
            self.text(row, _COL_DESC, line.description, text_style)
            self._fit_height(row, line.description)
            self.number(row, _COL_QTY, line.quantity, num_style, _decimal_format(_digits(line.quantity)))
            self.text(row, _COL_UNIT, line.unit, text_style)
            self.number(row, _COL_PRICE, line.unit_price, num_style, money.format(_digits(line.unit_price)))
            rate_format = _decimal_format(_digits(line.tax_rate), grouping=False) + "%"
            self.number(row, _COL_RATE, line.tax_rate / 100, num_style, rate_format)
            self.number(row, _COL_TOTAL, net, num_style, total_format)
        self.row = row + 2
        return header

    def _fit_height(self, row: int, description: str) -> None:
        """Set the height of a row whose description wraps; spreadsheet
        programs do not all fit row heights of a file when they open it."""
        # Proportional text fits some 10% more characters than the column
        # width counts (in "0"s); word wrapping loses a little of that again.
        per_line = self.desc_chars * 1.1
        n = sum(max(1, math.ceil(len(p) / per_line)) for p in _lines(description))
        if n > 1:
            self.ws.set_row(row - 1, min(_ROW_MAX_PT, 13.0 * n + 4))

    def totals(self) -> None:
        inv = self.inv
        rows, (total_label, gross) = pr.totals_rows(
            inv.totals, self.fmt, credit=pr.is_credit(inv), allowances=inv.allowances, charges=inv.charges
        )
        for label, amount in rows:
            self.label(self.row, _COL_RATE, label, "sum label")
            self.number(self.row, _COL_TOTAL, amount, "sum", self.money.format())
            self.row += 1
        # The total on a grey band across the last three columns.
        self.label(self.row, _COL_PRICE, None, "total label")
        self.label(self.row, _COL_RATE, total_label, "total label")
        self.number(self.row, _COL_TOTAL, gross, "total", self.money.format())
        self.ws.set_row(self.row - 1, 20)
        self.row += 2

    def payment(self) -> None:
        """The "Bank transfer" block (EN 16931 BG-16): account holder, IBAN in
        groups of four, BIC and payment reference, labels in column A and
        values (text cells) in column B. No QR code: a sheet is not paid by
        scanning."""
        block = pr.payment_block(self.inv, self.tr)
        if block is None:
            return
        self.label(self.row, 1, block.title, "label")
        self.row += 1
        for label, value in block.rows:
            self.label(self.row, 1, label, "muted")
            self.text(self.row, _COL_DESC, value, "name")
            self.row += 1
        self.row += 1

    def texts(self, width: int) -> None:
        inv = self.inv
        show_notes, thanks = pr.thanks(inv.notes, self.tr)
        notes = pr.vat_notes(inv.totals, self.fmt)
        blocks = [(self.tr(pr.VAT_NOTES), "\n".join(notes)), (self.tr(pr.PAYMENT_TERMS), inv.payment_terms)]
        if show_notes:
            blocks.append((self.tr(pr.NOTES), inv.notes))
        for title, text in blocks:
            if not text or not text.strip():
                continue
            self.label(self.row, 1, title, "label")
            self.row += 1
            for para in _lines(text):
                for line in textwrap.wrap(para, width=width, break_long_words=True) or [""]:
                    self.text(self.row, 1, line, "text")
                    self.row += 1
            self.row += 1
        self.text(self.row, 1, thanks, "thanks")


def _column_widths(invoice: Invoice, money: _Money) -> list[float]:
    """Column widths in Excel character units, fitted to the item table."""
    lines = invoice.lines
    widths = [float(len(t)) + 3 for t in _TITLES]
    extra = len(money.symbol) + 2  # currency symbol, space, sign

    def fit(col: int, lengths: Iterable[int]) -> None:
        widths[col - 1] = max(widths[col - 1], max(lengths, default=0) + 3)

    def amount_len(value: Decimal, digits: int) -> int:
        return len(f"{value:,.{digits}f}") + extra

    fit(_COL_POS, (len(str(line.position)) for line in lines))
    fit(_COL_DESC, (len(part) for line in lines for part in _clean(line.description).splitlines()))
    widths[_COL_DESC - 1] = min(max(widths[_COL_DESC - 1], 30), _DESC_MAX_WIDTH)
    fit(_COL_QTY, (amount_len(line.quantity, _digits(line.quantity)) - extra + 1 for line in lines))
    fit(_COL_UNIT, (len(_clean(line.unit)) for line in lines))
    fit(_COL_PRICE, (amount_len(line.unit_price, max(money.minor, _digits(line.unit_price))) for line in lines))
    totals = invoice.totals
    fit(_COL_TOTAL, (amount_len(a, money.minor) for a in (totals.gross, totals.net, totals.tax, *totals.line_nets)))
    widths[_COL_TOTAL - 1] = max(widths[_COL_TOTAL - 1], 14)  # also holds the dates
    return [min(w, 80) * 1.1 for w in widths]


def render(invoice: Invoice, options: RenderOptions) -> bytes:
    """The ``xlsx`` format's renderer (:data:`invoicer.invoice.formats.Renderer`):
    :func:`render_xlsx` in ``options.locale`` (a sheet has no page size)."""
    return render_xlsx(invoice, locale=options.locale)


def render_xlsx(invoice: Invoice, *, locale: str = "en_GB") -> bytes:
    """Render ``invoice`` as an XLSX workbook (Office Open XML) and return its
    bytes.

    One sheet "Invoice" ("Credit note" for a credit note): seller, title with invoice number and dates, Bill To
    / Ship To, the item table (ITEM #, DESCRIPTION, QTY, UNIT, UNIT PRICE,
    VAT %, TOTAL) with panes frozen under its header and the header repeated
    on printed pages, then subtotal, VAT per rate and total. Amounts are
    numeric cells (floats converted from the model's Decimals, which are
    already rounded to the currency's minor unit, EN 16931) with a number
    format in ``invoice.currency`` and its minor-unit digits; quantities are
    numbers, VAT rates percentages (0.19 shown as 19%), dates real dates
    (from 1900-03-01 on; earlier ones ISO 8601 text, as no serial number
    names them in every spreadsheet program).
    ``locale`` (CLDR, e.g. ``"en_GB"``) decides the language of the labels and
    the sheet's name (:mod:`invoicer.invoice.i18n`), where the currency
    symbol goes and how the VAT labels write amounts. Allowances and charges
    are rows of the totals; VAT notes (reverse charge, exemption reasons)
    and the bank transfer block (IBAN in groups of four) follow them. The
    seller's logo (``invoice.logo``) sits above the seller, 18 mm high.

    A credit note (``invoice.document_type``) is titled "CREDIT NOTE", names
    the invoice it corrects (EN 16931 BT-25) and labels its total "Total
    credit"; a draft (``invoice.draft``) has no number, a first row "DRAFT -
    not a valid invoice" and "DRAFT" in the header of every printed page.

    User text is always a string cell, never a formula. Pure: no I/O.

    Raises ``ValueError`` for an unknown ``locale``.
    """
    babel_locale = pr.parse_locale(locale)
    money = _Money(invoice.currency, babel_locale)

    buffer = io.BytesIO()
    wb = Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    tr = translator(babel_locale)
    wb.set_properties({"title": _clean(pr.document_name(invoice, tr)), "author": _clean(invoice.seller.name)})
    ws = wb.add_worksheet(tr("Credit note" if pr.is_credit(invoice) else "Invoice"))
    ws.hide_gridlines(2)
    if invoice.draft:
        # Every printed page of a draft says so, in its header.
        ws.set_header(f'&C&"Calibri,Bold"&28&K1F63C6{tr(pr.DRAFT)}')

    widths = _column_widths(invoice, money)
    for col, width in enumerate(widths):
        # Widths are Excel's stored widths (in "0"s of Calibri 11, padding
        # included); set_column would add the cell padding once more.
        ws.set_column_pixels(col, col, round(width * _DIGIT_PX))

    sheet = _Sheet(
        ws,
        _Styles(wb),
        invoice,
        pr.Formatter(invoice.currency, babel_locale),
        money,
        desc_chars=max(10, int(widths[_COL_DESC - 1] / 1.1) - 3),
    )
    sheet.heading()
    sheet.parties()
    header = sheet.table()
    sheet.totals()
    sheet.payment()
    sheet.texts(width=int(sum(widths) / 1.1))

    ws.freeze_panes(header, 0)  # rows 1..header stay in view
    ws.repeat_rows(header - 1)
    ws.fit_to_pages(1, 0)
    wb.close()
    return buffer.getvalue()
