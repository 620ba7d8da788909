"""typefaces.py's override of ReportLab still fits the ReportLab installed.

``invoicer.invoice.typefaces._CachingTTFont`` subclasses ReportLab's ``TTFont``
and re-implements ``TTFont.addObjects`` together with what it calls,
``TTFontFace.addSubsetObjects``, to cache embedded font subsets. It was written
against ReportLab 5.1.0 (pinned in pyproject.toml). When an upgrade changes
those methods or the internals the copy relies on, these tests fail with a
message that names what changed, instead of invoices that silently differ
from what ReportLab itself would write.

Two kinds of check: the shape (the source of the two re-implemented methods,
the attributes and signatures the override uses) and the effect (a PDF made
through the override embeds the same fonts, widths, ToUnicode maps and
subset programs as one made through ReportLab's own ``TTFont``, and a second
document is served from the cache).
"""

from __future__ import annotations

import hashlib
import inspect
import io
import textwrap
import tomllib
import zlib
from pathlib import Path

import pytest
import reportlab
from pypdf import PdfReader
from pypdf.generic import IndirectObject
from reportlab.pdfbase import pdfdoc, pdfmetrics, ttfonts
from reportlab.pdfgen.canvas import Canvas

from invoicer.invoice import typefaces
from invoicer.invoice.render_pdf import render_pdf

WRITTEN_AGAINST = "5.1.0"

# sha256 of the dedented source of the ReportLab methods that
# _CachingTTFont.addObjects re-implements, as of ReportLab 5.1.0.
COPIED_METHODS = {
    "TTFont.addObjects": (
        ttfonts.TTFont.addObjects,
        "f92e7957cae04be0a9872f25d916873a9f23aa4d452e3272a62770b10e134795",
    ),
    "TTFontFace.addSubsetObjects": (
        ttfonts.TTFontFace.addSubsetObjects,
        "90691eafaa19154aee4e390b5030b184c2877727bd92669785ba4c22bf7e2ed9",
    ),
}

# Text that fills more than one 256-glyph subset: ASCII, Latin Extended-A,
# Greek and Cyrillic, i.e. the scripts the invoices use.
SAMPLE = "".join(
    [chr(c) for c in range(0x20, 0x7F)]
    + [chr(c) for c in range(0x100, 0x17F)]
    + [chr(c) for c in range(0x391, 0x3CA) if c != 0x3A2]
    + [chr(c) for c in range(0x410, 0x450)]
)


def revisit(what: str) -> str:
    return (
        f"ReportLab {reportlab.Version} changed {what}; typefaces.py's override (_CachingTTFont, written "
        f"against ReportLab {WRITTEN_AGAINST}) must be revisited: compare it with ReportLab's "
        "TTFont.addObjects and TTFontFace.addSubsetObjects, update it, then update this test."
    )


def test_pyproject_pins_the_reportlab_the_override_was_written_against():
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert f"reportlab=={WRITTEN_AGAINST}" in pyproject["project"]["dependencies"], (
        f"pyproject.toml no longer pins reportlab=={WRITTEN_AGAINST}, the version typefaces.py's override "
        "was written against: check the tests below against the new version before moving the pin"
    )


@pytest.mark.parametrize("name", sorted(COPIED_METHODS))
def test_the_copied_reportlab_methods_are_unchanged(name):
    method, expected = COPIED_METHODS[name]
    source = textwrap.dedent(inspect.getsource(method))
    assert hashlib.sha256(source.encode()).hexdigest() == expected, revisit(f"{name} (its source)")


