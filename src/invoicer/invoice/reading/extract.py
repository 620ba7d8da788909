"""Read a received invoice or receipt: :func:`extract` tries, in this order,

1. **e-invoice XML**: a CII or UBL file, or one attached to a PDF (Factur-X, ZUGFeRD 1 and 2,
   XRechnung, UBL in a PDF; :func:`invoicer.invoice.einvoice.validation.extract_from_pdf`),
   read by :mod:`.xml` — confidence 1.0;
2. **the PDF's text layer** (:mod:`.text`), read by the layout rules of :mod:`.rules`;
3. **OCR** (:mod:`.ocr`) of images (PNG, JPEG, TIFF) and of the image-only pages of a PDF,
   read by the same rules.

Then the checks (:func:`checks`): totals add up (EN 16931 BR-CO-15: gross = net + tax), dates
plausible, currency known (ISO 4217), VAT ID and IBAN check digits. A document that cannot be
read (encrypted or broken PDF, not an image) gives an :class:`.Extraction` of kind ``unreadable``
with ``error`` saying why; :func:`extract` never raises for bad input.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from .fields import Check, Extraction, Field, Kind
from .words import Word, group_lines

__all__ = ["checks", "extract"]

_XML_SUFFIXES = {".xml"}
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"GIF8", b"BM", b"RIFF")


def extract(data: bytes, filename: str) -> Extraction:
    """The fields of the document ``data`` (a PDF, an image, or CII/UBL XML), named ``filename``
    (used for the result's ``file`` and to tell XML by its suffix; the content decides otherwise).
    Never raises for unreadable input: see the module docstring."""
    name = PurePath(filename).name
    head = data.lstrip()[:64]
    try:
        if head.startswith(b"%PDF-") or data[:1024].find(b"%PDF-") >= 0:
            result = _from_pdf(data, name)
        elif head.startswith(b"<") or PurePath(filename).suffix.lower() in _XML_SUFFIXES:
            result = _from_xml(data, name, "einvoice_xml")
        elif data.startswith(_IMAGE_MAGIC):
            result = _from_image(data, name)
        else:
            result = Extraction(name, "unreadable", error="not a PDF, an image (PNG, JPEG, TIFF) or CII/UBL XML")
    except Exception as exc:  # noqa: BLE001 - a document no reader expected is a result saying so, not a crash
        return Extraction(name, "unreadable", error=f"reading failed: {type(exc).__name__}: {exc}")
    if result.kind != "unreadable":
        result.checks = checks(result.fields)
    return result


def _from_xml(data: bytes, name: str, kind: Kind) -> Extraction:
    from .xml import NotXmlInvoice, read_xml  # noqa: PLC0415

    try:
        fields, lines, syntax = read_xml(data)
    except NotXmlInvoice as exc:
        return Extraction(name, "unreadable", error=str(exc))
    return Extraction(name, kind, fields=fields, lines=lines, notes=[f"read from the {syntax} XML"])


def _from_pdf(data: bytes, name: str) -> Extraction:
    from ..einvoice.validation import NotAnEInvoice, extract_from_pdf  # noqa: PLC0415
    from .text import UnreadablePdf, pdf_words  # noqa: PLC0415

    notes = []
    try:
        attachment, xml = extract_from_pdf(data)
    except NotAnEInvoice:
        pass
    else:
        result = _from_xml(xml, name, "einvoice_pdf")
        if result.kind != "unreadable":
            result.notes.append(f"attachment {attachment}")
            return result
        notes.append(f"the attached {attachment} is not usable: {result.error}; read the pages instead")
    try:
        pages = pdf_words(data)
    except UnreadablePdf as exc:
        return Extraction(name, "unreadable", error=str(exc), notes=notes)
    words: list[Word] = []
    ocr_pages = 0
    for index, page_words in enumerate(pages):
        if page_words is not None:
            words.extend(page_words)
            continue
        from .ocr import image_words, render_pdf_page  # noqa: PLC0415

        try:
            image = render_pdf_page(data, index)
        except Exception as exc:  # noqa: BLE001 - pdfium raises its own kinds for a broken page
            notes.append(f"page {index + 1} cannot be rendered: {exc}")
            continue
        words.extend(image_words(image, index + 1))
        ocr_pages += 1
    kind: Kind = "scanned_pdf" if ocr_pages and ocr_pages >= len(pages) / 2 else "text_pdf"
    result = _from_words(words, name, kind, "ocr" if kind == "scanned_pdf" else "text")
    if kind == "text_pdf" and "supplier_name" not in result.fields and pages[0] is not None:
        # The seller's details may be a picture on a text page: OCR what lies inside its images.
        from .ocr import image_words, render_pdf_page  # noqa: PLC0415
        from .text import pdf_image_boxes  # noqa: PLC0415

        boxes = pdf_image_boxes(data, 0)
        if boxes:
            inside = [
                w
                for w in image_words(render_pdf_page(data, 0), 1)
                if any(b[0] <= (w.x0 + w.x1) / 2 <= b[2] and b[1] <= (w.top + w.bottom) / 2 <= b[3] for b in boxes)
            ]
            if inside:
                again = _from_words(words + inside, name, kind, "text")
                for field_name, found in again.fields.items():
                    if field_name not in result.fields:
                        result.fields[field_name] = Field(found.value, found.confidence, "ocr", found.page, found.bbox)
                notes.append(f"OCR of {len(boxes)} image(s) on page 1 for what its text layer lacks")
    result.pages = len(pages)
    result.notes = notes + result.notes
    return result


def _from_image(data: bytes, name: str) -> Extraction:
    from .ocr import UnreadableImage, image_words, open_images  # noqa: PLC0415

    try:
        frames = open_images(data)
    except UnreadableImage as exc:
        return Extraction(name, "unreadable", error=str(exc))
    words: list[Word] = []
    for number, frame in enumerate(frames, start=1):
        words.extend(image_words(frame, number))
    result = _from_words(words, name, "image", "ocr")
    result.pages = len(frames)
    return result


def _from_words(words: list[Word], name: str, kind: Kind, source: str) -> Extraction:
    from .rules import find_fields  # noqa: PLC0415

    if not words:
        return Extraction(name, kind, error="no text found on any page")
    lines = group_lines(words)
    fields = find_fields(lines, "ocr" if source == "ocr" else "text")
    return Extraction(name, kind, fields=fields)


def _decimal(field: Field | None) -> Decimal | None:
    if field is None:
        return None
    try:
        return Decimal(field.value)
    except InvalidOperation:
        return None


def checks(fields: dict[str, Field], *, today: date | None = None) -> list[Check]:
    """The checks on ``fields``: ``totals_add_up`` (net + tax = gross, EN 16931 BR-CO-15),
    ``dates_plausible`` (issued after 2000 and at most 31 days ahead of ``today``; due on or after
    issue), ``currency_known`` (an ISO 4217 code), ``vat_id_valid`` and ``iban_valid`` (check
    digits, python-stdnum). Each is ``ok`` None when the fields it needs are missing."""
    from stdnum import iban  # noqa: PLC0415
    from stdnum.eu import vat  # noqa: PLC0415

    today = today or date.today()
    out = []
    net, tax, gross = (_decimal(fields.get(n)) for n in ("total_net", "total_tax", "total_gross"))
    if net is not None and tax is not None and gross is not None:
        out.append(Check("totals_add_up", net + tax == gross, f"{net} + {tax} = {net + tax}, gross {gross}"))
    else:
        out.append(Check("totals_add_up", None, "net, tax or gross total missing"))
    issue = fields.get("issue_date")
    due = fields.get("due_date")
    if issue is None:
        out.append(Check("dates_plausible", None, "no issue date"))
    else:
        try:
            issued = date.fromisoformat(issue.value)
            ok = date(2000, 1, 1) <= issued <= today + timedelta(days=31)
            detail = f"issued {issued}"
            if due is not None:
                ok = ok and date.fromisoformat(due.value) >= issued
                detail += f", due {due.value}"
            out.append(Check("dates_plausible", ok, detail))
        except ValueError:
            out.append(Check("dates_plausible", False, "a date is not ISO 8601"))
    currency = fields.get("currency")
    if currency is None:
        out.append(Check("currency_known", None, "no currency"))
    else:
        from babel.numbers import list_currencies  # noqa: PLC0415

        out.append(Check("currency_known", currency.value in list_currencies(), f"{currency.value} (ISO 4217)"))
    vat_id = fields.get("supplier_vat_id")
    if vat_id is None:
        out.append(Check("vat_id_valid", None, "no VAT ID"))
    else:
        out.append(Check("vat_id_valid", bool(vat.is_valid(vat_id.value)), f"{vat_id.value} check digits"))
    account = fields.get("iban")
    if account is not None:
        out.append(Check("iban_valid", bool(iban.is_valid(account.value)), f"{account.value} check digits (ISO 13616)"))
    return out
