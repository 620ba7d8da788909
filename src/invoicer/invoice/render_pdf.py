"""Render an :class:`~invoicer.invoice.model.Invoice` as a PDF: the invoice
layout, drawn with :mod:`invoicer.invoice.pdf_engine`.

The layout follows ``LAYOUT.md``: the logo and the seller block, "INVOICE"
(or "CREDIT NOTE") title with number and dates, Bill To / Ship To, the item
table (header repeated on every page), the totals box (with document
allowances and charges), VAT notes (reverse charge, exemptions), the bank
transfer block with an EPC QR code, payment terms and notes, a thank-you
line, and a footer on every page, all labelled in the locale's language.
A credit note names the invoice it corrects and labels its total as a
credit; a draft has no number and "DRAFT" runs across every
page. Labels, party lines, totals rows, the thank-you rule, colours
and the formatting of numbers and dates are shared with the XLSX
(:mod:`invoicer.invoice.presentation`).

All text is set in DejaVu Sans (embedded subset, see
:mod:`invoicer.invoice.typefaces`), so Latin, Greek and Cyrillic text shows
and can be extracted; user text is drawn literally, never as markup.

Amounts are printed from ``invoice.totals`` (computed by the model, EN 16931),
formatted with Babel for the invoice currency and the requested locale.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import segno.helpers
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from . import presentation as pr
from .formats import Attachment, RenderOptions
from .model import Invoice, Party
from .pdf_engine import (
    ASCENT,
    DESCENT,
    FOOTER_LEADING,
    PAGE_TEXT,
    Column,
    Draw,
    Ink,
    Pages,
    Row,
    Table,
    block_height,
    colour,
    fit_size,
    footer_lines,
    page_footer,
    width,
    wrap,
    write_pdf,
)
from .typefaces import Typefaces, register_fonts

__all__ = ["PAGE_SIZES", "render", "render_pdf"]

PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": A4, "LETTER": LETTER}
"""Supported page sizes, (width, height) in points (1/72 inch)."""

NAVY, ACCENT, INK, MUTED = colour(pr.NAVY), colour(pr.ACCENT), colour(pr.INK), colour(pr.MUTED)
#: The DRAFT mark: the accent colour, mostly transparent, so that the
#: document stays readable through it.
DRAFT_MARK = Color(ACCENT.red, ACCENT.green, ACCENT.blue, alpha=0.13)
GRID, ZEBRA, BOX, BAND = colour(pr.GRID), colour(pr.ZEBRA), colour(pr.BOX), colour(pr.BAND)

# Geometry, in points.
MARGIN_X = 54.0
MARGIN_TOP = 50.0
MARGIN_BOTTOM = 66.0  # lowest point of the content; the footer sits below
FOOTER_Y = 34.0
CONTINUATION_H = 30.0  # running header on pages 2..n
LOGO_HEIGHT = 18 * mm
"""The logo's height on the page; its width follows its aspect ratio."""
QR_SIZE = 30 * mm
"""The EPC QR code's side, quiet zone excluded (scannable from 2.5 cm)."""
TABLE_SIZE = 8.5
TABLE_HEAD_SIZE = 7.5
CELL_PAD_X = 6.0


