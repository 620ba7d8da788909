"""The format registry: a new format is one renderer and one registration,
and the gateway, the OpenAPI document, the CLI and the renderer path all
follow it; importing the registry imports no renderer."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from pypdf import PdfReader

from invoicer.cli import build_parser
from invoicer.common.errors import ApiError
from invoicer.gateway.openapi import openapi_document
from invoicer.gateway.routes import parse_formats
from invoicer.invoice import formats
from invoicer.invoice.formats import Attachment, OutputFormat, RenderOptions
from invoicer.invoice.model import Invoice
from invoicer.invoice.render import output_filename, render_formats


def render_txt(invoice: Invoice, options: RenderOptions) -> bytes:
    """The whole of a new format's module: one renderer."""
    total = invoice.totals.gross
    return f"{invoice.invoice_number} {invoice.currency} {total} {options.page_size} {options.locale}\n".encode()


#: The formats the pipeline registers: the documents, then the EN 16931 e-invoices.
PIPELINE = ["pdf", "xlsx", "cii", "ubl", "facturx"]


@pytest.fixture
def txt():
    fmt = formats.register(OutputFormat("txt", "text/plain", "txt", render_txt, aliases=("text",)))
    try:
        yield fmt
    finally:
        formats.unregister("txt")
    assert "txt" not in formats.names()


def test_a_registered_format_is_accepted_and_rendered(txt, example):
    assert parse_formats({"formats": "txt,pdf"}) == ["pdf", "txt"]
    assert parse_formats({"format": "text"}) == ["txt"]
    with pytest.raises(ApiError) as caught:
        parse_formats({"formats": "docx"})
    assert caught.value.message == "formats must be a comma list of pdf, xlsx, cii, ubl, facturx, txt"
    with pytest.raises(ApiError) as caught:
        parse_formats({"format": "docx"})
    assert caught.value.message == "format must be pdf, excel, cii, ubl, facturx or text"

    files = render_formats(example, ["txt"], page_size="LETTER", locale="de_DE")
    assert files == {"txt": b"INV-2026-0001 EUR 330.86 LETTER de_DE\n"}
    assert output_filename(example.invoice_number, "txt") == "INV-2026-0001.txt"
    assert formats.get("txt").media_type == "text/plain"

    assert build_parser().parse_args(["render", "x.json", "--out", "out"]).formats == "pdf,xlsx"
    assert build_parser().parse_args(["render", "x.json", "--out", "out", "--formats", "txt"]).formats == "txt"

    document = openapi_document("http://localhost")
    assert document["components"]["schemas"]["Format"]["enum"] == [*PIPELINE, "txt"]
    assert "text/plain" in document["paths"]["/download"]["get"]["responses"]["200"]["content"]


def test_the_pipeline_formats_and_their_messages(example):
    assert formats.names() == PIPELINE
    assert parse_formats({}) == ["pdf"]
    assert parse_formats({"formats": "xlsx,pdf,xlsx"}) == ["pdf", "xlsx"]
    assert parse_formats({"format": "excel"}) == ["xlsx"]
    with pytest.raises(ApiError) as caught:
        parse_formats({"formats": "excel"})  # the alias is for the legacy parameter only
    assert (caught.value.status, caught.value.message) == (
        400,
        "formats must be a comma list of pdf, xlsx, cii, ubl, facturx",
    )
    with pytest.raises(ApiError) as caught:
        parse_formats({"format": "word"})
    assert caught.value.message == "format must be pdf, excel, cii, ubl or facturx"
    assert formats.get("xlsx").media_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert output_filename("INV/2026 01", "xlsx") == "INV_2026_01.xlsx"
    files = render_formats(example, ["xlsx", "pdf"])
    assert list(files) == ["xlsx", "pdf"]
    assert files["pdf"].startswith(b"%PDF") and files["xlsx"].startswith(b"PK")


def test_unknown_format_is_refused_before_any_rendering(example):
    with pytest.raises(KeyError):
        render_formats(example, ["pdf", "docx"])


def test_names_are_unique(txt):
    for clash in (
        OutputFormat("txt", "text/csv", "csv", render_txt),
        OutputFormat("csv", "text/csv", "csv", render_txt, aliases=("excel",)),
    ):
        with pytest.raises(ValueError, match="already registered"):
            formats.register(clash)
    assert formats.get("txt").media_type == "text/plain"
    with pytest.raises(ValueError, match="lower case"):
        formats.register(OutputFormat("CSV", "text/csv", "csv", render_txt))


