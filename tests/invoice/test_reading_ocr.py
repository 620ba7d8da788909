"""OCR of scans (invoicer.invoice.reading.ocr): the example invoice rendered by the project,
rasterised with pypdfium2, given photo-like noise and a small rotation, read back as a PNG and
as an image-only PDF. Slow (a few seconds a page): ``-m "not slow"`` skips them."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from invoicer.invoice.reading import extract
from invoicer.invoice.render_pdf import render_pdf

from .conftest import example_invoice

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scan():
    """The example invoice as a 150 dpi greyscale scan, turned 1.5 degrees, with noise (a PIL image)."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    pdf = pdfium.PdfDocument(render_pdf(example_invoice()))
    image = pdf[0].render(scale=150 / 72).to_pil().convert("L")
    pdf.close()
    image = image.rotate(1.5, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    pixels = np.asarray(image).astype(np.int16)
    noise = np.random.default_rng(19).normal(0, 18, pixels.shape)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))


def _check(result):
    invoice = example_invoice()
    values = {name: f.value for name, f in result.fields.items()}
    assert values["invoice_number"] == invoice.invoice_number
    assert values["issue_date"] == invoice.issue_date.isoformat()
    assert Decimal(values["total_gross"]) == invoice.totals.gross
    assert values["currency"] == "EUR"
    assert "Northwind" in values["supplier_name"]
    assert all(f.source == "ocr" and f.page == 1 for f in result.fields.values())


def test_photo_like_png(scan):
    buffer = io.BytesIO()
    scan.save(buffer, format="PNG")
    result = extract(buffer.getvalue(), "scan.png")
    assert result.kind == "image"
    assert result.pages == 1
    _check(result)


def test_image_only_pdf(scan):
    buffer = io.BytesIO()
    scan.convert("RGB").save(buffer, format="PDF", resolution=150)
    result = extract(buffer.getvalue(), "scan.pdf")
    assert result.kind == "scanned_pdf"
    _check(result)