class _Layout:
    """Places the blocks of one invoice on pages (pass 1 of the engine)."""

    def __init__(self, invoice: Invoice, size: tuple[float, float], fmt: pr.Formatter, faces: Typefaces):
        self.inv = invoice
        self.page_w, self.page_h = size
        self.fmt = fmt
        self.tr = fmt.tr
        self.f = faces
        self.left = MARGIN_X
        self.width = self.page_w - 2 * MARGIN_X
        self.right = self.left + self.width
        # Legal identifiers are wrapped, never cut (LAYOUT.md): the footer and
        # the running header take as many lines as the seller's name and the
        # invoice number need, and the content makes room for them.
        self.footer_text = f"{pr.one_line(invoice.seller.name)} · {pr.document_name(invoice, self.tr)}"
        self.page_text = self.tr(PAGE_TEXT)
        footer_extra = (
            len(footer_lines(self.footer_text, faces, left=self.left, right=self.right, page_text=self.page_text)) - 1
        ) * FOOTER_LEADING
        self.title = pr.title(invoice, self.tr)
        self.title_w = stringWidth(self.title, faces.bold, 11) + 8
        number = self.tr(pr.DRAFT) if invoice.draft else pr.one_line(invoice.invoice_number)
        self.continued = wrap(
            self.tr("{number} (continued)", number=number), faces.regular, 9, self.width - self.title_w
        )
        self.pages = Pages(
            self.page_h,
            self._continue_page,
            margin_top=MARGIN_TOP,
            margin_bottom=MARGIN_BOTTOM + footer_extra,
            continuation_h=CONTINUATION_H + (len(self.continued) - 1) * 11.0,
        )

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
        self._vat_notes()
        self._payment()
        self._texts()
        return p.pages

    def _continue_page(self) -> None:
        """Running header on pages 2..n (the engine adds the table header
        if the table continues on this page)."""
        f, title_w, lines = self.f, self.title_w, self.continued

        def draw(ink: Ink, top: float) -> None:
            base = top - 11 * ASCENT
            ink.text(self.left, base, self.title, f.bold, 11, ACCENT)
            for index, line in enumerate(lines):
                ink.text(self.left + title_w, base - index * 11.0, line, f.regular, 9, MUTED)

        self.pages.place(self.pages.continuation_h, draw)

    def _heading(self) -> None:
        """Seller block on the left, title block on the right, side by side."""
        f, inv, fmt = self.f, self.inv, self.fmt
        seller: Party = inv.seller
        seller_w = self.width * 0.56
        title_w = self.width * 0.40

        # The logo, if any, at the top left at a fixed height, never distorted:
        # a very wide one is scaled down as a whole to the seller block's width.
        logo = _logo(inv.logo)
        logo_w = logo_h = 0.0
        if logo is not None:
            px_w, px_h = logo.getSize()
            logo_h = LOGO_HEIGHT
            logo_w = logo_h * px_w / px_h
            if logo_w > seller_w:
                logo_w, logo_h = seller_w, seller_w * px_h / px_w
        logo_room = logo_h + 10 if logo is not None else 0.0

        # Nothing of the seller is cut: the name wraps, every detail line is
        # drawn, and details that do not fit on the first page follow on the next.
        name_lines = wrap(seller.name, f.bold, 17, seller_w)
        details: list[str] = []
        for line in pr.party_lines(seller, with_name=False, tr=self.tr):
            text = pr.one_line(line.text) if line.kind == "company" else line.text
            details += wrap(text, f.regular, 8.5, seller_w)
        name_h = block_height(len(name_lines), 17, 20)
        first = len(details)
        while first and logo_room + name_h + 6 + block_height(first, 8.5, 11.5) > self.pages.room:
            first -= 1
        details, rest = details[:first], details[first:]
        seller_h = logo_room + name_h + (6 + block_height(len(details), 8.5, 11.5) if details else 0)

        meta = [
            (label, pr.one_line(value) if isinstance(value, str) else fmt.date(value))
            for label, value in pr.meta_rows(inv, self.tr)
        ]
        period = pr.period_text(inv, fmt)
        if period is not None:
            meta.append(period)
        label_w = max(stringWidth(label, f.regular, 8.5) for label, _ in meta)
        value_max = title_w - label_w - 10
        meta_rows = [(label, wrap(value, f.bold, 9, value_max) or [""]) for label, value in meta]
        value_w = max(stringWidth(line, f.bold, 9) for _, lines in meta_rows for line in lines)
        title_h = 26 * (ASCENT + DESCENT) + 8 + block_height(sum(len(v) for _, v in meta_rows), 9, 12.5)
        title = pr.title(inv, self.tr)
        title_size = fit_size(title, f.bold, 26, title_w)

        def draw(ink: Ink, top: float) -> None:
            if logo is not None:
                ink.canvas.drawImage(logo, self.left, top - logo_h, logo_w, logo_h, mask="auto")
            # Seller: name large and bold, details small below it (and the logo).
            y = top - logo_room - 17 * ASCENT
            for line in name_lines:
                ink.text(self.left, y, line, f.bold, 17, NAVY)
                y -= 20
            y = top - logo_room - name_h - 6 - 8.5 * ASCENT
            for line in details:
                ink.text(self.left, y, line, f.regular, 8.5, MUTED)
                y -= 11.5
            # Title, then its labelled number and dates below it.
            ink.text(self.right, top - 26 * ASCENT, title, f.bold, title_size, ACCENT, right=True)
            y = top - 26 * (ASCENT + DESCENT) - 8 - 9 * ASCENT
            label_x = self.right - value_w - 10
            for label, lines in meta_rows:
                ink.text(label_x, y, label, f.regular, 8.5, MUTED, right=True)
                for line in lines:
                    ink.text(self.right, y, line, f.bold, 9, INK, right=True)
                    y -= 12.5

        self.pages.place(max(seller_h, title_h), draw)
        for index, detail in enumerate(rest):
            height = block_height(1, 8.5, 11.5) if index == len(rest) - 1 else 11.5
            self.pages.ensure(height)

            def draw_detail(ink: Ink, top: float, line: str = detail) -> None:
                ink.text(self.left, top - 8.5 * ASCENT, line, f.regular, 8.5, MUTED)

            self.pages.place(height, draw_detail)

    def _party_lines(self, party: Party, room: float, max_lines: int) -> list[tuple[str, float, Color, str]]:
        """(font, size, colour, text) lines of a Bill To / Ship To box.

        At most ``max_lines`` lines, or as many as the name, company and
        contact lines need: only the address is cut (ending with "…") so that
        a pathological one cannot push the table off the first page; the name
        and the VAT ID, legal identifiers, are never cut."""
        f = self.f
        style = {
            "name": (f.bold, 9.5, INK),
            "company": (f.regular, 9, INK),
            "address": (f.regular, 9, INK),
            "contact": (f.regular, 8.5, MUTED),
        }
        lines = [
            (line.kind, text)
            for line in pr.party_lines(party, tr=self.tr)
            for text in wrap(line.text, *style[line.kind][:2], room)
        ]
        address = [text for kind, text in lines if kind == "address"]
        address_room = max_lines - (len(lines) - len(address))
        if len(address) > address_room:  # party_lines puts the address lines together
            at = next(i for i, (kind, _) in enumerate(lines) if kind == "address")
            kept = [("address", text) for text in address[: max(0, address_room - 1)]] + [("address", "…")]
            lines = lines[:at] + kept + lines[at + len(address) :]
        return [(*style[kind], text) for kind, text in lines]

    def _parties(self) -> None:
        inv = self.inv
        f = self.f
        gap, pad, leading = 14.0, 9.0, 12.5
        box_w = (self.width - gap) / 2
        boxes = [(self.tr(pr.BILL_TO), inv.buyer)]
        if inv.ship_to is not None:
            boxes.append((self.tr(pr.SHIP_TO), inv.ship_to))
        # A pathological address must not push the table off the first page.
        contents = [(label, self._party_lines(party, box_w - 2 * pad - 3, max_lines=16)) for label, party in boxes]
        n = max(len(lines) for _, lines in contents)
        height = pad + 7.5 * (ASCENT + DESCENT) + 6 + block_height(n, 9.5, leading) + pad

        def draw(ink: Ink, top: float) -> None:
            for i, (label, lines) in enumerate(contents):
                x = self.left + i * (box_w + gap)
                ink.rect(x, top - height, box_w, height, BOX)
                ink.rect(x, top - height, 2.5, height, NAVY)
                y = top - pad - 7.5 * ASCENT
                ink.text(x + pad + 3, y, label, f.bold, 7.5, NAVY, char_space=0.8)
                y -= 7.5 * DESCENT + 6 + 9.5 * ASCENT
                for font, size, colour_, text in lines:
                    ink.text(x + pad + 3, y, text, font, size, colour_)
                    y -= leading

        self.pages.place(height, draw)

    def _table(self) -> None:
        f, fmt, inv = self.f, self.fmt, self.inv
        size, pad = TABLE_SIZE, CELL_PAD_X

        texts = []
        quantities = []
        for line, net in zip(inv.lines, inv.totals.line_nets, strict=True):
            qty = fmt.number(line.quantity)
            unit = pr.one_line(line.unit)
            quantities.append((qty, unit))
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

        # Number columns are as wide as their widest cell, between a floor
        # that leaves some air and a cap; the description takes the rest.
        floors = [0.0, 0.0, 40.0, 62.0, 0.0, 66.0]
        caps = [40.0, 0.0, 76.0, 96.0, 46.0, 100.0]
        titles = [self.tr(title) for title in pr.COLUMNS]
        widths = []
        for col, title in enumerate(titles):
            if col == 1:
                widths.append(0.0)
                continue
            head_w = stringWidth(title, f.bold, TABLE_HEAD_SIZE) + 2 * pad
            natural = max([head_w, floors[col]] + [width(t[col], f.regular, size) + 2 * pad for t in texts])
            widths.append(min(natural, max(caps[col], head_w)))
        widths[1] = self.width - sum(widths)
        columns = [Column(t, w, col != 1) for col, (t, w) in enumerate(zip(titles, widths, strict=True))]

        rows = []
        for index, t in enumerate(texts):
            cells, sizes = [], []
            for col, text in enumerate(t):
                inner = widths[col] - 2 * pad
                if col == 2 and width(quantities[index][0], f.regular, size) > inner:
                    # A number is never broken: it shrinks to fit, its unit wraps below it.
                    qty, unit = quantities[index]
                    qty_size = fit_size(qty, f.regular, size, inner)
                    cells.append([qty, *wrap(unit, f.regular, qty_size, inner)])
                    sizes.append(qty_size)
                elif col in (1, 2):  # description and quantity with unit wrap
                    cells.append(wrap(text, f.regular, size, inner) or [""])
                    sizes.append(size)
                else:  # a single number: shrink to fit rather than overflow
                    cells.append([text])
                    sizes.append(fit_size(text, f.regular, size, inner))
            rows.append(Row(cells, sizes, shade=index % 2 == 1))

        Table(
            self.pages,
            self.left,
            columns,
            font=f.regular,
            head_font=f.bold,
            head_fill=NAVY,
            shade=ZEBRA,
            ink=INK,
            size=size,
            head_size=TABLE_HEAD_SIZE,
            pad_x=pad,
        ).place(rows)

    def _totals(self) -> None:
        f, fmt = self.f, self.fmt
        inv = self.inv
        amounts, (total_label, gross) = pr.totals_rows(
            inv.totals, fmt, credit=pr.is_credit(inv), allowances=inv.allowances, charges=inv.charges
        )
        rows = [(label, fmt.money(amount)) for label, amount in amounts]
        total_amount = fmt.money(gross)

        pad, row_h, band_h = 8.0, 17.0, 24.0
        label_w = max(stringWidth(label, f.regular, 9) for label, _ in rows)
        amount_w = max([stringWidth(a, f.regular, 9) for _, a in rows] + [stringWidth(total_amount, f.bold, 10.5)])
        box_w = min(max(label_w + amount_w + 2 * pad + 24, self.width * 0.42), self.width * 0.62)
        x0 = self.right - box_w
        label_room = box_w - amount_w - 2 * pad - 12
        height = len(rows) * row_h + band_h
        sizes = [fit_size(label, f.regular, 9, label_room) for label, _ in rows]
        amount_room = box_w - 2 * pad - stringWidth(total_label, f.bold, 10.5) - 12
        amount_size = fit_size(total_amount, f.bold, 10.5, amount_room)

        def draw(ink: Ink, top: float) -> None:
            y = top
            for (label, amount), size in zip(rows, sizes, strict=True):
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

    def _vat_notes(self) -> None:
        """What the VAT breakdown says in words (reverse charge, exemption
        reasons: EN 16931 BT-118, BT-120), under the totals, one line per
        breakdown line; wrapped, never cut."""
        notes = pr.vat_notes(self.inv.totals, self.fmt)
        if notes:
            self._paragraph(self.tr(pr.VAT_NOTES), "\n".join(notes), size=8.5)

    def _payment(self) -> None:
        """The "Bank transfer" block (EN 16931 BG-16): account holder, IBAN in
        groups of four, BIC and payment reference on the left, and for an
        issued EUR invoice the EPC QR code (:func:`_draw_qr`) at the right,
        under "Scan to pay". The block is kept together on one page."""
        block = pr.payment_block(self.inv, self.tr)
        if block is None:
            return
        f, p = self.f, self.pages
        qr = _epc_qr(block.qr) if block.qr is not None else None
        qr_w = QR_SIZE + 16 if qr is not None else 0.0
        size, leading = 9.0, 12.5
        label_w = max(stringWidth(label, f.regular, 8.5) for label, _ in block.rows) + 12
        value_room = self.width - qr_w - label_w - 8
        rows = [(label, wrap(value, f.bold, size, value_room) or [""]) for label, value in block.rows]
        title_h = 7.5 * (ASCENT + DESCENT) + 5
        text_h = title_h + block_height(sum(len(lines) for _, lines in rows), size, leading)
        caption = self.tr("Scan to pay")
        caption_size = fit_size(caption, f.regular, 7.5, QR_SIZE + 12)
        caption_h = caption_size * (ASCENT + DESCENT) + 4
        qr_h = caption_h + QR_SIZE if qr is not None else 0.0
        height = max(text_h, qr_h)

        def draw(ink: Ink, top: float) -> None:
            ink.text(self.left, top - 7.5 * ASCENT, block.title, f.bold, 7.5, NAVY, char_space=0.8)
            y = top - title_h - size * ASCENT
            for label, lines in rows:
                ink.text(self.left, y, label, f.regular, 8.5, MUTED)
                for line in lines:
                    ink.text(self.left + label_w, y, line, f.bold, size, INK)
                    y -= leading
            if qr is not None:
                x = self.right - QR_SIZE
                middle = x + QR_SIZE / 2 + stringWidth(caption, f.regular, caption_size) / 2
                ink.text(middle, top - caption_size * ASCENT, caption, f.regular, caption_size, MUTED, right=True)
                _draw_qr(ink, qr, x, top - caption_h - QR_SIZE, QR_SIZE)

        p.skip(18)
        p.ensure(height)
        p.place(height, draw)

    def _paragraph(self, title: str, text: str, size: float = 9.0) -> None:
        """A titled paragraph; it may break between lines across pages, with
        the title kept with at least two lines."""
        f, p = self.f, self.pages
        leading = size + 3.5
        lines = wrap(text, f.regular, size, self.width)
        if not lines:
            return
        title_h = 7.5 * (ASCENT + DESCENT) + 5

        def draw_title(ink: Ink, top: float) -> None:
            ink.text(self.left, top - 7.5 * ASCENT, title, f.bold, 7.5, NAVY, char_space=0.8)

        p.skip(16)
        p.ensure(title_h + block_height(min(2, len(lines)), size, leading))
        p.place(title_h, draw_title)
        for i, line in enumerate(lines):
            h = block_height(1, size, leading) if i == len(lines) - 1 else leading
            p.ensure(h)

            def draw_line(ink: Ink, top: float, line: str = line) -> None:
                ink.text(self.left, top - size * ASCENT, line, f.regular, size, INK)

            p.place(h, draw_line)

    def _texts(self) -> None:
        f, inv, p = self.f, self.inv, self.pages
        show_notes, thanks = pr.thanks(inv.notes, self.tr)
        if pr.one_line(inv.payment_terms):
            self._paragraph(self.tr(pr.PAYMENT_TERMS), inv.payment_terms or "")
        if show_notes:
            self._paragraph(self.tr(pr.NOTES), inv.notes or "")
        size = 9.5
        height = size * (ASCENT + DESCENT)
        p.skip(18)
        p.ensure(height)

        def draw(ink: Ink, top: float) -> None:
            ink.text(self.left, top - size * ASCENT, thanks, f.italic, size, MUTED)

        p.place(height, draw)

    def footer(self, ink: Ink, page: int, pages: int) -> None:
        """The footer of every page, and a draft's DRAFT mark."""
        if self.inv.draft:
            self._draft_mark(ink)
        page_footer(
            ink,
            self.f,
            left=self.left,
            right=self.right,
            y=FOOTER_Y,
            page=page,
            pages=pages,
            text=self.footer_text,
            colour=MUTED,
            page_text=self.page_text,
        )

    def _draft_mark(self, ink: Ink) -> None:
        """ "DRAFT" across the page, corner to corner, translucent. It is
        drawn before the page's text object, so the text stays on top of it,
        and as text, so it can be searched and extracted."""
        canvas, font = ink.canvas, self.f.bold
        mark = self.tr(pr.DRAFT)
        diagonal = math.hypot(self.page_w, self.page_h)
        size = fit_size(mark, font, 160, diagonal * 0.6, minimum=40)
        canvas.saveState()
        canvas.translate(self.page_w / 2, self.page_h / 2)
        canvas.rotate(math.degrees(math.atan2(self.page_h, self.page_w)))
        canvas.setFillColor(DRAFT_MARK)
        canvas.setFont(font, size)
        canvas.drawCentredString(0, -size * 0.35, mark)
        canvas.restoreState()


