"""The typefaces of the PDF invoice, registered with ReportLab once per process.

The fonts are the DejaVu Sans TTFs vendored in ``invoicer/invoice/fonts/``
(licence in ``fonts/LICENSE-DejaVu.txt``). DejaVu covers Latin, Greek and
Cyrillic, so names such as "Søren Ølstad", "Łódź", "Αθήνα" or "Москва" are
drawn as real glyphs and stay extractable text. ReportLab embeds only the
subset of glyphs a document uses. CJK, Arabic and Hebrew script are not
covered by DejaVu Sans (such characters come out blank).

Subsetting a TrueType font and deflating the subset is the costliest step of
a one-page invoice. A subset is a pure function of the characters it holds,
so the embedded subsets are kept in a small per-face LRU cache
(:class:`_CachingTTFont`): invoices in one language mostly use the same
characters in the same order (ReportLab puts all of ASCII in the first subset
and adds other characters in order of use) and share one cached subset. The
cache changes nothing in the PDF but its speed.

For the cache to hit across invoices whose text differs, a face's subset 0
is filled a block at a time (:data:`SUBSET_BLOCK`): the first time a
document draws a character beyond ASCII with a face, every character of its
block of 32 code points that the font has (Greek capitals U+03A0-03BF, say)
gets a code, in code-point order, while subset 0 has room. Two Russian
invoices then embed the same subset whatever names they hold. The glyphs
drawn and the text extracted stay the same; a PDF embeds some glyphs it does
not draw (a five-line Unicode invoice: some 20 % larger, its PDF some 30 %
faster; ``bench/RESULTS.md``).

The module is named ``typefaces`` rather than ``fonts`` so that it does not
share a name with the ``fonts/`` data directory next to it.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, TTFont, makeToUnicodeCMap

__all__ = ["FAMILY", "FONT_DIR", "Typefaces", "register_fonts"]

FONT_DIR = Path(__file__).resolve().parent / "fonts"

FAMILY = "DejaVuSans"
"""Family name under which the faces are registered (``registerFontFamily``)."""

SUBSET_CACHE_SIZE = 64
"""Embedded font subsets kept per face (each some 10-20 kB deflated)."""

SUBSET_BLOCK = 32
"""Code points per block by which a face's subset 0 is filled (see the module
docstring). Measured in ``bench/RESULTS.md``: blocks of 32, 64 and 128 cost
the same time; 32 embeds the fewest glyphs a document does not draw."""

SUBSET_COMPRESSION = 3
"""zlib level of the embedded font subsets. Deflating a subset (some 20-35 kB,
most of it DejaVu's hinting tables, the same in every subset) was the largest
single cost of a small invoice at zlib's default level 6; level 3 halves
that time for files some 2.5 % larger (measured in ``bench/RESULTS.md``)."""


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
_registered = threading.Event()  # set once the faces are registered


class _Raw(pdfdoc.PDFObject):
    """A PDF value already serialised (a cached /Widths array)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: pdfdoc.PDFDocument) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class _Embedded:
    """The document-independent parts of one embedded font subset."""

    program: bytes  # deflated TrueType subset (/FontFile2)
    length: int  # its length before deflating (/Length1)
    widths: bytes  # serialised /Widths array
    cmap: bytes  # deflated /ToUnicode CMap


_FLATE = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])


