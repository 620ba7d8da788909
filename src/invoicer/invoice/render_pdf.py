"""Render an :class:`~invoicer.invoice.model.Invoice` as a PDF.

Drawn with ReportLab's low-level canvas (``reportlab.pdfgen.canvas``), not
platypus: this module does its own small layout. Every block is measured and
placed on pages first (so that "Page x of y" is known), then drawn. The layout
follows ``LAYOUT.md``: seller block, "INVOICE" title with number and dates,
Bill To / Ship To, the item table (header repeated on every page), the totals
box, payment terms and notes, a thank-you line, and a footer on every page.

User text is only ever drawn as text-object strings (``textOut``), which
draw characters, never markup: ``<b>``, ``&amp;`` or ``<para>`` in a
description appear literally. All text is set in DejaVu Sans (embedded
subset, see :mod:`invoicer.invoice.typefaces`), so Latin, Greek and Cyrillic
text shows and can be extracted.

Amounts are printed from ``invoice.totals`` (computed by the model, EN 16931),
formatted with Babel for the invoice currency and the requested locale.

Speed: all text of a page goes into one PDF text object, colours are set only
when they change, and the table's column rules are drawn once per page.
Word widths, formatted numbers and dates, and embedded font subsets
(:mod:`invoicer.invoice.typefaces`) are cached per process.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from .model import Invoice, Party
from .typefaces import Typefaces, register_fonts

__all__ = ["PAGE_SIZES", "render_pdf"]

PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": A4, "LETTER": LETTER}
"""Supported page sizes, (width, height) in points (1/72 inch)."""

THANK_YOU = "Thank you for your business."

# Palette.
NAVY = HexColor("#1B2B4B")
ACCENT = HexColor("#1F63C6")
INK = HexColor("#1E2530")
MUTED = HexColor("#5F6B7A")
GRID = HexColor("#C9D0DA")
ZEBRA = HexColor("#F2F5F9")
BOX = HexColor("#F4F6F9")
BAND = HexColor("#E2E6EC")

# Geometry, in points.
MARGIN_X = 54.0
MARGIN_TOP = 50.0
MARGIN_BOTTOM = 66.0  # lowest point of the content; the footer sits below
FOOTER_Y = 34.0
CELL_PAD_X = 6.0
CELL_PAD_Y = 4.5
TABLE_SIZE = 8.5
TABLE_LEADING = 11.0
HEADER_ROW_H = 20.0
CONTINUATION_H = 30.0  # running header on pages 2..n

_ASCENT = 0.95  # baseline below the top of a line, in ems (DejaVu: accents fit)
_DESCENT = 0.25

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # controls, lone surrogates


# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    """User text as drawable characters: line breaks kept as ``\\n``, tabs as
    spaces, other control characters dropped. Nothing is interpreted."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", text)


def _one_line(text: str | None) -> str:
    return " ".join(_clean(text).split())


_WIDTHS: dict[tuple[str, str], float] = {}
_WIDTHS_MAX = 50_000


def _width(text: str, font: str, size: float) -> float:
    """Width of ``text`` in points; widths of words are cached per process
    (words recur within and across invoices, and wrapping measures each)."""
    key = (font, text)
    width = _WIDTHS.get(key)
    if width is None:
        width = stringWidth(text, font, 1.0)
        if len(_WIDTHS) >= _WIDTHS_MAX:
            _WIDTHS.clear()
        _WIDTHS[key] = width
    return width * size


def _hard_break(word: str, font: str, size: float, width: float) -> list[str]:
    """Break ``word`` between characters so that no piece is wider than
    ``width`` (for words longer than a column, e.g. URLs or IBANs)."""
    pieces: list[str] = []
    current, used = "", 0.0
    for char in word:
        char_w = _width(char, font, size)
        if current and used + char_w > width:
            pieces.append(current)
            current, used = char, char_w
        else:
            current += char
            used += char_w
    if current:
        pieces.append(current)
    return pieces