def _logo(data: bytes | None) -> ImageReader | None:
    """The logo (PNG or JPEG bytes, checked by the service that stored them)
    as ReportLab reads it, or ``None`` for no logo or one of no size."""
    if not data:
        return None
    reader = ImageReader(io.BytesIO(data))
    px_w, px_h = reader.getSize()
    return reader if px_w > 0 and px_h > 0 else None


def _epc_qr(payment: pr.EpcPayment) -> list[bytes] | None:
    """The module matrix (rows of 0/1, quiet zone excluded) of the EPC069-12
    QR code for ``payment`` (segno: version 002, UTF-8, error correction M),
    or ``None`` if segno refuses the data (e.g. an IBAN it does not accept)."""
    try:
        code = segno.helpers.make_epc_qr(
            name=payment.name, iban=payment.iban, amount=payment.amount, text=payment.text, bic=payment.bic
        )
    except ValueError:
        return None
    return [bytes(row) for row in code.matrix]


def _draw_qr(ink: Ink, matrix: list[bytes], x: float, y: float, side: float) -> None:
    """Draw a QR matrix as black squares in a ``side`` square whose lower left
    corner is ``(x, y)``; runs of dark modules in a row are one rectangle.
    The page around it is white (its quiet zone)."""
    module = side / len(matrix)
    for r, row in enumerate(matrix):
        top = y + side - (r + 1) * module
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # A hair larger than the run, so that no seam shows between rows.
            ink.rect(x + start * module, top - 0.05, (c - start) * module + 0.05, module + 0.1, black)