def test_the_class_and_helpers_the_override_builds_on_keep_their_shape():
    assert issubclass(typefaces._CachingTTFont, ttfonts.TTFont), revisit("TTFont (no longer its base)")
    signatures = {
        "TTFont.__init__": (ttfonts.TTFont.__init__, ["self", "name", "filename"]),
        "TTFont.addObjects": (ttfonts.TTFont.addObjects, ["self", "doc"]),
        "TTFont.getSubsetInternalName": (ttfonts.TTFont.getSubsetInternalName, ["self", "subset", "doc"]),
        "TTFontFace.makeSubset": (ttfonts.TTFontFace.makeSubset, ["self", "subset"]),
        "TTFontFace.getCharWidth": (ttfonts.TTFontFace.getCharWidth, ["self", "code"]),
        "makeToUnicodeCMap": (ttfonts.makeToUnicodeCMap, ["fontname", "subset"]),
        "SUBSETN": (ttfonts.SUBSETN, ["n"]),
    }
    for name, (function, leading) in signatures.items():
        parameters = list(inspect.signature(function).parameters)
        assert parameters[: len(leading)] == leading, revisit(f"the signature of {name}: {parameters}")
    assert isinstance(ttfonts.FF_SYMBOLIC, int) and isinstance(ttfonts.FF_NONSYMBOLIC, int), revisit("FF_* flags")
    assert ttfonts.SUBSETN(0) == b"AAAAAA", revisit("SUBSETN (the subset name prefix)")
    assert "content" in inspect.signature(pdfdoc.PDFStream).parameters, revisit("PDFStream(content=...)")
    font_fields = {"FirstChar", "LastChar", "Widths", "ToUnicode", "FontDescriptor"}
    assert font_fields <= set(pdfdoc.PDFTrueTypeFont.local_attributes), revisit("PDFTrueTypeFont's attributes")
    assert {"BaseFont", "Name"} <= set(pdfdoc.PDFTrueTypeFont.name_attributes), revisit("PDFTrueTypeFont's names")
    # _Raw, a PDFObject subclass with its own format(), carries the cached /Widths array.
    formatted = pdfdoc.PDFDictionary({"Widths": typefaces._Raw(b"[ 1 2 ]")}).format(pdfdoc.PDFDocument())
    assert b"/Widths [ 1 2 ]" in formatted, revisit(f"how a PDFObject is serialised ({formatted!r})")


def test_a_registered_face_has_what_the_override_reads():
    typefaces.register_fonts()
    font = pdfmetrics.getFont(typefaces.FAMILY)
    assert isinstance(font, typefaces._CachingTTFont), "register_fonts no longer registers the caching face"
    for attribute in ("face", "state", "fontName"):
        assert hasattr(font, attribute), revisit(f"TTFont.{attribute}")
    face_attributes = (
        "name",
        "subfontNameX",
        "filename",
        "ascent",
        "capHeight",
        "descent",
        "flags",
        "bbox",
        "italicAngle",
        "stemV",
        "defaultWidth",
    )
    missing = [name for name in face_attributes if not hasattr(font.face, name)]
    assert not missing, revisit(f"TTFontFace (no attribute {', '.join(missing)})")


@pytest.fixture
def use_font(monkeypatch):
    """Make a font findable by its name for one test. Not through
    ``pdfmetrics.registerFont``: that maps every later font of an already
    registered face (DejaVuSans, by register_fonts) to the first one, so a
    plain ``TTFont`` would silently become the caching one."""

    def use(font: ttfonts.TTFont) -> str:
        monkeypatch.setitem(pdfmetrics._fonts, font.fontName, font)
        assert pdfmetrics.getFont(font.fontName) is font
        return font.fontName

    return use


