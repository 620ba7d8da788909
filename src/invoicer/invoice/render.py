"""Rendering an invoice in the requested formats: the one code path used by
the worker and by ``invoicer render``. The formats themselves (renderer,
media type, suffix) are in the registry, :mod:`invoicer.invoice.formats`."""

from __future__ import annotations

import re

from . import formats as registry
from .formats import RenderOptions
from .model import Invoice

__all__ = ["output_filename", "render_formats"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def output_filename(invoice_number: str, fmt: str) -> str:
    """A file name for the invoice in format ``fmt``: its number with
    anything outside ``A-Z a-z 0-9 . _ -`` replaced by ``_`` and the
    format's suffix, e.g. ``INV-2026-0001.pdf``. Raises
    :class:`~invoicer.invoice.formats.UnknownFormat`."""
    stem = _UNSAFE.sub("_", invoice_number).strip("._")[:100] or "invoice"
    return f"{stem}.{registry.get(fmt).suffix}"


def render_formats(
    invoice: Invoice, formats: list[str], *, page_size: str = "A4", locale: str = "en_GB"
) -> dict[str, bytes]:
    """``{format: file bytes}`` for each name in ``formats`` (``pdf``,
    ``xlsx``, …), in that order. Raises
    :class:`~invoicer.invoice.formats.UnknownFormat` (a ``KeyError``) for an
    unknown format and ``ValueError`` for an unknown page size or locale."""
    options = RenderOptions(page_size=page_size, locale=locale)
    chosen = [registry.get(fmt) for fmt in formats]  # every name checked before any work
    return {fmt.name: fmt(invoice, options) for fmt in chosen}
