"""Make ``examples/received/stationery-scan.jpg``: the project's own stationery invoice
(``examples/received/stationery.json``) rendered, rasterised at 150 dpi in greyscale, turned
by 1.5 degrees and given photo-like noise, as a supplier's invoice arrives scanned. ``make demo``
uploads it as an expense (the intake worker reads it with OCR).

    .venv/bin/python tools/make_received_examples.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from invoicer.invoice.loader import load_invoice
from invoicer.invoice.render_pdf import render_pdf

HERE = Path(__file__).resolve().parents[1] / "examples" / "received"


def main() -> None:
    invoice = load_invoice(json.loads((HERE / "stationery.json").read_text(encoding="utf-8")))
    pdf = pdfium.PdfDocument(render_pdf(invoice))
    image = pdf[0].render(scale=150 / 72).to_pil().convert("L")
    pdf.close()
    image = image.rotate(1.5, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    pixels = np.asarray(image).astype(np.int16)
    noise = np.random.default_rng(19).normal(0, 14, pixels.shape)
    scan = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
    target = HERE / "stationery-scan.jpg"
    scan.save(target, format="JPEG", quality=82, optimize=True)
    print(f"wrote {target} ({target.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
