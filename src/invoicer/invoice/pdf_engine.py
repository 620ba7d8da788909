"""A small PDF drawing engine on ReportLab's low-level canvas
(``reportlab.pdfgen.canvas``), not platypus: measuring and wrapping text,
placing blocks on pages, a table whose header repeats on every page it
spans, a "Page x of y" footer, and writing the document.

Documents are laid out in two passes. :class:`Pages` places blocks top to
bottom and breaks pages, remembering for each block a drawing function; only
when every page is known (so that "Page x of y" can be written) does
:func:`write_pdf` draw them. The invoice layout that uses the engine is
:mod:`invoicer.invoice.render_pdf`.

User text is only ever drawn as text-object strings (``textOut``), which
draw characters, never markup: ``<b>``, ``&amp;`` or ``<para>`` appear
literally.

Speed: all text of a page goes into one PDF text object, colours are set only
when they change, and a table's column rules are drawn once per page. Word
widths are cached per process.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from reportlab import rl_config
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase.pdfdoc import (
    XMP,
    PDFArray,
    PDFDictionary,
    PDFStream,
    PDFStreamFilterZCompress,
    PDFString,
)
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas

from .formats import Attachment
from .typefaces import Typefaces

# Page streams are deflated and left binary, as the font programs already are.
# ReportLab's default also wraps them in ASCII85 (7-bit text, a quarter larger):
# encoding that was some 15-25 % of a long invoice's PDF time (bench/RESULTS.md).
# Read by ReportLab when a page is written; nothing else in the process uses it.
rl_config.useA85 = 0

__all__ = [
    "ASCENT",
    "DESCENT",
    "PAGE_TEXT",
    "Column",
    "Draw",
    "Ink",
    "Pages",
    "Row",
    "Table",
    "block_height",
    "cap",
    "clean",
    "colour",
    "ellipsize",
    "fit_size",
    "footer_lines",
    "page_footer",
    "width",
    "wrap",
    "write_pdf",
]

ASCENT = 0.95
"""Baseline below the top of a line, in ems (DejaVu: accents fit)."""
DESCENT = 0.25
"""Lowest point below the baseline, in ems."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # controls, lone surrogates
_COLOURS: dict[str, Color] = {}


def colour(hex_rgb: str) -> Color:
    """The ReportLab colour of ``"#RRGGBB"``, one object per value (so that
    :class:`Ink` can tell by identity that a colour did not change)."""
    found = _COLOURS.get(hex_rgb)
    if found is None:
        found = _COLOURS[hex_rgb] = HexColor(hex_rgb)
    return found


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------


