"""OCR of images and image-only PDF pages, offline: rapidocr (PP-OCR models that ship inside its
wheel; nothing is downloaded at run time) on onnxruntime. Scanned PDF pages are rendered
with pypdfium2 at :data:`RENDER_DPI`.

Orientation: rapidocr's angle classifier turns text lines that are upside down; a page that
came in sideways (most text boxes taller than wide) is turned a quarter and read again, the
better of the two ways kept. A small skew (a photo, a scan fed askew) is undone in the
coordinates: the boxes' median angle is taken out before words are grouped into lines.

Costs (bench/RESULTS-intake.md): 3-5 s a page on two cores, about 0.8-1 GB peak; the engine is
loaded once per process (:func:`engine`).
"""

from __future__ import annotations

import io
import math
from functools import cache
from typing import Any

from .words import Word

__all__ = ["MAX_SIDE", "RENDER_DPI", "UnreadableImage", "engine", "image_words", "open_images", "render_pdf_page"]

RENDER_DPI = 200
"""Resolution scanned PDF pages are rendered at for OCR."""

MAX_SIDE = 2400
"""Images are scaled down so that their longer side is at most this many pixels."""


class UnreadableImage(ValueError):
    """The bytes are not an image Pillow can read; the message says why."""


@cache
def engine() -> Any:
    """The rapidocr engine, once per process, with its bundled models."""
    from rapidocr import RapidOCR  # noqa: PLC0415 - onnxruntime loads only when OCR is needed

    return RapidOCR(params={"Global.log_level": "error"})


def open_images(data: bytes, *, max_pages: int = 20) -> list[Any]:
    """The frames of an image file (PNG, JPEG, TIFF with several pages, …) as RGB PIL images,
    turned upright by their EXIF orientation. Raises :class:`UnreadableImage`."""
    from PIL import Image, ImageOps, UnidentifiedImageError  # noqa: PLC0415

    try:
        image = Image.open(io.BytesIO(data))
        frames = []
        for index in range(min(getattr(image, "n_frames", 1), max_pages)):
            image.seek(index)
            frames.append(ImageOps.exif_transpose(image.convert("RGB")))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(f"not a readable image: {exc}") from None
    return frames


def render_pdf_page(data: bytes, index: int) -> Any:
    """Page ``index`` (0-based) of the PDF ``data`` as an RGB PIL image at :data:`RENDER_DPI`."""
    import pypdfium2 as pdfium  # noqa: PLC0415

    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[index]
        image = page.render(scale=RENDER_DPI / 72).to_pil().convert("RGB")
        page.close()
    finally:
        pdf.close()
    return image


def _scaled(image: Any) -> Any:
    longest = max(image.size)
    if longest <= MAX_SIDE:
        return image
    factor = MAX_SIDE / longest
    return image.resize((round(image.size[0] * factor), round(image.size[1] * factor)))


def _run(image: Any) -> list[tuple[list[tuple[float, float]], str, float]]:
    import numpy as np  # noqa: PLC0415

    result = engine()(np.asarray(image))
    if result.boxes is None or result.txts is None:
        return []
    return [
        ([(float(x), float(y)) for x, y in box], str(text), float(score))
        for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True)
    ]


def _sideways(boxes: list[tuple[list[tuple[float, float]], str, float]]) -> bool:
    tall = sum(1 for pts, text, _ in boxes if len(text) >= 3 and _height(pts) > 1.5 * _width(pts))
    return tall > max(3, len(boxes) // 2)


def _reading_key(boxes: list[tuple[list[tuple[float, float]], str, float]]) -> tuple[bool, float]:
    """How good a reading is: upright first, then its mean OCR score."""
    mean = sum(score for *_, score in boxes) / len(boxes) if boxes else 0.0
    return (not _sideways(boxes), mean)


def _width(pts: list[tuple[float, float]]) -> float:
    return math.dist(pts[0], pts[1])


def _height(pts: list[tuple[float, float]]) -> float:
    return math.dist(pts[1], pts[2])


def image_words(image: Any, page: int) -> list[Word]:
    """The text boxes OCR finds on ``image`` (a PIL image) as :class:`.words.Word` of page
    ``page``, deskewed (see the module docstring); each box's ``conf`` is the OCR's score."""
    image = _scaled(image)
    boxes = _run(image)
    if _sideways(boxes):
        # Upright readings beat sideways ones; between the two quarter turns the surer one wins.
        best, best_key, original = boxes, _reading_key(boxes), image
        for angle in (90, 270):
            turned = original.rotate(angle, expand=True)
            again = _run(turned)
            if _reading_key(again) > best_key:
                best, best_key, image = again, _reading_key(again), turned
        boxes = best
    width, height = image.size
    angles = sorted(
        math.atan2(pts[1][1] - pts[0][1], pts[1][0] - pts[0][0]) for pts, text, _ in boxes if len(text) >= 4
    )
    skew = angles[len(angles) // 2] if angles else 0.0
    cos, sin = math.cos(-skew), math.sin(-skew)
    cx, cy = width / 2, height / 2
    words = []
    for pts, text, score in boxes:
        if not text.strip():
            continue
        turned = [(cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos) for x, y in pts]
        xs, ys = [p[0] for p in turned], [p[1] for p in turned]
        words.append(
            Word(
                text.strip(),
                max(0.0, min(xs) / width),
                max(0.0, min(ys) / height),
                min(1.0, max(xs) / width),
                min(1.0, max(ys) / height),
                page,
                score,
            )
        )
    return words