def _wrap_para(para: str, font: str, size: float, width: float, out: list[str]) -> None:
    """Greedy word wrap of one paragraph (single spaces between words)."""
    space = _width(" ", font, size)
    line: list[str] = []
    used = 0.0
    for word in para.split(" "):
        word_w = _width(word, font, size)
        if line and used + space + word_w <= width:
            line.append(word)
            used += space + word_w
            continue
        if line:
            out.append(" ".join(line))
        if word_w <= width:
            line, used = [word], word_w
        else:
            *full, last = _hard_break(word, font, size, width)
            out.extend(full)
            line, used = [last], _width(last, font, size)
    if line:
        out.append(" ".join(line))


def _wrap(text: str | None, font: str, size: float, width: float) -> list[str]:
    """Wrap ``text`` into lines no wider than ``width`` points, keeping the
    user's line breaks (one blank line at most between paragraphs). Words
    longer than ``width`` are broken between characters."""
    lines: list[str] = []
    for para in _clean(text).split("\n"):
        para = " ".join(para.split())
        if not para:
            if lines and lines[-1]:
                lines.append("")
        elif _width(para, font, size) <= width:
            lines.append(para)
        else:
            _wrap_para(para, font, size, width, lines)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _fit_size(text: str, font: str, size: float, width: float, minimum: float = 5.0) -> float:
    """Largest font size <= ``size`` at which ``text`` fits in ``width``."""
    natural = _width(text, font, size)
    if natural <= width or natural == 0:
        return size
    return max(minimum, size * width / natural)


def _ellipsize(text: str, font: str, size: float, width: float) -> str:
    """``text``, cut and ended with "…" if it is wider than ``width``."""
    if _width(text, font, size) <= width:
        return text
    room = width - _width("…", font, size)
    used, cut = 0.0, 0
    for cut, char in enumerate(text):
        used += _width(char, font, size)
        if used > room:
            break
    return text[:cut].rstrip() + "…"


def _cap(lines: list[str], limit: int, font: str, size: float, width: float) -> list[str]:
    """At most ``limit`` lines, the last one ending with "…" if any were cut
    (a guard against pathological input in the blocks above the table)."""
    if len(lines) <= limit:
        return lines
    return lines[: limit - 1] + [_ellipsize(lines[limit - 1] + "…", font, size, width)]


def _block_height(n_lines: int, size: float, leading: float) -> float:
    """Height of ``n_lines`` lines of ``size``-point text at ``leading``."""
    if n_lines <= 0:
        return 0.0
    return (n_lines - 1) * leading + (_ASCENT + _DESCENT) * size


# --------------------------------------------------------------------------
# Formatting (Babel)
# --------------------------------------------------------------------------


_FORMATTED: dict[tuple, str] = {}
_FORMATTED_MAX = 50_000


class _Formats:
    """Locale-aware formatting of the invoice's numbers and dates.

    Babel takes some 30-40 us per number. Quantities, rates, prices and dates
    recur within an invoice and across invoices, so each result is kept per
    process, keyed by the value's exact representation (``as_tuple``:
    ``1.0`` and ``1`` are formatted differently and are different keys),
    the currency and the locale. The cache changes nothing but the speed.
    """

    def __init__(self, currency: str, locale: Locale) -> None:
        self.currency = currency
        self.locale = locale
        self._key = (currency, str(locale))

    def _cached(self, kind: str, key, make: Callable[[], str]) -> str:
        full = (kind, key, self._key)
        text = _FORMATTED.get(full)
        if text is None:
            text = make()
            if len(_FORMATTED) >= _FORMATTED_MAX:
                _FORMATTED.clear()
            _FORMATTED[full] = text
        return text

    def money(self, amount: Decimal) -> str:
        """An amount already rounded to the currency's minor unit."""
        return self._cached("money", amount.as_tuple(),
                            lambda: format_currency(amount, self.currency, locale=self.locale))

    def price(self, amount: Decimal) -> str:
        """A unit price: at least the currency's digits, more if given."""
        return self._cached("price", amount.as_tuple(), lambda: format_currency(
            amount, self.currency, locale=self.locale, decimal_quantization=False))

    def number(self, value: Decimal) -> str:
        """A quantity or a rate, all significant digits (Decimal('1E+1') -> '10')."""
        return self._cached("number", value.as_tuple(),
                            lambda: format_decimal(value, locale=self.locale, decimal_quantization=False))

    def percent(self, rate: Decimal) -> str:
        """A rate in percent as the locale writes it: '19%', '7.5%', '19 %'."""
        return self._cached("percent", rate.as_tuple(), lambda: format_percent(
            rate / 100, locale=self.locale, decimal_quantization=False))

    def date(self, value: date) -> str:
        return self._cached("date", value, lambda: format_date(value, format="medium", locale=self.locale))