def clean(text: str | None) -> str:
    """User text as drawable characters: line breaks kept as ``\\n``, tabs as
    spaces, other control characters dropped. Nothing is interpreted."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", text)


_WIDTHS: dict[tuple[str, str], float] = {}
_WIDTHS_MAX = 50_000


def width(text: str, font: str, size: float) -> float:
    """Width of ``text`` in points; widths of words are cached per process
    (words recur within and across invoices, and wrapping measures each)."""
    key = (font, text)
    found = _WIDTHS.get(key)
    if found is None:
        found = stringWidth(text, font, 1.0)
        if len(_WIDTHS) >= _WIDTHS_MAX:
            _WIDTHS.clear()
        _WIDTHS[key] = found
    return found * size


def _hard_break(word: str, font: str, size: float, room: float) -> list[str]:
    """Break ``word`` between characters so that no piece is wider than
    ``room`` (for words longer than a column, e.g. URLs or IBANs)."""
    pieces: list[str] = []
    current, used = "", 0.0
    for char in word:
        char_w = width(char, font, size)
        if current and used + char_w > room:
            pieces.append(current)
            current, used = char, char_w
        else:
            current += char
            used += char_w
    if current:
        pieces.append(current)
    return pieces


def _wrap_para(para: str, font: str, size: float, room: float, out: list[str]) -> None:
    """Greedy word wrap of one paragraph (single spaces between words)."""
    space = width(" ", font, size)
    line: list[str] = []
    used = 0.0
    for word in para.split(" "):
        word_w = width(word, font, size)
        if line and used + space + word_w <= room:
            line.append(word)
            used += space + word_w
            continue
        if line:
            out.append(" ".join(line))
        if word_w <= room:
            line, used = [word], word_w
        else:
            *full, last = _hard_break(word, font, size, room)
            out.extend(full)
            line, used = [last], width(last, font, size)
    if line:
        out.append(" ".join(line))


def wrap(text: str | None, font: str, size: float, room: float) -> list[str]:
    """Wrap ``text`` into lines no wider than ``room`` points, keeping the
    user's line breaks (one blank line at most between paragraphs). Words
    longer than ``room`` are broken between characters."""
    lines: list[str] = []
    for para in clean(text).split("\n"):
        para = " ".join(para.split())
        if not para:
            if lines and lines[-1]:
                lines.append("")
        elif width(para, font, size) <= room:
            lines.append(para)
        else:
            _wrap_para(para, font, size, room, lines)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def fit_size(text: str, font: str, size: float, room: float, minimum: float = 5.0) -> float:
    """Largest font size <= ``size`` at which ``text`` fits in ``room``."""
    natural = width(text, font, size)
    if natural <= room or natural == 0:
        return size
    return max(minimum, size * room / natural)


def ellipsize(text: str, font: str, size: float, room: float) -> str:
    """``text``, cut and ended with "…" if it is wider than ``room``."""
    if width(text, font, size) <= room:
        return text
    room -= width("…", font, size)
    used, cut = 0.0, 0
    for cut, char in enumerate(text):  # noqa: B007 - where the loop stops is the cut, used below
        used += width(char, font, size)
        if used > room:
            break
    return text[:cut].rstrip() + "…"


def cap(lines: list[str], limit: int, font: str, size: float, room: float) -> list[str]:
    """At most ``limit`` lines, the last one ending with "…" if any were cut
    (a guard against pathological input in blocks that must stay small)."""
    if len(lines) <= limit:
        return lines
    return [*lines[: limit - 1], ellipsize(lines[limit - 1] + "…", font, size, room)]


def block_height(n_lines: int, size: float, leading: float) -> float:
    """Height of ``n_lines`` lines of ``size``-point text at ``leading``."""
    if n_lines <= 0:
        return 0.0
    return (n_lines - 1) * leading + (ASCENT + DESCENT) * size


# --------------------------------------------------------------------------
# Drawing: one text object per page, colours set only when they change
# --------------------------------------------------------------------------


class Ink:
    """Draws one page. Shapes go straight to the canvas; text is collected
    in a single text object emitted last, so text is always on top."""

    def __init__(self, canvas: Canvas, rule: Color) -> None:
        self.canvas = canvas
        self._doc = cast(Any, canvas)._doc  # the canvas's PDFDocument, for ReportLab's fonts
        self._rule = rule
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
            x -= width(s, font, size)
        t.setTextOrigin(x, y)
        if char_space:
            t.setCharSpace(char_space)
            t.textOut(s)
            t.setCharSpace(0)
            return
        inner: Any = t  # ReportLab's text object state, which types-reportlab does not declare
        if inner._curSubset == 0:  # it shows subset 0 of this font already
            face: Any = getFont(font)  # a typefaces._CachingTTFont
            pieces = face.splitString(s, self._doc)
            if len(pieces) == 1 and pieces[0][0] == 0:
                # What ReportLab's textOut writes for text in one subset that is
                # already shown, without its cursor bookkeeping (every text here
                # sets its origin) or width sum; the same bytes (tests/invoice/test_render_pdf.py).
                inner._code.append(f"({escapePDF(pieces[0][1])}) Tj")
                return
        t.textOut(s)

    def rect(self, x: float, y: float, w: float, h: float, colour: Color) -> None:
        """A filled rectangle, no outline; ``(x, y)`` its lower left corner."""
        if self._fill is not colour:
            self.canvas.setFillColor(colour)
            self._fill = colour
        self.canvas.rect(x, y, w, h, stroke=0, fill=1)

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: Color | None = None) -> None:
        """A 0.5 pt line, in the rule colour unless ``colour`` is given."""
        colour = colour or self._rule
        if self._stroke is not colour:
            self.canvas.setStrokeColor(colour)
            self.canvas.setLineWidth(0.5)
            self._stroke = colour
        self.canvas.line(x1, y1, x2, y2)

    def finish(self) -> None:
        self.canvas.drawText(self._text)


Draw = Callable[[Ink], None]


# --------------------------------------------------------------------------
# Pagination
# --------------------------------------------------------------------------


class Pages:
    """Places blocks top to bottom on pages; a block that does not fit in
    what is left of a page goes to the next one. Drawing is deferred.

    ``height`` is the page height, ``margin_top`` and ``margin_bottom`` the
    room kept free above and below the content (points). On every page after
    the first, ``on_new_page()`` is called first (a running header), then the
    header of the table being placed, if any. ``continuation_h`` is the
    height of what ``on_new_page`` places.
    """

    def __init__(
        self,
        height: float,
        on_new_page: Callable[[], None],
        *,
        margin_top: float,
        margin_bottom: float,
        continuation_h: float,
    ) -> None:
        self.top = height - margin_top
        self.bottom = margin_bottom
        self.continuation_h = continuation_h
        self.pages: list[list[Draw]] = []
        self.y = self.top
        self.table: Table | None = None
        self._on_new_page = on_new_page

    @property
    def room(self) -> float:
        return self.y - self.bottom

    @property
    def full(self) -> float:
        """Room on a fresh continuation page (below its running header)."""
        return self.top - self.bottom - self.continuation_h

    def new_page(self) -> None:
        self.pages.append([])
        self.y = self.top
        if len(self.pages) > 1:
            self._on_new_page()
            if self.table is not None:
                self.table.place_header()

    def place(self, height: float, draw: Callable[[Ink, float], None]) -> None:
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
# Tables
# --------------------------------------------------------------------------


@dataclass(slots=True)
class Column:
    title: str
    width: float
    right: bool  # right-aligned (numbers)


@dataclass(slots=True)
class Row:
    cells: list[list[str]]  # lines per column
    sizes: list[float]  # font size per column (numbers shrink to fit)
    shade: bool


@dataclass(slots=True)
class _Segment:
    """The part of a table on one page, for its column rules."""

    page: int
    top: float
    bottom: float


@dataclass
class Table:
    """A table placed on :class:`Pages` from ``left``: a header row
    (``head_font``, white on ``head_fill``) repeated on every page the table
    spans, rows of wrapped lines with alternate rows shaded, thin grid lines.
    Cell text is ``font`` at ``size`` points with ``leading``."""

    pages: Pages
    left: float
    columns: Sequence[Column]
    font: str
    head_font: str
    head_fill: Color
    shade: Color
    ink: Color
    size: float = 8.5
    leading: float = 11.0
    head_size: float = 7.5
    header_h: float = 20.0
    pad_x: float = 6.0
    pad_y: float = 4.5

    def __post_init__(self) -> None:
        self.width = sum(col.width for col in self.columns)
        self.right = self.left + self.width
        self._segments: list[_Segment] = []

    def row_height(self, n_lines: int) -> float:
        return 2 * self.pad_y + block_height(n_lines, self.size, self.leading)

    def place(self, rows: Sequence[Row]) -> None:
        """Place the header and ``rows``, breaking pages between rows (or
        between the lines of a row taller than a page), then the rules."""
        p = self.pages
        p.ensure(self.header_h + self.row_height(1))
        p.table = self
        self.place_header()
        for row in rows:
            self._place_row(row)
        p.table = None
        self._column_rules()

    def place_header(self) -> None:
        p, columns = self.pages, self.columns
        self._segments.append(_Segment(len(p.pages) - 1, p.y, p.y - self.header_h))
        h, size, pad = self.header_h, self.head_size, self.pad_x

        def draw(ink: Ink, top: float) -> None:
            ink.rect(self.left, top - h, self.width, h, self.head_fill)
            base = top - h / 2 - size * 0.35
            x = self.left
            for col in columns:
                if col.right:
                    ink.text(x + col.width - pad, base, col.title, self.head_font, size, white, right=True)
                else:
                    ink.text(x + pad, base, col.title, self.head_font, size, white)
                x += col.width

        p.place(h, draw)

    def _place_row(self, row: Row) -> None:
        """Place one row; a row taller than a whole page is split between
        lines, the rest continuing on the next page under the header."""
        p = self.pages
        n = max(len(cell) for cell in row.cells)
        if p.room < self.row_height(n) <= p.full - self.header_h:
            p.new_page()
        while self.row_height(n) > p.room:
            fit = int((p.room - 2 * self.pad_y - (ASCENT + DESCENT) * self.size) // self.leading) + 1
            if fit < 1:
                p.new_page()
                continue
            self._put_row(Row([cell[:fit] for cell in row.cells], row.sizes, row.shade), fit)
            row = Row([cell[fit:] for cell in row.cells], row.sizes, row.shade)
            n = max(len(cell) for cell in row.cells)
            p.new_page()
        self._put_row(row, n)

    def _put_row(self, row: Row, n: int) -> None:
        columns, pad = self.columns, self.pad_x
        height = self.row_height(n)

        def draw(ink: Ink, top: float) -> None:
            bottom = top - height
            if row.shade:
                ink.rect(self.left, bottom, self.width, height, self.shade)
            x = self.left
            for col, lines, size in zip(columns, row.cells, row.sizes, strict=True):
                y = top - self.pad_y - self.size * ASCENT
                tx = x + col.width - pad if col.right else x + pad
                for line in lines:
                    ink.text(tx, y, line, self.font, size, self.ink, right=col.right)
                    y -= self.leading
                x += col.width
            ink.line(self.left, bottom, self.right, bottom)

        self.pages.place(height, draw)
        self._segments[-1].bottom = self.pages.y

    def _column_rules(self) -> None:
        """Thin vertical rules of the table, one set per page it is on."""
        xs = [self.left]
        for col in self.columns:
            xs.append(xs[-1] + col.width)
        for seg in self._segments:
            if seg.bottom >= seg.top - self.header_h:
                continue  # a header with no rows under it

            def draw(ink: Ink, seg: _Segment = seg) -> None:
                top = seg.top - self.header_h
                for x in xs:
                    ink.line(x, top, x, seg.bottom)

            self.pages.pages[seg.page].append(draw)


# --------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------


def write_pdf(
    pages: list[list[Draw]],
    size: tuple[float, float],
    faces: Typefaces,
    *,
    footer: Callable[[Ink, int, int], None],
    rule: Color,
    lang: str,
    title: str,
    author: str,
    subject: str,
    attachments: Sequence[Attachment] = (),
    xmp: str | None = None,
) -> bytes:
    """Draw ``pages`` (from :attr:`Pages.pages`) on a canvas of ``size``
    points, ``footer(ink, page, pages)`` on each, and return the PDF bytes
    (compressed page streams, ``lang`` a BCP 47 tag, document metadata).
    ``attachments`` are embedded (:func:`_embed`) and ``xmp``, an XMP packet,
    becomes the catalogue's ``Metadata`` stream, uncompressed (PDF 1.7
    §14.3.2; PDF/A wants it readable without filters). Raises ``ValueError``
    for two attachments of one name."""
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=size,
        pageCompression=1,
        initialFontName=faces.regular,  # type: ignore[arg-type]  # a font name; types-reportlab says float
        initialFontSize=9,
        lang=lang,
    )
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setSubject(subject)
    canvas.setCreator("invoicer")
    if attachments:
        _embed(canvas, attachments)
    if xmp is not None:
        packet = xmp.encode("utf-8")
        # No filters (ReportLab's documents have no default ones): readable as
        # text, as PDF/A-3 (ISO 19005-3 §6.6.2.1) requires of the metadata stream.
        canvas.setCatalogEntry("Metadata", XMP(creator=lambda _doc: packet))
    for index, ops in enumerate(pages, start=1):
        ink = Ink(canvas, rule)
        for op in ops:
            op(ink)
        footer(ink, index, len(pages))
        ink.finish()
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def _pdf_name(text: str) -> str:
    """``text`` as a PDF name object (PDF 1.7 §7.3.5): ``/text/xml`` is
    ``/text#2Fxml``. ReportLab's ``PDFName`` leaves ``/`` alone."""
    return "/" + _NAME_CHARS.sub(lambda match: "".join(f"#{byte:02X}" for byte in match[0].encode()), text)


