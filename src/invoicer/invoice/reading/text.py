"""Words with their boxes from a PDF's text layer (pdfplumber, about 0.05 s a page).

:func:`pdf_words` returns, per page, the page's words (:class:`.words.Word`, coordinates
as fractions of the page) or None where the page has no usable text layer (an image-only,
scanned page, which :mod:`.ocr` reads instead).
"""

from __future__ import annotations

import io

from .words import Word

__all__ = ["MIN_CHARS", "UnreadablePdf", "pdf_image_boxes", "pdf_words"]

MIN_CHARS = 25
"""A page with fewer characters in its text layer than this is taken as image-only."""


class UnreadablePdf(ValueError):
    """The PDF cannot be read (encrypted with a password, or broken); the message says why."""


def pdf_words(data: bytes, *, max_pages: int = 20) -> list[list[Word] | None]:
    """Per page (at most ``max_pages``), its words left to right and top to bottom, or None for a
    page without a usable text layer. Raises :class:`UnreadablePdf` for an encrypted or broken PDF."""
    import pdfplumber  # noqa: PLC0415 - loads pdfminer only when a PDF is read
    from pdfminer.pdfdocument import PDFPasswordIncorrect  # noqa: PLC0415

    pages: list[list[Word] | None] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages[:max_pages], start=1):
                width, height = float(page.width), float(page.height)
                raw = page.extract_words(keep_blank_chars=False, x_tolerance=1.5, y_tolerance=2)
                if sum(len(w["text"]) for w in raw) < MIN_CHARS:
                    pages.append(None)
                    continue
                pages.append(
                    [
                        Word(
                            str(w["text"]),
                            float(w["x0"]) / width,
                            float(w["top"]) / height,
                            float(w["x1"]) / width,
                            float(w["bottom"]) / height,
                            number,
                        )
                        for w in raw
                        if str(w["text"]).strip()
                    ]
                )
    except PDFPasswordIncorrect:
        raise UnreadablePdf("the PDF is encrypted with a password") from None
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for a broken file
        name = type(exc).__name__
        if any(word in f"{name} {exc!r}" for word in ("Password", "Encrypt")):  # pdfplumber wraps pdfminer's
            raise UnreadablePdf("the PDF is encrypted with a password") from None
        raise UnreadablePdf(f"the PDF cannot be read: {name}: {exc}") from None
    if not pages:
        raise UnreadablePdf("the PDF has no pages")
    return pages


def pdf_image_boxes(data: bytes, index: int, *, min_area: float = 0.01) -> list[tuple[float, float, float, float]]:
    """The boxes of the images drawn on page ``index`` (0-based) of a readable PDF, as fractions of
    the page (x0, top, x1, bottom), those covering at least ``min_area`` of it: a letterhead or a
    seller's details printed as a picture on a page that otherwise has text."""
    import pdfplumber  # noqa: PLC0415

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[index]
        width, height = float(page.width), float(page.height)
        boxes = []
        for image in page.images:
            x0, top = max(0.0, float(image["x0"]) / width), max(0.0, float(image["top"]) / height)
            x1, bottom = min(1.0, float(image["x1"]) / width), min(1.0, float(image["bottom"]) / height)
            if (x1 - x0) * (bottom - top) >= min_area:
                boxes.append((x0, top, x1, bottom))
    return boxes
