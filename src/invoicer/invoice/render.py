"""Rendering an invoice in the requested formats: the one code path used by
the worker and by ``invoicer render``."""

from __future__ import annotations

import re
from typing import Callable

from .model import Invoice
from .render_pdf import render_pdf
from .render_xlsx import render_xlsx

__all__ = ["FORMATS", "output_filename", "render_formats"]

#: Renderer per format; ``fn(invoice, page_size=..., locale=...) -> bytes``.
FORMATS: dict[str, Callable[..., bytes]] = {
    "pdf": lambda invoice, page_size, locale: render_pdf(invoice, page_size=page_size, locale=locale),
    "xlsx": lambda invoice, page_size, locale: render_xlsx(invoice, locale=locale),
}

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def output_filename(invoice_number: str, fmt: str) -> str:
    """A file name for the invoice: its number with anything outside
    ``A-Z a-z 0-9 . _ -`` replaced by ``_``, e.g. ``INV-2026-0001.pdf``."""
    stem = _UNSAFE.sub("_", invoice_number).strip("._")[:100] or "invoice"
    return f"{stem}.{fmt}"


def render_formats(invoice: Invoice, formats: list[str], *, page_size: str = "A4",
                   locale: str = "en_GB") -> dict[str, bytes]:
    """``{format: file bytes}`` for each of ``formats`` (``pdf``, ``xlsx``).
    Raises ``KeyError`` for an unknown format."""
    return {fmt: FORMATS[fmt](invoice, page_size, locale) for fmt in formats}