def _page_size(page_size: str) -> tuple[float, float]:
    try:
        return PAGE_SIZES[page_size.upper()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown page size {page_size!r}; expected one of {sorted(PAGE_SIZES)}") from None


def render(invoice: Invoice, options: RenderOptions) -> bytes:
    """The ``pdf`` format's renderer (:data:`invoicer.invoice.formats.Renderer`):
    :func:`render_pdf` with ``options.page_size``, ``options.locale``,
    ``options.attachments`` and ``options.xmp``."""
    return render_pdf(
        invoice,
        page_size=options.page_size,
        locale=options.locale,
        attachments=options.attachments,
        xmp=options.xmp,
    )


def render_pdf(
    invoice: Invoice,
    *,
    page_size: str = "A4",
    locale: str = "en_GB",
    attachments: Sequence[Attachment] = (),
    xmp: str | None = None,
) -> bytes:
    """Render ``invoice`` as a PDF document and return its bytes.

    ``page_size`` is ``"A4"`` (595 x 842 pt) or ``"LETTER"`` (612 x 792 pt),
    case-insensitive. ``locale`` is a CLDR locale identifier such as
    ``"en_GB"`` or ``"de_DE"``; it decides how amounts (with the invoice
    currency's own symbol and minor-unit digits, via Babel), quantities, rates
    and dates (CLDR "medium" format) are written, and the language of every
    label (:mod:`invoicer.invoice.i18n`: en, de, fr, es, it, nl, pl, pt,
    else English).

    Amounts come from ``invoice.totals`` (EN 16931 BR-CO-10, BR-CO-14,
    BR-CO-15, BR-CO-17 as computed by the model); nothing is recomputed here.
    The document has as many pages as the item table needs, with the table
    header and a "Page x of y" footer on each. Title and author metadata are
    set ("Invoice <number>", "Credit note <number>" or "Draft invoice"; the
    seller's name). A credit note (``invoice.document_type``) is titled
    "CREDIT NOTE", names the invoice it corrects (BT-25) and labels its
    total "Total credit"; a draft (``invoice.draft``) shows no number and
    has "DRAFT" across every page. With ``invoice.payment`` giving an IBAN,
    a "Bank transfer" block shows the account (IBAN in groups of four) and
    the payment reference, and an issued EUR invoice an EPC069-12 QR code
    for its gross amount, the balance due at issue
    (:func:`invoicer.invoice.presentation.epc_qr_payload`). ``invoice.logo``
    is drawn at the top left, :data:`LOGO_HEIGHT` high. ``attachments``
    (:class:`~invoicer.invoice.formats.Attachment`) are embedded as
    associated files and ``xmp`` (an XMP packet) is written as the
    document's metadata stream (:func:`invoicer.invoice.pdf_engine.write_pdf`):
    the hooks for PDF/A-3 and Factur-X. Pure: no I/O but reading the
    vendored fonts on first use.

    Raises ``ValueError`` for an unknown ``page_size`` or ``locale``, or two
    attachments of one name.
    """
    size = _page_size(page_size)
    babel_locale = pr.parse_locale(locale)
    faces = register_fonts()
    layout = _Layout(invoice, size, pr.Formatter(invoice.currency, babel_locale), faces)
    pages = layout.layout()
    tr = layout.tr
    name = pr.document_name(invoice, tr)
    buyer = pr.one_line(invoice.buyer.company or invoice.buyer.name)
    return write_pdf(
        pages,
        size,
        faces,
        footer=layout.footer,
        rule=GRID,
        lang=str(babel_locale).replace("_", "-"),
        title=name,
        author=pr.one_line(invoice.seller.name),
        subject=tr("{document} to {buyer}", document=name, buyer=buyer),
        attachments=attachments,
        xmp=xmp,
    )