def _draw(font_name: str, text: str, compression: int = 1) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pageCompression=compression, invariant=1)
    canvas.setFont(font_name, 10)
    for row in range(0, len(text), 60):
        canvas.drawString(20, 800 - row // 4, text[row : row + 60])
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _resolve(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def _fonts(pdf: bytes) -> dict[str, dict]:
    """The embedded TrueType fonts of page 1 by /BaseFont (the canvas's initial
    Helvetica left out), every stream decoded and every number as a float, so
    that two PDFs compare by what they mean."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = {}
    for reference in page["/Resources"]["/Font"].values():
        font = _resolve(reference)
        if font["/Subtype"] != "/TrueType":
            continue
        descriptor = _resolve(font["/FontDescriptor"])
        program = _resolve(descriptor["/FontFile2"])
        fonts[str(font["/BaseFont"])] = {
            "keys": sorted(font.keys()),
            "Subtype": str(font["/Subtype"]),
            "FirstChar": int(font["/FirstChar"]),
            "LastChar": int(font["/LastChar"]),
            "Widths": [float(w) for w in _resolve(font["/Widths"])],
            "ToUnicode": _resolve(font["/ToUnicode"]).get_data(),
            "descriptor keys": sorted(descriptor.keys()),
            "descriptor": {key: str(_resolve(value)) for key, value in descriptor.items() if key != "/FontFile2"},
            "program keys": sorted(k for k in program if k not in ("/Filter", "/Length")),
            "Length1": int(program["/Length1"]),
            "program": program.get_data(),
        }
    return fonts


def test_the_override_embeds_exactly_what_reportlab_itself_would(use_font):
    path = str(typefaces.FONT_DIR / "DejaVuSans.ttf")
    caching = typefaces._CachingTTFont("OverrideCheckCached", path)
    caching.subset_block = 0  # ReportLab's order of first use, as the plain TTFont gives codes
    plain = _fonts(_draw(use_font(ttfonts.TTFont("OverrideCheckPlain", path)), SAMPLE))
    cached = _fonts(_draw(use_font(caching), SAMPLE))
    assert len(caching._embedded) == 2, "the document did not go through _CachingTTFont.addObjects"

    assert len(plain) == 2, f"expected the sample to need two subsets, got {sorted(plain)}"
    assert sorted(cached) == sorted(plain), revisit(f"the subset names ({sorted(plain)})")
    for base_font, theirs in plain.items():
        ours = cached[base_font]
        assert ours["program"][:4] in (b"\x00\x01\x00\x00", b"true"), "the subset is not a TrueType program"
        assert ours["Length1"] == len(ours["program"])
        for key, value in theirs.items():
            assert ours[key] == value, revisit(f"what TTFont.addObjects writes: the {key} of {base_font}")


def test_the_second_document_is_built_from_the_cache(use_font):
    font = typefaces._CachingTTFont("OverrideCheckCache", str(typefaces.FONT_DIR / "DejaVuSans.ttf"))
    use_font(font)

    first = _draw("OverrideCheckCache", SAMPLE)
    cached = dict(font._embedded)
    assert len(cached) == 2, "the two subsets of the first document were not cached"
    second = _draw("OverrideCheckCache", SAMPLE)
    assert dict(font._embedded) == cached
    assert all(font._embedded[key] is cached[key] for key in cached), "the second document rebuilt its subsets"
    assert _fonts(second) == _fonts(first)
    # The cached program is deflated at typefaces.SUBSET_COMPRESSION, not at zlib's default.
    program = next(iter(cached.values())).program
    assert program == zlib.compress(zlib.decompress(program), typefaces.SUBSET_COMPRESSION)


def test_an_uncompressed_document_takes_reportlabs_own_path(use_font):
    font = typefaces._CachingTTFont("OverrideCheckRaw", str(typefaces.FONT_DIR / "DejaVuSans.ttf"))
    pdf = _draw(use_font(font), "Søren Ølstad, Łódź, Αθήνα, Москва", compression=0)
    assert font._embedded == {}
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert "Søren Ølstad, Łódź, Αθήνα, Москва" in page.extract_text()


def test_an_invoice_embeds_dejavu_subsets_through_the_override(non_latin):
    typefaces.register_fonts()
    pdf = render_pdf(non_latin)
    fonts = _fonts(pdf)
    assert fonts and all(name.split("+", 1)[1].startswith("DejaVuSans") for name in fonts), sorted(fonts)
    for name, font in fonts.items():
        assert font["program"][:4] in (b"\x00\x01\x00\x00", b"true"), f"{name}: not a TrueType subset"
        assert font["Length1"] == len(font["program"]), name
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for written in ("Søren Ølstad", "Łódź", "Αθήνα", "Москва"):
        assert written in text, f"{written!r} does not extract from the PDF"


# --------------------------------------------------------------------------
# Subset 0 filled by blocks of code points (typefaces.SUBSET_BLOCK)


def _subset_codes(font: typefaces._CachingTTFont, text: str) -> list[list[int]]:
    """The code points of each subset a document drawing ``text`` with ``font`` embeds."""
    doc = pdfdoc.PDFDocument()
    font.splitString(text, doc)
    return [list(subset) for subset in font.state[doc].subsets]


def test_invoices_in_one_script_embed_the_same_subset_whatever_their_names(use_font):
    font = typefaces._CachingTTFont("BlockFill", str(typefaces.FONT_DIR / "DejaVuSans.ttf"))
    use_font(font)
    # Different Russian names, met in a different order: ReportLab alone gives different subsets.
    first = _draw("BlockFill", "Счёт для Ивановой Марии, Москва")
    cached = dict(font._embedded)
    second = _draw("BlockFill", "Заказ: Пётр Сидоров, Санкт-Петербург")
    assert dict(font._embedded) == cached, "the second invoice's subset was built again, not taken from the cache"
    assert _fonts(second) == _fonts(first)
    for pdf, text in ((first, "Счёт для Ивановой Марии, Москва"), (second, "Заказ: Пётр Сидоров, Санкт-Петербург")):
        assert text in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    plain = ttfonts.TTFont("BlockFillPlain", str(typefaces.FONT_DIR / "DejaVuSans.ttf"))
    use_font(plain)
    assert _fonts(_draw("BlockFillPlain", "Счёт для Ивановой Марии, Москва")) != _fonts(
        _draw("BlockFillPlain", "Заказ: Пётр Сидоров, Санкт-Петербург")
    ), "ReportLab alone now gives these two texts one subset: the block filling may be unneeded"


def test_a_block_is_filled_in_code_point_order_with_the_glyphs_the_font_has():
    font = typefaces._CachingTTFont("BlockOrder", str(typefaces.FONT_DIR / "DejaVuSans.ttf"))
    (subset,) = _subset_codes(font, "πόλη Ωμέγα")  # U+03C0 first, then U+03CC, U+03BB, U+03B7, U+03A9 ...
    beyond_ascii = [code for code in subset if code > 0x7F]
    block = [code for code in range(0x03A0, 0x03C0) if code in font.face.charToGlyph]
    more = [code for code in range(0x03C0, 0x03E0) if code in font.face.charToGlyph]
    assert beyond_ascii == block + more, "the Greek blocks U+03A0-03BF and U+03C0-03DF, in order, nothing else"
    assert 0x03A2 not in beyond_ascii, "U+03A2 is unassigned in Unicode and has no glyph"


def test_blocks_that_do_not_fit_in_subset_0_fall_back_to_the_order_of_use(use_font):
    font = typefaces._CachingTTFont("BlockSpill", str(typefaces.FONT_DIR / "DejaVuSans.ttf"))
    use_font(font)
    pdf = _draw("BlockSpill", SAMPLE)  # 127 + 56 + 64 characters beyond ASCII: more than subset 0 holds
    subsets = _subset_codes(font, SAMPLE)
    assert len(subsets) == 2
    drawn = {ord(char) for char in SAMPLE}
    assert drawn <= {code for subset in subsets for code in subset}, "a character of the text has no code"
    assert len(subsets[0]) == 256 and len(subsets[1]) < 256
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace("\n", "")
    assert text.replace(" ", "") == SAMPLE.replace(" ", "")


def test_no_break_space_is_drawn_as_the_space_in_a_filled_block():
    font = typefaces._CachingTTFont("BlockNbsp", str(typefaces.FONT_DIR / "DejaVuSans.ttf"))
    doc = pdfdoc.PDFDocument()
    pieces = font.splitString("1\u00a0234,50\u00a0€ ÷", doc)
    assert 0xA0 not in font.state[doc].assignments, "U+00A0 got a code of its own; ReportLab maps it to 32"
    assert b"".join(piece for _, piece in pieces).count(b" ") == 3