def test_cli_parser_and_gateway_import_no_renderer_library():
    code = (
        "import sys\n"
        "from invoicer.cli import build_parser\n"
        "from invoicer.gateway.routes import parse_formats\n"
        "build_parser().parse_args(['render', 'x.json', '--out', 'out'])\n"
        "print(sorted(m for m in ('reportlab', 'xlsxwriter', 'openpyxl') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------
# Formats rendered at the same time in forked processes (processes > 1)


def _child_pids(path):
    return path.read_text().split() if path.exists() else []


def test_formats_rendered_in_child_processes_are_the_formats_rendered_here(example, tmp_path, monkeypatch):
    import os

    from reportlab import rl_config

    monkeypatch.setattr(rl_config, "invariant", 1)  # no creation date or file id: comparable bytes
    where = tmp_path / "pids"

    def render_pid(invoice: Invoice, options: RenderOptions) -> bytes:
        with where.open("a") as log:
            log.write(f"{os.getpid()}\n")
        return render_txt(invoice, options)

    formats.register(OutputFormat("pid", "text/plain", "pid", render_pid))
    try:
        serial = render_formats(example, ["pdf", "pid"])
        assert _child_pids(where) == [str(os.getpid())]
        parallel = render_formats(example, ["pdf", "pid", "xlsx"], processes=3)
    finally:
        formats.unregister("pid")
    assert list(parallel) == ["pdf", "pid", "xlsx"]
    assert parallel["pdf"] == serial["pdf"] and parallel["pid"] == serial["pid"]
    assert parallel["xlsx"].startswith(b"PK")
    pids = _child_pids(where)
    assert len(pids) == 2 and pids[1] != str(os.getpid()), "the second format was not rendered in a child process"


def test_a_format_that_fails_in_its_child_is_rendered_here(example, tmp_path):
    import os

    parent = os.getpid()

    def fails_in_a_child(invoice: Invoice, options: RenderOptions) -> bytes:
        if os.getpid() != parent:
            raise MemoryError("the child ran out of memory")
        return render_txt(invoice, options)

    def always_fails(invoice: Invoice, options: RenderOptions) -> bytes:
        raise ValueError("this renderer always fails")

    formats.register(OutputFormat("flaky", "text/plain", "flaky", fails_in_a_child))
    formats.register(OutputFormat("broken", "text/plain", "broken", always_fails))
    try:
        files = render_formats(example, ["xlsx", "flaky"], processes=2)
        assert files["flaky"] == render_txt(example, RenderOptions())
        with pytest.raises(ValueError, match="this renderer always fails"):
            render_formats(example, ["xlsx", "broken"], processes=2)
    finally:
        formats.unregister("flaky")
        formats.unregister("broken")


def test_the_cycle_collector_is_paused_while_rendering_and_left_as_it_was(example):
    import gc

    seen = []

    def render_gc(invoice: Invoice, options: RenderOptions) -> bytes:
        seen.append(gc.isenabled())
        return b""

    formats.register(OutputFormat("gcstate", "text/plain", "gc", render_gc))
    was = gc.isenabled()
    try:
        gc.enable()
        render_formats(example, ["gcstate"])
        assert gc.isenabled(), "rendering left the collector paused"
        gc.disable()
        render_formats(example, ["gcstate"])
        assert not gc.isenabled(), "rendering turned on a collector its caller had paused"
        gc.enable()
        with pytest.raises(KeyError):
            render_formats(example, ["gcstate", "nope"])
        assert gc.isenabled()
    finally:
        formats.unregister("gcstate")
        if was:
            gc.enable()
        else:
            gc.disable()
    assert seen == [False, False], "the renderer ran with the collector on"


# --------------------------------------------------------------------------
# Formats that need another format's output (Factur-X needs the CII XML)


def render_json(invoice: Invoice, options: RenderOptions) -> bytes:
    """A stand-in for the CII XML: the invoice's number and total as JSON."""
    return json.dumps({"number": invoice.invoice_number, "gross": str(invoice.totals.gross)}).encode()


def render_pdfjson(invoice: Invoice, options: RenderOptions) -> bytes:
    """A stand-in for Factur-X: the PDF with the ``json`` format embedded."""
    attachment = Attachment("invoice.json", options.inputs["json"], "application/json", "Data", "The invoice as JSON")
    xmp = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    xmp += '<x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>'
    return formats.get("pdf").renderer(invoice, options._replace(attachments=(attachment,), xmp=xmp))


@pytest.fixture
def pdfjson():
    order: list[str] = []

    def logged(name, renderer):
        def render(invoice: Invoice, options: RenderOptions) -> bytes:
            order.append(name)
            return renderer(invoice, options)

        return render

    formats.register(OutputFormat("json", "application/json", "json", logged("json", render_json)))
    formats.register(
        OutputFormat("pdfjson", "application/pdf", "pdf", logged("pdfjson", render_pdfjson), needs=("json",))
    )
    try:
        yield order
    finally:
        formats.unregister("pdfjson")
        formats.unregister("json")
    assert formats.names() == PIPELINE


def test_a_format_gets_what_it_needs_rendered_first_and_only_what_was_asked_is_returned(pdfjson, example):
    assert [fmt.name for fmt in formats.plan(["xlsx", "pdfjson"])] == ["xlsx", "json", "pdfjson"]
    files = render_formats(example, ["pdfjson", "xlsx"])
    assert list(files) == ["pdfjson", "xlsx"], "the json it needed is rendered but not returned"
    assert pdfjson == ["json", "pdfjson"]
    parallel = render_formats(example, ["pdfjson", "xlsx", "pdf"], processes=3)
    assert list(parallel) == ["pdfjson", "xlsx", "pdf"] and parallel["pdfjson"].startswith(b"%PDF")
    assert PdfReader(io.BytesIO(parallel["pdfjson"])).attachments == {
        "invoice.json": [render_json(example, RenderOptions())]
    }

    reader = PdfReader(io.BytesIO(files["pdfjson"]))
    assert reader.attachments == {"invoice.json": [render_json(example, RenderOptions())]}
    spec = reader.trailer["/Root"]["/AF"][0].get_object()
    assert (spec["/AFRelationship"], spec["/Desc"], spec["/UF"]) == ("/Data", "The invoice as JSON", "invoice.json")
    assert spec["/EF"]["/F"].get_object()["/Subtype"] == "/application/json"  # written /application#2Fjson
    metadata = reader.trailer["/Root"]["/Metadata"].get_object()
    assert "/Filter" not in metadata and b"adobe:ns:meta/" in metadata.get_data()
    assert "INV-2026-0001" in reader.pages[0].extract_text()


def test_needs_are_checked_before_any_rendering(pdfjson, example):
    formats.register(OutputFormat("loop", "text/plain", "txt", render_txt, needs=("loop2",)))
    formats.register(OutputFormat("loop2", "text/plain", "txt", render_txt, needs=("loop",)))
    formats.register(OutputFormat("orphan", "text/plain", "txt", render_txt, needs=("nothing",)))
    try:
        with pytest.raises(ValueError, match="cycle: loop -> loop2 -> loop"):
            render_formats(example, ["loop"])
        with pytest.raises(KeyError):
            render_formats(example, ["pdfjson", "orphan"])
        assert pdfjson == []
    finally:
        for name in ("loop", "loop2", "orphan"):
            formats.unregister(name)


def test_kept_formats_are_the_pipelines_unless_a_format_says_so(txt):
    assert formats.kept_names() == PIPELINE, "a new format is not kept unless it says so"
    formats.register(OutputFormat("kept", "text/plain", "txt", render_txt, kept=True))
    try:
        assert formats.kept_names() == [*PIPELINE, "kept"]
    finally:
        formats.unregister("kept")


def test_a_pdf_without_attachments_has_no_embedded_files(example):
    reader = PdfReader(io.BytesIO(render_formats(example, ["pdf"])["pdf"]))
    assert reader.attachments == {} and "/AF" not in reader.trailer["/Root"]
    twice = (Attachment("a.txt", b"1", "text/plain"), Attachment("a.txt", b"2", "text/plain"))
    with pytest.raises(ValueError, match="must differ"):
        formats.get("pdf")(example, RenderOptions(attachments=twice))
