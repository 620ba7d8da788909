"""EN 16931 validation with the official artefacts (issue 18, "invoicer
einvoice validate"): real Factur-X PDFs of the ZUGFeRD corpus, the XML they
carry, and that XML broken on purpose, checked with the CEN XSLTs, the
XRechnung/Peppol rules and the XML Schemas."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from invoicer.invoice.einvoice.validation import NotAnEInvoice, extract_from_pdf, validate

DATA = Path(__file__).parents[1] / "data" / "einvoice"
VALID_PDF = DATA / "EN16931_Miete.pdf"
BASIC_WL_PDF = DATA / "Facture_DOM_BASICWL.pdf"


@pytest.fixture(scope="module")
def valid_xml() -> bytes:
    name, xml = extract_from_pdf(VALID_PDF.read_bytes())
    assert name == "factur-x.xml"
    return xml


def test_a_valid_factur_x_pdf_passes_every_rule():
    report = validate(VALID_PDF.read_bytes())
    assert (report.syntax, report.document, report.attachment) == ("CII", "CrossIndustryInvoice", "factur-x.xml")
    assert report.specification == "urn:cen.eu:en16931:2017"
    assert report.rule_sets == ("XSD", "EN16931")
    assert report.valid, report.fatal


def test_a_basic_wl_document_fails_en16931_with_the_rule_ids():
    report = validate(BASIC_WL_PDF.read_bytes())
    assert not report.valid
    rules = {finding.rule for finding in report.fatal}
    assert "BR-16" in rules  # no invoice line (BG-25)
    finding = next(finding for finding in report.fatal if finding.rule == "BR-16")
    assert finding.source == "EN16931"
    assert "Invoice line" in finding.text
    assert finding.location == "/CrossIndustryInvoice[1]"


def test_a_wrong_total_breaks_br_co_15(valid_xml):
    grand = re.search(rb"<ram:GrandTotalAmount>([0-9.]+)</ram:GrandTotalAmount>", valid_xml)
    assert grand is not None
    broken = valid_xml.replace(grand.group(0), b"<ram:GrandTotalAmount>1.00</ram:GrandTotalAmount>")
    report = validate(broken)
    assert report.attachment is None
    assert "BR-CO-15" in {finding.rule for finding in report.fatal}


def test_a_schema_violation_is_a_fatal_xsd_finding(valid_xml):
    broken = valid_xml.replace(b"<ram:GrandTotalAmount>", b"<ram:GrandTotal>", 1).replace(
        b"</ram:GrandTotalAmount>", b"</ram:GrandTotal>", 1
    )
    report = validate(broken)
    xsd = [finding for finding in report.fatal if finding.rule == "XSD"]
    assert xsd and xsd[0].source == "XSD" and "GrandTotal" in xsd[0].text
    assert xsd[0].location.startswith("line ")


def test_the_xrechnung_rules_ask_for_a_buyer_reference(valid_xml):
    """Run on demand, the XRechnung rules find what a German public buyer's
    system refuses: BR-DE-15, no buyer reference (Leitweg-ID, BT-10)."""
    report = validate(valid_xml, xrechnung=True)
    assert report.rule_sets == ("XSD", "EN16931", "XRechnung")
    xrechnung = {finding.rule for finding in report.findings if finding.source == "XRechnung"}
    assert "BR-DE-15" in xrechnung


def test_anything_else_is_not_an_e_invoice():
    with pytest.raises(NotAnEInvoice, match="not well-formed"):
        validate(b"{}")
    with pytest.raises(NotAnEInvoice, match="root element"):
        validate(b"<html/>")
    with pytest.raises(NotAnEInvoice, match="no e-invoice XML"):
        validate(_plain_pdf())


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">'
        "&x;</rsm:CrossIndustryInvoice>"
    ).encode()
    with pytest.raises(NotAnEInvoice, match="DOCTYPE is not allowed") as refused:
        validate(xml)
    assert "TOP-SECRET" not in str(refused.value)


def test_the_command_prints_each_failed_rule_and_exits_1_on_a_fatal_one():
    ok = _cli(str(VALID_PDF))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"{VALID_PDF}: CII CrossIndustryInvoice (factur-x.xml), urn:cen.eu:en16931:2017: valid")
    bad = _cli(str(VALID_PDF), str(BASIC_WL_PDF))
    assert bad.returncode == 1
    assert "INVALID" in bad.stdout
    assert re.search(r"^  BR-16 fatal: \[BR-16\]", bad.stdout, re.MULTILINE)


def test_the_command_says_what_is_not_an_e_invoice(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = _cli(str(text))
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"{text}: not an e-invoice: not well-formed XML: "
        + result.stderr.split("not well-formed XML: ", 1)[1].strip()
    )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invoicer.cli", "einvoice", "validate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _plain_pdf() -> bytes:
    from io import BytesIO

    from reportlab.pdfgen.canvas import Canvas

    buffer = BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "no XML here")
    canvas.save()
    return buffer.getvalue()
