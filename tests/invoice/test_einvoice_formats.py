"""The e-invoice formats of the registry: ``cii``, ``ubl`` and the Factur-X
PDF/A-3b (issue 18, "The documents"). veraPDF is not available here, so the
PDF/A-3 structure is checked clause by clause with pikepdf: ISO 19005-3
§6.2.3 (an OutputIntent with an embedded ICC profile), §6.6.4 and §6.8
(XMP with pdfaid:part 3 and conformance B, the Factur-X extension schema),
§6.8 (the embedded file with its AFRelationship and MIME subtype, the
catalogue's AF array), §6.2.11.4 (every font embedded)."""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from invoicer.invoice import formats
from invoicer.invoice.einvoice.validation import extract_from_pdf, validate
from invoicer.invoice.loader import load_invoice
from invoicer.invoice.render import output_filename, render_formats

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "invoice.json").read_text())


@pytest.fixture(scope="module")
def invoice():
    document = copy.deepcopy(EXAMPLE)
    document["seller"].update(
        address={"line1": "12 Harbour Road", "city": "Bristol", "postal_code": "BS1 4RW", "country_code": "GB"}
    )
    document["seller"]["vat_id"] = "GB980780684"
    document["buyer"]["address"] = {
        "line1": "Obere Str. 57",
        "city": "Berlin",
        "postal_code": "12209",
        "country_code": "DE",
    }
    return load_invoice(document)


@pytest.fixture(scope="module")
def facturx(invoice) -> bytes:
    return render_formats(invoice, ["facturx"])["facturx"]


def test_the_formats_are_registered_with_their_needs():
    assert formats.get("cii").media_type == "application/xml"
    assert formats.get("facturx").needs == ("pdf", "cii")
    assert output_filename("INV-2026-0001", "facturx") == "INV-2026-0001.facturx.pdf"
    assert output_filename("INV-2026-0001", "ubl") == "INV-2026-0001.ubl.xml"


def test_the_embedded_xml_passes_every_official_rule_and_states_the_pages_total(invoice, facturx):
    report = validate(facturx)
    assert report.attachment == "factur-x.xml"
    assert report.valid, [(f.rule, f.text) for f in report.fatal]
    _, xml = extract_from_pdf(facturx)
    gross = re.search(rb"<ram:GrandTotalAmount>([0-9.]+)</ram:GrandTotalAmount>", xml).group(1).decode()
    assert gross == str(invoice.totals.gross) == "330.86"
    page_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(facturx)).pages)
    assert "330.86" in page_text


def test_the_pdf_a_3b_structure(facturx):
    with pikepdf.open(io.BytesIO(facturx)) as pdf:
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == pikepdf.Name.GTS_PDFA1
        assert intent.DestOutputProfile["/N"] == 3
        assert len(intent.DestOutputProfile.read_bytes()) > 100
        metadata = pdf.open_metadata()
        assert metadata.get("pdfaid:part") == "3" and metadata.get("pdfaid:conformance") == "B"
        xmp = pdf.Root.Metadata.read_bytes().decode()
        assert "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in xmp
        assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
        assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
        (spec,) = pdf.Root.AF
        assert spec.AFRelationship == pikepdf.Name.Data
        assert str(spec.F) == "factur-x.xml"
        assert spec.EF.F.Subtype == pikepdf.Name("/text/xml")
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                descendant = font.get("/DescendantFonts")
                descriptor = (descendant[0] if descendant else font).FontDescriptor
                assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font.BaseFont


@pytest.mark.parametrize(
    ("fmt", "profile", "syntax"), [("cii", "xrechnung-cii", "CII"), ("ubl", "xrechnung-ubl", "UBL")]
)
def test_the_xml_formats_write_the_asked_profile(invoice, fmt, profile, syntax):
    xml = render_formats(invoice, [fmt], einvoice=profile)[fmt]
    report = validate(xml)
    assert report.syntax == syntax and "xrechnung" in (report.specification or "")
    # This invoice has no Leitweg-ID: the XRechnung rules say so (BR-DE-15), as the API will before issuing.
    assert "BR-DE-15" in {finding.rule for finding in report.fatal}


def test_an_unknown_profile_is_refused(invoice):
    with pytest.raises(ValueError, match="unknown e-invoice profile"):
        render_formats(invoice, ["cii"], einvoice="zugferd-9")