def _embed(canvas: Canvas, attachments: Sequence[Attachment]) -> None:
    """Embed ``attachments`` in the document of ``canvas``: per file an
    embedded file stream (``/Type /EmbeddedFile``, ``/Subtype`` the media
    type, ``/Params /Size``, deflated) and a file specification (``/F`` and
    ``/UF`` the name, ``/Desc``, ``/AFRelationship``), all listed in the
    catalogue's ``/Names /EmbeddedFiles`` name tree (sorted by name, PDF 1.7
    §7.9.6) and its ``/AF`` array (PDF 2.0 §14.13, PDF/A-3 associated
    files), as Factur-X 1.07 §6.2 asks for its XML. Raises ``ValueError``
    for two attachments of one name."""
    doc = cast(Any, canvas)._doc
    names = [attachment.name for attachment in attachments]
    if len(set(names)) != len(names):
        raise ValueError(f"attachment names must differ: {names}")
    specs = {}
    for attachment in attachments:
        stream = PDFStream(
            PDFDictionary(
                {
                    "Type": "/EmbeddedFile",
                    "Subtype": _pdf_name(attachment.media_type),
                    "Params": PDFDictionary({"Size": len(attachment.data)}),
                }
            ),
            content=bytes(attachment.data),
            filters=[PDFStreamFilterZCompress()],
        )
        embedded = doc.Reference(stream)
        spec = PDFDictionary(
            {
                "Type": "/Filespec",
                "F": PDFString(attachment.name),
                "UF": PDFString(attachment.name),
                "Desc": PDFString(attachment.description),
                "AFRelationship": _pdf_name(attachment.relationship),
                "EF": PDFDictionary({"F": embedded, "UF": embedded}),
            }
        )
        specs[attachment.name] = doc.Reference(spec)
    tree: list[Any] = []
    for name in sorted(specs):
        tree += [PDFString(name), specs[name]]
    catalog = doc.Catalog
    catalog.Names = PDFDictionary({"EmbeddedFiles": PDFDictionary({"Names": PDFArray(tree)})})
    # ReportLab's catalogue writes only the keys it lists; AF is not one of them.
    catalog.__NoDefault__ = [*type(catalog).__NoDefault__, "AF"]
    catalog.AF = PDFArray([specs[attachment.name] for attachment in attachments])