# --------------------------------------------------------------------------
# Drawing: one text object per page, colours set only when they change
# --------------------------------------------------------------------------


class _Ink:
    """Draws one page. Shapes go straight to the canvas; text is collected
    in a single text object emitted last, so text is always on top."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self._text = canvas.beginText()
        self._font: tuple[str, float] | None = None
        self._text_fill: Color | None = None
        self._fill: Color | None = None
        self._stroke: Color | None = None

    def text(
        self,
        x: float,
        y: float,
        s: str,
        font: str,
        size: float,
        colour: Color,
        *,
        right: bool = False,
        char_space: float = 0.0,
    ) -> None:
        """Draw ``s`` with its baseline at ``y``, starting at ``x`` (or
        ending at ``x`` if ``right``). ``s`` is drawn literally."""
        if not s:
            return
        t = self._text
        if self._font != (font, size):
            t.setFont(font, size)
            self._font = (font, size)
        if self._text_fill is not colour:
            t.setFillColor(colour)
            self._text_fill = colour
        if right:
            x -= _width(s, font, size)
        t.setTextOrigin(x, y)
        if char_space:
            t.setCharSpace(char_space)
            t.textOut(s)
            t.setCharSpace(0)
        else:
            t.textOut(s)

    def rect(self, x: float, y: float, w: float, h: float, colour: Color) -> None:
        if self._fill is not colour:
            self.canvas.setFillColor(colour)
            self._fill = colour
        self.canvas.rect(x, y, w, h, stroke=0, fill=1)

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: Color = GRID) -> None:
        if self._stroke is not colour:
            self.canvas.setStrokeColor(colour)
            self.canvas.setLineWidth(0.5)
            self._stroke = colour
        self.canvas.line(x1, y1, x2, y2)

    def finish(self) -> None:
        self.canvas.drawText(self._text)


Draw = Callable[[_Ink], None]


# --------------------------------------------------------------------------
# Pagination
# --------------------------------------------------------------------------


class _Pages:
    """Places blocks top to bottom on pages; a block that does not fit in
    what is left of a page goes to the next one. Drawing is deferred."""

    def __init__(self, height: float, on_new_page: Callable[[], None]) -> None:
        self.top = height - MARGIN_TOP
        self.pages: list[list[Draw]] = []
        self.y = self.top
        self._on_new_page = on_new_page

    @property
    def room(self) -> float:
        return self.y - MARGIN_BOTTOM

    @property
    def full(self) -> float:
        """Room on a fresh continuation page (below its running header)."""
        return self.top - MARGIN_BOTTOM - CONTINUATION_H

    def new_page(self) -> None:
        self.pages.append([])
        self.y = self.top
        if len(self.pages) > 1:
            self._on_new_page()

    def place(self, height: float, draw: Callable[[_Ink, float], None]) -> None:
        """Put a block of ``height`` at the current position; it is drawn
        later by ``draw(ink, top)``."""
        top = self.y
        self.pages[-1].append(lambda ink: draw(ink, top))
        self.y -= height

    def skip(self, gap: float) -> None:
        self.y -= gap

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` fits in the room left."""
        if height > self.room:
            self.new_page()


# --------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------


@dataclass(slots=True)
class _Column:
    title: str
    width: float
    right: bool  # right-aligned (numbers)


