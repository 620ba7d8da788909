"""The typefaces of the PDF invoice, registered with ReportLab once per process.

The fonts are the DejaVu Sans TTFs vendored in ``invoicer/invoice/fonts/``
(licence in ``fonts/LICENSE-DejaVu.txt``). DejaVu covers Latin, Greek and
Cyrillic, so names such as "Søren Ølstad", "Łódź", "Αθήνα" or "Москва" are
drawn as real glyphs and stay extractable text. ReportLab embeds only the
subset of glyphs a document uses. CJK, Arabic and Hebrew script are not
covered by DejaVu Sans (such characters come out blank).

Subsetting a TrueType font and deflating the subset is the costliest step of
a one-page invoice. The subset is a pure function of the characters it holds,
so the deflated font programs are kept in a small per-face LRU cache: most
invoices in one language use the same characters in the same order and share
one cached subset. The cache changes nothing in the PDF but its speed.

The module is named ``typefaces`` rather than ``fonts`` so that it does not
share a name with the ``fonts/`` data directory next to it.
"""

from __future__ import annotations

import threading
import types
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, TTFont, TTFontFace

__all__ = ["FAMILY", "FONT_DIR", "Typefaces", "register_fonts"]

FONT_DIR = Path(__file__).resolve().parent / "fonts"

FAMILY = "DejaVuSans"
"""Family name under which the faces are registered (``registerFontFamily``)."""

SUBSET_CACHE_SIZE = 64
"""Deflated font subsets kept per face (each some 10-20 kB)."""


@dataclass(frozen=True, slots=True)
class Typefaces:
    """ReportLab font names of the registered faces, for ``setFont``."""

    regular: str
    bold: str
    italic: str


_FACES = Typefaces(regular=FAMILY, bold=f"{FAMILY}-Bold", italic=f"{FAMILY}-Oblique")
_FILES = {
    _FACES.regular: "DejaVuSans.ttf",
    _FACES.bold: "DejaVuSans-Bold.ttf",
    _FACES.italic: "DejaVuSans-Oblique.ttf",
}

_lock = threading.Lock()
_registered = False


class _SubsetCache:
    """LRU cache of ``subset (tuple of code points) -> (deflated font
    program, its raw length)`` for one face; thread-safe."""

    def __init__(self, face: TTFontFace, maxsize: int) -> None:
        self._face = face
        self._maxsize = maxsize
        self._items: OrderedDict[tuple[int, ...], tuple[bytes, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, subset: tuple[int, ...]) -> tuple[bytes, int]:
        with self._lock:
            hit = self._items.get(subset)
            if hit is not None:
                self._items.move_to_end(subset)
                return hit
        raw = self._face.makeSubset(list(subset))
        item = (zlib.compress(raw), len(raw))
        with self._lock:
            self._items[subset] = item
            while len(self._items) > self._maxsize:
                self._items.popitem(last=False)
        return item


def _add_subset_objects(self: TTFontFace, doc, fontname: str, subset: list[int]):
    """ReportLab's ``TTFontFace.addSubsetObjects`` with the font program
    taken from the face's subset cache when the document is compressed
    (the stream carries its ``/Filter`` so ReportLab does not deflate it
    again; encryption, if any, still applies)."""
    if not doc.compression:
        return TTFontFace.addSubsetObjects(self, doc, fontname, subset)
    deflated, raw_length = self._invoicer_subsets.get(tuple(subset))
    font_file = pdfdoc.PDFStream()
    font_file.content = deflated
    font_file.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
    font_file.dictionary["Length1"] = raw_length
    font_file_ref = doc.Reference(font_file, f"fontFile:{self.filename}({fontname})")
    descriptor = pdfdoc.PDFDictionary(
        {
            "Type": "/FontDescriptor",
            "Ascent": self.ascent,
            "CapHeight": self.capHeight,
            "Descent": self.descent,
            "Flags": (self.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
            "FontBBox": pdfdoc.PDFArray(self.bbox),
            "FontName": pdfdoc.PDFName(fontname),
            "ItalicAngle": self.italicAngle,
            "StemV": self.stemV,
            "FontFile2": font_file_ref,
            "MissingWidth": self.defaultWidth,
        }
    )
    return doc.Reference(descriptor, "fontDescriptor:" + fontname)


def _load(name: str, path: Path) -> TTFont:
    font = TTFont(name, str(path))
    face = font.face
    face._invoicer_subsets = _SubsetCache(face, SUBSET_CACHE_SIZE)
    face.addSubsetObjects = types.MethodType(_add_subset_objects, face)
    return font


def register_fonts() -> Typefaces:
    """Register DejaVu Sans regular, bold and oblique with ReportLab's
    ``pdfmetrics`` (and as the font family ``"DejaVuSans"``) and return
    their font names.

    Idempotent and thread-safe: the TTF files are parsed on the first call
    only, under a lock; later calls return at once. Call it at start-up or
    let the renderer call it; never once per document.

    Raises ``OSError`` if a vendored TTF is missing and
    ``reportlab.pdfbase.ttfonts.TTFError`` if one is not a usable TrueType font.
    """
    global _registered
    if _registered:  # fast path, no lock once registered
        return _FACES
    with _lock:
        if not _registered:
            known = set(pdfmetrics.getRegisteredFontNames())
            for name, filename in _FILES.items():
                if name not in known:
                    pdfmetrics.registerFont(_load(name, FONT_DIR / filename))
            # No bold-oblique face is vendored: bold italic falls back to bold.
            pdfmetrics.registerFontFamily(
                FAMILY,
                normal=_FACES.regular,
                bold=_FACES.bold,
                italic=_FACES.italic,
                boldItalic=_FACES.bold,
            )
            _registered = True
    return _FACES