FOOTER_SIZE = 7.5
"""Font size of the footer, in points."""
FOOTER_LEADING = 9.0
"""Distance between the baselines of the footer's lines, in points."""


PAGE_TEXT = "Page {page} of {pages}"
"""The page number's text, ``str.format`` fields ``page`` and ``pages``."""


def footer_lines(text: str, faces: Typefaces, *, left: float, right: float, page_text: str = PAGE_TEXT) -> list[str]:
    """``text`` wrapped to the footer's room beside "Page x of y" (``page_text``,
    in the document's language; room kept for up to 9999 pages), never cut: the
    footer names legal identifiers. A layout raises its bottom margin by
    ``(len(lines) - 1) * FOOTER_LEADING``."""
    widest = page_text.format(page=9999, pages=9999)
    room = right - left - stringWidth(widest, faces.regular, FOOTER_SIZE) - 24
    return wrap(text, faces.regular, FOOTER_SIZE, room) or [""]


def page_footer(
    ink: Ink,
    faces: Typefaces,
    *,
    left: float,
    right: float,
    y: float,
    page: int,
    pages: int,
    text: str,
    colour: Color,
    page_text: str = PAGE_TEXT,
) -> None:
    """The footer of a page: a rule, then ``text`` at the left, wrapped
    (:func:`footer_lines`) with its last baseline at ``y``, and "Page x of y"
    (``page_text`` with ``page`` and ``pages``) at the right of its first line."""
    lines = footer_lines(text, faces, left=left, right=right, page_text=page_text)
    top = y + (len(lines) - 1) * FOOTER_LEADING
    ink.line(left, top + 12, right, top + 12)
    ink.text(right, top, page_text.format(page=page, pages=pages), faces.regular, FOOTER_SIZE, colour, right=True)
    for index, line in enumerate(lines):
        ink.text(left, top - index * FOOTER_LEADING, line, faces.regular, FOOTER_SIZE, colour)