@dataclass(slots=True)
class _Row:
    cells: list[list[str]]  # lines per column
    sizes: list[float]  # font size per column (numbers shrink to fit)
    shade: bool


@dataclass(slots=True)
class _Segment:
    """The part of the item table on one page, for its column rules."""

    page: int
    top: float
    bottom: float


class _Document:
    def __init__(self, invoice: Invoice, size: tuple[float, float], fmt: _Formats, faces: Typefaces):
        self.inv = invoice
        self.page_w, self.page_h = size
        self.fmt = fmt
        self.f = faces
        self.left = MARGIN_X
        self.width = self.page_w - 2 * MARGIN_X
        self.right = self.left + self.width
        self.in_table = False
        self.columns: list[_Column] = []
        self.segments: list[_Segment] = []
        self.pages = _Pages(self.page_h, self._continue_page)

    # -- pass 1: layout ----------------------------------------------------

    def layout(self) -> list[list[Draw]]:
        p = self.pages
        p.new_page()
        self._heading()
        p.skip(20)
        self._parties()
        p.skip(20)
        self._table()
        p.skip(14)
        self._totals()
        self._texts()
        return p.pages

    def _continue_page(self) -> None:
        """Running header on pages 2..n, and the table header if the table
        continues on this page."""
        f = self.f
        title_w = stringWidth("INVOICE", f.bold, 11) + 8
        rest = _ellipsize(f"{_one_line(self.inv.invoice_number)} (continued)", f.regular, 9, self.width - title_w)

        def draw(ink: _Ink, top: float) -> None:
            base = top - 11 * _ASCENT
            ink.text(self.left, base, "INVOICE", f.bold, 11, ACCENT)
            ink.text(self.left + title_w, base, rest, f.regular, 9, MUTED)

        self.pages.place(CONTINUATION_H, draw)
        if self.in_table:
            self._table_header()

    def _heading(self) -> None:
        """Seller block on the left, title block on the right, side by side."""
        f, inv, fmt = self.f, self.inv, self.fmt
        seller: Party = inv.seller
        seller_w = self.width * 0.56
        title_w = self.width * 0.40

        name_lines = _cap(_wrap(seller.name, f.bold, 17, seller_w), 3, f.bold, 17, seller_w)
        details: list[str] = []
        if seller.company and _one_line(seller.company):
            details += _wrap(_one_line(seller.company), f.regular, 8.5, seller_w)
        for line in seller.address_lines:
            details += _wrap(line, f.regular, 8.5, seller_w)
        for label, value in (("Phone", seller.phone), ("Email", seller.email), ("VAT ID", seller.vat_id)):
            if value and _one_line(value):
                details += _wrap(f"{label}: {_one_line(value)}", f.regular, 8.5, seller_w)
        details = _cap(details, 12, f.regular, 8.5, seller_w)
        name_h = _block_height(len(name_lines), 17, 20)
        seller_h = name_h + (6 + _block_height(len(details), 8.5, 11.5) if details else 0)

        meta = [("Invoice no.", _one_line(inv.invoice_number)), ("Issue date", fmt.date(inv.issue_date))]
        if inv.due_date:
            meta.append(("Due date", fmt.date(inv.due_date)))
        label_w = max(stringWidth(label, f.regular, 8.5) for label, _ in meta)
        value_max = title_w - label_w - 10
        meta_rows = [
            (label, _cap(_wrap(value, f.bold, 9, value_max), 3, f.bold, 9, value_max) or [""]) for label, value in meta
        ]
        value_w = max(stringWidth(line, f.bold, 9) for _, lines in meta_rows for line in lines)
        title_h = 26 * (_ASCENT + _DESCENT) + 8 + _block_height(sum(len(v) for _, v in meta_rows), 9, 12.5)

        def draw(ink: _Ink, top: float) -> None:
            # Seller: name large and bold, details small below it.
            y = top - 17 * _ASCENT
            for line in name_lines:
                ink.text(self.left, y, line, f.bold, 17, NAVY)
                y -= 20
            y = top - name_h - 6 - 8.5 * _ASCENT
            for line in details:
                ink.text(self.left, y, line, f.regular, 8.5, MUTED)
                y -= 11.5
            # Title, then its labelled number and dates below it.
            ink.text(self.right, top - 26 * _ASCENT, "INVOICE", f.bold, 26, ACCENT, right=True)
            y = top - 26 * (_ASCENT + _DESCENT) - 8 - 9 * _ASCENT
            label_x = self.right - value_w - 10
            for label, lines in meta_rows:
                ink.text(label_x, y, label, f.regular, 8.5, MUTED, right=True)
                for line in lines:
                    ink.text(self.right, y, line, f.bold, 9, INK, right=True)
                    y -= 12.5

        self.pages.place(max(seller_h, title_h), draw)

    def _party_lines(self, party: Party, width: float) -> list[tuple[str, float, Color, str]]:
        """(font, size, colour, text) lines of a Bill To / Ship To box."""
        f = self.f
        out: list[tuple[str, float, Color, str]] = []

        def add(text: str, font: str, size: float, colour: Color) -> None:
            out.extend((font, size, colour, line) for line in _wrap(text, font, size, width))

        add(party.name, f.bold, 9.5, INK)
        if party.company:
            add(party.company, f.regular, 9, INK)
        for line in party.address_lines:
            add(line, f.regular, 9, INK)
        for label, value in (("Phone", party.phone), ("Email", party.email), ("VAT ID", party.vat_id)):
            if value and _one_line(value):
                add(f"{label}: {_one_line(value)}", f.regular, 8.5, MUTED)
        return out

    def _parties(self) -> None:
        f, inv = self.f, self.inv
        gap, pad, leading = 14.0, 9.0, 12.5
        box_w = (self.width - gap) / 2
        boxes = [("BILL TO", inv.buyer)]
        if inv.ship_to is not None:
            boxes.append(("SHIP TO", inv.ship_to))
        contents = [(label, self._party_lines(party, box_w - 2 * pad - 3)) for label, party in boxes]
        # A pathological address must not push the table off the first page.
        max_lines = 16
        for i, (label, lines) in enumerate(contents):
            if len(lines) > max_lines:
                font, size, colour, text = lines[max_lines - 1]
                last = _ellipsize(text + "…", font, size, box_w - 2 * pad - 3)
                contents[i] = (label, lines[: max_lines - 1] + [(font, size, colour, last)])
        n = max(len(lines) for _, lines in contents)
        height = pad + 7.5 * (_ASCENT + _DESCENT) + 6 + _block_height(n, 9.5, leading) + pad

        def draw(ink: _Ink, top: float) -> None:
            for i, (label, lines) in enumerate(contents):
                x = self.left + i * (box_w + gap)
                ink.rect(x, top - height, box_w, height, BOX)
                ink.rect(x, top - height, 2.5, height, NAVY)
                y = top - pad - 7.5 * _ASCENT
                ink.text(x + pad + 3, y, label, f.bold, 7.5, NAVY, char_space=0.8)
                y -= 7.5 * _DESCENT + 6 + 9.5 * _ASCENT
                for font, size, colour, text in lines:
                    ink.text(x + pad + 3, y, text, font, size, colour)
                    y -= leading

        self.pages.place(height, draw)

    # -- item table ----------------------------------------------------------

    def _table(self) -> None:
        f, fmt, inv = self.f, self.fmt, self.inv
        size, pad = TABLE_SIZE, CELL_PAD_X
        head_size = 7.5

        texts = []
        for line, net in zip(inv.lines, inv.totals.line_nets):
            qty = fmt.number(line.quantity)
            unit = _one_line(line.unit)
            texts.append(
                (
                    str(line.position),
                    line.description,
                    f"{qty} {unit}" if unit else qty,
                    fmt.price(line.unit_price),
                    fmt.number(line.tax_rate),
                    fmt.money(net),
                )
            )

        titles = ["ITEM #", "DESCRIPTION", "QTY", "UNIT PRICE", "VAT %", "TOTAL"]
        # Number columns are as wide as their widest cell, between a floor
        # that leaves some air and a cap; the description takes the rest.
        floors = [0.0, 0.0, 40.0, 62.0, 0.0, 66.0]
        caps = [40.0, 0.0, 76.0, 96.0, 46.0, 100.0]
        widths = []
        for col, title in enumerate(titles):
            if col == 1:
                widths.append(0.0)
                continue
            head_w = stringWidth(title, f.bold, head_size) + 2 * pad
            natural = max([head_w, floors[col]] + [_width(t[col], f.regular, size) + 2 * pad for t in texts])
            widths.append(min(natural, max(caps[col], head_w)))
        widths[1] = self.width - sum(widths)
        self.columns = [_Column(t, w, col != 1) for col, (t, w) in enumerate(zip(titles, widths))]

        rows = []
        for index, t in enumerate(texts):
            cells, sizes = [], []
            for col, text in enumerate(t):
                inner = widths[col] - 2 * pad
                if col in (1, 2):  # description and quantity with unit wrap
                    cells.append(_wrap(text, f.regular, size, inner) or [""])
                    sizes.append(size)
                else:  # a single number: shrink to fit rather than overflow
                    cells.append([text])
                    sizes.append(_fit_size(text, f.regular, size, inner))
            rows.append(_Row(cells, sizes, shade=index % 2 == 1))

        self.pages.ensure(HEADER_ROW_H + _row_height(1))
        self.in_table = True
        self._table_header()
        for row in rows:
            self._place_row(row)
        self.in_table = False
        self._column_rules()

    def _table_header(self) -> None:
        f, columns = self.f, self.columns
        p = self.pages
        self.segments.append(_Segment(len(p.pages) - 1, p.y, p.y - HEADER_ROW_H))

        def draw(ink: _Ink, top: float) -> None:
            ink.rect(self.left, top - HEADER_ROW_H, self.width, HEADER_ROW_H, NAVY)
            base = top - HEADER_ROW_H / 2 - 7.5 * 0.35
            x = self.left
            for col in columns:
                if col.right:
                    ink.text(x + col.width - CELL_PAD_X, base, col.title, f.bold, 7.5, white, right=True)
                else:
                    ink.text(x + CELL_PAD_X, base, col.title, f.bold, 7.5, white)
                x += col.width

        p.place(HEADER_ROW_H, draw)

    def _place_row(self, row: _Row) -> None:
        """Place one row; a row taller than a whole page is split between
        lines, the rest continuing on the next page under the header."""
        p = self.pages
        n = max(len(cell) for cell in row.cells)
        if p.room < _row_height(n) <= p.full - HEADER_ROW_H:
            p.new_page()
        while _row_height(n) > p.room:
            fit = int((p.room - 2 * CELL_PAD_Y - (_ASCENT + _DESCENT) * TABLE_SIZE) // TABLE_LEADING) + 1
            if fit < 1:
                p.new_page()
                continue
            self._put_row(_Row([cell[:fit] for cell in row.cells], row.sizes, row.shade), fit)
            row = _Row([cell[fit:] for cell in row.cells], row.sizes, row.shade)
            n = max(len(cell) for cell in row.cells)
            p.new_page()
        self._put_row(row, n)

    def _put_row(self, row: _Row, n: int) -> None:
        f, columns = self.f, self.columns
        height = _row_height(n)

        def draw(ink: _Ink, top: float) -> None:
            bottom = top - height
            if row.shade:
                ink.rect(self.left, bottom, self.width, height, ZEBRA)
            x = self.left
            for col, lines, size in zip(columns, row.cells, row.sizes):
                y = top - CELL_PAD_Y - TABLE_SIZE * _ASCENT
                tx = x + col.width - CELL_PAD_X if col.right else x + CELL_PAD_X
                for line in lines:
                    ink.text(tx, y, line, f.regular, size, INK, right=col.right)
                    y -= TABLE_LEADING
                x += col.width
            ink.line(self.left, bottom, self.right, bottom)

        self.pages.place(height, draw)
        self.segments[-1].bottom = self.pages.y

    def _column_rules(self) -> None:
        """Thin vertical rules of the table, one set per page it is on."""
        xs = [self.left]
        for col in self.columns:
            xs.append(xs[-1] + col.width)
        for seg in self.segments:
            if seg.bottom >= seg.top - HEADER_ROW_H:
                continue  # a header with no rows under it (cannot happen, but harmless)

            def draw(ink: _Ink, seg: _Segment = seg) -> None:
                top = seg.top - HEADER_ROW_H
                for x in xs:
                    ink.line(x, top, x, seg.bottom)

            self.pages.pages[seg.page].append(draw)

    # -- totals, terms, notes -------------------------------------------------

    def _totals(self) -> None:
        f, fmt, totals = self.f, self.fmt, self.inv.totals
        rows = [("Subtotal", fmt.money(totals.net))]
        for vat in totals.vat_breakdown:
            rows.append((f"VAT {fmt.percent(vat.rate)} on {fmt.money(vat.taxable_amount)}", fmt.money(vat.tax_amount)))
        if len(totals.vat_breakdown) > 1:
            rows.append(("Total VAT", fmt.money(totals.tax)))
        total_label, total_amount = "Total", fmt.money(totals.gross)

        pad, row_h, band_h = 8.0, 17.0, 24.0
        label_w = max(stringWidth(label, f.regular, 9) for label, _ in rows)
        amount_w = max([stringWidth(a, f.regular, 9) for _, a in rows] + [stringWidth(total_amount, f.bold, 10.5)])
        box_w = min(max(label_w + amount_w + 2 * pad + 24, self.width * 0.42), self.width * 0.62)
        x0 = self.right - box_w
        label_room = box_w - amount_w - 2 * pad - 12
        height = len(rows) * row_h + band_h
        sizes = [_fit_size(label, f.regular, 9, label_room) for label, _ in rows]
        amount_room = box_w - 2 * pad - stringWidth(total_label, f.bold, 10.5) - 12
        amount_size = _fit_size(total_amount, f.bold, 10.5, amount_room)

        def draw(ink: _Ink, top: float) -> None:
            y = top
            for (label, amount), size in zip(rows, sizes):
                base = y - row_h / 2 - 9 * 0.35
                ink.text(x0 + pad, base, label, f.regular, size, MUTED)
                ink.text(self.right - pad, base, amount, f.regular, 9, INK, right=True)
                y -= row_h
                ink.line(x0, y, self.right, y)
            ink.rect(x0, y - band_h, box_w, band_h, BAND)
            base = y - band_h / 2 - 10.5 * 0.35
            ink.text(x0 + pad, base, total_label, f.bold, 10.5, NAVY)
            ink.text(self.right - pad, base, total_amount, f.bold, amount_size, NAVY, right=True)

        self.pages.ensure(height)  # the totals box is kept together
        self.pages.place(height, draw)

    def _paragraph(self, title: str, text: str) -> None:
        """A titled paragraph; it may break between lines across pages, with
        the title kept with at least two lines."""
        f, p = self.f, self.pages
        size, leading = 9.0, 12.5
        lines = _wrap(text, f.regular, size, self.width)
        if not lines:
            return
        title_h = 7.5 * (_ASCENT + _DESCENT) + 5

        def draw_title(ink: _Ink, top: float) -> None:
            ink.text(self.left, top - 7.5 * _ASCENT, title, f.bold, 7.5, NAVY, char_space=0.8)

        p.skip(16)
        p.ensure(title_h + _block_height(min(2, len(lines)), size, leading))
        p.place(title_h, draw_title)
        for i, line in enumerate(lines):
            h = _block_height(1, size, leading) if i == len(lines) - 1 else leading
            p.ensure(h)

            def draw_line(ink: _Ink, top: float, line: str = line) -> None:
                ink.text(self.left, top - size * _ASCENT, line, f.regular, size, INK)

            p.place(h, draw_line)

    def _texts(self) -> None:
        f, inv, p = self.f, self.inv, self.pages
        notes = _one_line(inv.notes)
        # A note that only says thank you becomes the thank-you line itself.
        notes_are_thanks = notes.casefold() == THANK_YOU.casefold()
        if _one_line(inv.payment_terms):
            self._paragraph("PAYMENT TERMS", inv.payment_terms or "")
        if notes and not notes_are_thanks:
            self._paragraph("NOTES", inv.notes or "")
        thanks = notes if notes_are_thanks else THANK_YOU
        size = 9.5
        height = size * (_ASCENT + _DESCENT)
        p.skip(18)
        p.ensure(height)

        def draw(ink: _Ink, top: float) -> None:
            ink.text(self.left, top - size * _ASCENT, thanks, f.italic, size, MUTED)

        p.place(height, draw)

    # -- pass 2: drawing ---------------------------------------------------

    def footer(self, ink: _Ink, page: int, pages: int) -> None:
        f = self.f
        ink.line(self.left, FOOTER_Y + 12, self.right, FOOTER_Y + 12)
        page_text = f"Page {page} of {pages}"
        ink.text(self.right, FOOTER_Y, page_text, f.regular, 7.5, MUTED, right=True)
        room = self.width - stringWidth(page_text, f.regular, 7.5) - 24
        left = f"{_one_line(self.inv.seller.name)} · Invoice {_one_line(self.inv.invoice_number)}"
        ink.text(self.left, FOOTER_Y, _ellipsize(left, f.regular, 7.5, room), f.regular, 7.5, MUTED)


def _row_height(n_lines: int) -> float:
    return 2 * CELL_PAD_Y + _block_height(n_lines, TABLE_SIZE, TABLE_LEADING)


def _page_size(page_size: str) -> tuple[float, float]:
    try:
        return PAGE_SIZES[page_size.upper()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown page size {page_size!r}; expected one of {sorted(PAGE_SIZES)}") from None


def _locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {locale!r}") from exc


def render_pdf(invoice: Invoice, *, page_size: str = "A4", locale: str = "en_GB") -> bytes:
    """Render ``invoice`` as a PDF document and return its bytes.

    ``page_size`` is ``"A4"`` (595 x 842 pt) or ``"LETTER"`` (612 x 792 pt),
    case-insensitive. ``locale`` is a CLDR locale identifier such as
    ``"en_GB"`` or ``"de_DE"``; it decides how amounts (with the invoice
    currency's own symbol and minor-unit digits, via Babel), quantities, rates
    and dates (CLDR "medium" format) are written. Labels are English.

    Amounts come from ``invoice.totals`` (EN 16931 BR-CO-10, BR-CO-14,
    BR-CO-15, BR-CO-17 as computed by the model); nothing is recomputed here.
    The document has as many pages as the item table needs, with the table
    header and a "Page x of y" footer on each. Title and author metadata are
    set ("Invoice <number>", the seller's name). Pure: no I/O but reading the
    vendored fonts on first use.

    Raises ``ValueError`` for an unknown ``page_size`` or ``locale``.
    """
    size = _page_size(page_size)
    babel_locale = _locale(locale)
    faces = register_fonts()
    doc = _Document(invoice, size, _Formats(invoice.currency, babel_locale), faces)
    pages = doc.layout()

    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=size,
        pageCompression=1,
        initialFontName=faces.regular,
        initialFontSize=9,
        lang=str(babel_locale).replace("_", "-"),
    )
    number = _one_line(invoice.invoice_number)
    canvas.setTitle(f"Invoice {number}")
    canvas.setAuthor(_one_line(invoice.seller.name))
    canvas.setSubject(f"Invoice {number} to {_one_line(invoice.buyer.company or invoice.buyer.name)}")
    canvas.setCreator("invoicer")
    for index, ops in enumerate(pages, start=1):
        ink = _Ink(canvas)
        for op in ops:
            op(ink)
        doc.footer(ink, index, len(pages))
        ink.finish()
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