class _CachingTTFont(TTFont):
    """A ``TTFont`` whose embedded subsets are cached per process.

    For every 256-character subset a document uses, ReportLab builds the
    subset font program, its widths and its ToUnicode CMap, and deflates
    them when the document is saved. All of that depends only on the subset
    (its code points in order) and its index, so it is built once and kept
    in an LRU cache. The objects added to each document are the ones
    ReportLab's ``TTFont.addObjects`` makes (ReportLab 4 and 5), with the
    streams already deflated and carrying their ``/Filter``. Uncompressed
    documents take ReportLab's own path.
    """

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename)
        self._embedded: OrderedDict[tuple[int, tuple[int, ...]], _Embedded] = OrderedDict()
        self._embedded_lock = threading.Lock()
        self._width_text: dict[int, str] = {}  # code point -> its /Widths entry

    def _embed(self, index: int, subset: list[int], base_name: str) -> _Embedded:
        key = (index, tuple(subset))
        with self._embedded_lock:
            hit = self._embedded.get(key)
            if hit is not None:
                self._embedded.move_to_end(key)
                return hit
        face = self.face
        program = face.makeSubset(subset)
        known = self._width_text
        for code in subset:
            if code not in known:
                known[code] = fp_str(face.getCharWidth(code))
        widths = "[ " + " ".join([known[code] for code in subset]) + " ]"
        cmap = makeToUnicodeCMap(base_name, subset).encode("latin-1")
        item = _Embedded(
            zlib.compress(program, SUBSET_COMPRESSION),
            len(program),
            widths.encode("ascii"),
            zlib.compress(cmap, SUBSET_COMPRESSION),
        )
        with self._embedded_lock:
            self._embedded[key] = item
            while len(self._embedded) > SUBSET_CACHE_SIZE:
                self._embedded.popitem(last=False)
        return item

    def splitString(  # noqa: N802 - ReportLab's name
        self, text: str | bytes, doc: pdfdoc.PDFDocument, encoding: str = "utf-8"
    ) -> list[tuple[int, bytes]]:
        """ReportLab's ``TTFont.splitString`` (text -> ``[(subset, bytes)]``
        for one document), with a fast path that gives the same result: when
        every character of ``text`` already has a code in subset 0 of this
        document (all of ASCII from the start, then each character after its
        first use), the bytes are one ``str.translate`` instead of ReportLab's
        loop over the characters in Python, the largest cost of drawing a long
        table. Anything else (a new character, a code in subset 1 or later,
        U+00A0, bytes) goes through ReportLab's own code.

        Before a text with characters new to the document is split, their
        blocks get codes in subset 0 (:meth:`_fill_blocks`)."""
        if not isinstance(text, str) or not text:
            return super().splitString(text, doc, encoding)
        state: Any = self.state.get(doc)
        fast = None if state is None else state.__dict__.get("_invoicer_fast")
        if fast is not None and fast[0].issuperset(text):
            return [(0, text.translate(fast[1]).encode("latin-1"))]
        filled = self._fill_blocks(text, doc) if self.subset_block else ""
        result = super().splitString(text, doc, encoding)
        state = self.state[doc]
        assignments = state.assignments
        if fast is None:  # first text of this document: all of ASCII, and what it added
            table = {code: chr(n) for code, n in assignments.items() if n < 256}
            state._invoicer_fast = (set(map(chr, table)), table)
        else:  # codes are only ever added: learn this text's new ones
            known, table = fast
            for char in set(text).union(filled).difference(known):
                n = assignments.get(ord(char))
                if n is not None and n < 256:
                    known.add(char)
                    table[ord(char)] = chr(n)
        return result

    subset_block: int = SUBSET_BLOCK
    """Block size for :meth:`_fill_blocks`; 0 keeps ReportLab's order of first
    use (set on an instance by the tests that compare with ReportLab)."""

    def _fill_blocks(self, text: str, doc: pdfdoc.PDFDocument) -> str:
        """Give a code in subset 0 of ``doc`` to every character the font has
        in each block of :attr:`subset_block` code points that holds a
        character of ``text`` beyond ASCII without a code yet: blocks in
        code-point order, each only if all of it fits in what subset 0 has
        left (else its characters get codes in order of use, as ReportLab
        gives them). Codes are given by ReportLab's own ``splitString``, so
        its state stays as it keeps it. Returns the characters given a code."""
        block = self.subset_block
        state: Any = self.state.get(doc)
        assigned = {} if state is None else state.assignments
        starts = sorted(
            {code - code % block for code in map(ord, text) if code > 0x7F and code != 0xA0 and code not in assigned}
        )
        charmap = self.face.charToGlyph
        filled = []
        for start in starts:
            state = self.state.get(doc)
            assigned = {} if state is None else state.assignments
            chars = "".join(
                chr(code) for code in range(start, start + block) if code in charmap and code not in assigned
            ).replace("\xa0", "")  # ReportLab draws U+00A0 as the space
            next_code = 1 if state is None else state.nextCode
            room = 32 - next_code + 128 if next_code < 32 else 256 - next_code  # codes 1-31, 128-255
            if chars and len(chars) <= room:
                super().splitString(chars, doc)
                filled.append(chars)
        return "".join(filled)

    def addObjects(self, doc: pdfdoc.PDFDocument) -> None:  # noqa: N802 - ReportLab's name
        state = self.state.get(doc)
        if not doc.compression or state is None:
            return super().addObjects(doc)
        state.frozen = 1
        face = self.face
        # PDFDocument creates "BasicFonts" as a PDFDictionary; idToObject is typed by the base class.
        font_dict = cast(pdfdoc.PDFDictionary, doc.idToObject["BasicFonts"]).dict
        for n, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(n, doc)[1:]
            base_name = b"".join((SUBSETN(n), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
            embedded = self._embed(n, subset, base_name)

            program = pdfdoc.PDFStream(content=embedded.program)
            program.dictionary["Filter"] = _FLATE
            program.dictionary["Length1"] = embedded.length
            descriptor = pdfdoc.PDFDictionary(
                {
                    "Type": "/FontDescriptor",
                    "Ascent": face.ascent,
                    "CapHeight": face.capHeight,
                    "Descent": face.descent,
                    "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
                    "FontBBox": pdfdoc.PDFArray(face.bbox),
                    "FontName": pdfdoc.PDFName(base_name),
                    "ItalicAngle": face.italicAngle,
                    "StemV": face.stemV,
                    "FontFile2": doc.Reference(program, f"fontFile:{face.filename}({base_name})"),
                    "MissingWidth": face.defaultWidth,
                }
            )
            cmap = pdfdoc.PDFStream(content=embedded.cmap)
            cmap.dictionary["Filter"] = _FLATE

            # ReportLab writes a font object's attributes as its PDF dictionary entries;
            # the stubs declare none of them, hence Any.
            font: Any = pdfdoc.PDFTrueTypeFont()
            font.__Comment__ = f"Font {self.fontName} subset {n}"
            font.Name = internal_name
            font.BaseFont = base_name
            font.FirstChar = 0
            font.LastChar = len(subset) - 1
            font.Widths = _Raw(embedded.widths)
            font.ToUnicode = doc.Reference(cmap, "toUnicodeCMap:" + base_name)
            font.FontDescriptor = doc.Reference(descriptor, "fontDescriptor:" + base_name)
            doc.Reference(font, internal_name)
            font_dict[internal_name] = font
        del self.state[doc]
        return None


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
    if _registered.is_set():  # fast path, no lock once registered
        return _FACES
    with _lock:
        if not _registered.is_set():
            known = set(pdfmetrics.getRegisteredFontNames())
            for name, filename in _FILES.items():
                if name not in known:
                    pdfmetrics.registerFont(_CachingTTFont(name, str(FONT_DIR / filename)))
            # No bold-oblique face is vendored: bold italic falls back to bold.
            pdfmetrics.registerFontFamily(
                FAMILY,
                normal=_FACES.regular,
                bold=_FACES.bold,
                italic=_FACES.italic,
                boldItalic=_FACES.bold,
            )
            _registered.set()
    return _FACES
