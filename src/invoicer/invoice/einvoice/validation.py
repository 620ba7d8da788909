"""Validate an EN 16931 e-invoice with the official artefacts, in-process.

:func:`validate` takes the bytes of a CII document (UN/CEFACT Cross Industry
Invoice D16B, the syntax of Factur-X, ZUGFeRD 2 and XRechnung-CII), a UBL 2.1
``Invoice`` or ``CreditNote`` (XRechnung-UBL, Peppol BIS Billing 3.0), or a
PDF carrying one of them as an attachment (Factur-X / ZUGFeRD 1 and 2 /
XRechnung, or UBL attached to a PDF), and checks, in this order:

1. **XML Schema**: the CII D16B XSD (``rules/xsd/cii-d16b``) or the UBL 2.1
   ``maindoc`` XSD (``rules/xsd/ubl-2.1``), with lxml. A schema error is a
   fatal finding with rule id ``XSD``; the Schematron rules still run, since
   they often say more precisely what is wrong.
2. **EN 16931 business rules**: CEN/TC 434's validation XSLT v1.3.16 for the
   syntax (``rules/en16931``), the BR-, BR-CO-, BR-CL-, BR-S- … rules.
3. **XRechnung 3.0.2 and Peppol BIS 3.0 rules** (``rules/xrechnung``, KoSIT's
   Schematron compiled with the Peppol rules merged) when the document's
   specification identifier (BT-24) names XRechnung or Peppol; their flags
   are re-graded per KoSIT's validator configuration for the ``standard``
   scenario (``rules/xrechnung/custom-levels.json``): a rule KoSIT raises to
   ``error`` is fatal here.

Each XSLT is compiled once per process (saxonche, Saxon-HE 13: about 0.3-4 s
each), then a document takes some 10-50 ms. Parsing refuses a DOCTYPE (no
e-invoice syntax has one), entities and network access (lxml ``resolve_entities=False``,
``no_network=True``).

Findings are the SVRL ``failed-assert`` and ``successful-report`` elements:
rule id (``BR-CO-10``), flag (``fatal``, ``warning``, ``information``), the
rule's text and the XPath of the node it is about.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "FATAL",
    "RULES_DIR",
    "Finding",
    "NotAnEInvoice",
    "Report",
    "extract_from_pdf",
    "validate",
    "validate_xml",
]

RULES_DIR = Path(__file__).with_name("rules")
FATAL = "fatal"

_CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
_UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
_CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_RAM_NS = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
_SVRL_NS = "http://purl.oclc.org/dsdl/svrl"

#: Root element (namespace, local name) -> (syntax, document, XSD below rules/xsd).
_ROOTS = {
    (_CII_NS, "CrossIndustryInvoice"): (
        "CII",
        "CrossIndustryInvoice",
        "cii-d16b/data/standard/CrossIndustryInvoice_100pD16B.xsd",
    ),
    (_UBL_INVOICE_NS, "Invoice"): ("UBL", "Invoice", "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd"),
    (_UBL_CREDIT_NOTE_NS, "CreditNote"): ("UBL", "CreditNote", "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"),
}
_EN16931_XSLT = {"CII": "en16931/EN16931-CII-validation.xslt", "UBL": "en16931/EN16931-UBL-validation.xslt"}
_XRECHNUNG_XSLT = {"CII": "xrechnung/XRechnung-CII-validation.xsl", "UBL": "xrechnung/XRechnung-UBL-validation.xsl"}
#: KoSIT's flag names -> ours: "error" rejects the document, as "fatal" does in CEN's rules.
_LEVELS = {"error": FATAL, "warning": "warning", "information": "information"}


class NotAnEInvoice(ValueError):
    """The input is neither a CII nor a UBL 2.1 Invoice/CreditNote, nor a
    PDF with one of them attached. ``str()`` says what it is instead."""


@dataclass(frozen=True)
class Finding:
    """One failed rule: ``rule`` (``BR-CO-10``, ``BR-DE-15``, ``XSD``),
    ``flag`` (``fatal``, ``warning`` or ``information``), ``text`` (the
    rule's message), ``location`` (an XPath, or ``line N`` for a schema
    error) and ``source`` (``XSD``, ``EN16931`` or ``XRechnung``)."""

    rule: str
    flag: str
    text: str
    location: str | None
    source: str

    @property
    def fatal(self) -> bool:
        return self.flag == FATAL


@dataclass(frozen=True)
class Report:
    """What :func:`validate` found: ``syntax`` (``CII`` or ``UBL``),
    ``document`` (root element: ``CrossIndustryInvoice``, ``Invoice`` or
    ``CreditNote``), ``specification`` (BT-24, e.g.
    ``urn:cen.eu:en16931:2017``), ``attachment`` (the file name inside a PDF,
    or None), ``rule_sets`` (what ran: ``XSD``, ``EN16931``, ``XRechnung``)
    and ``findings`` in document order per rule set."""

    syntax: str
    document: str
    specification: str | None
    attachment: str | None
    rule_sets: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def fatal(self) -> tuple[Finding, ...]:
        """The findings that make the document invalid."""
        return tuple(finding for finding in self.findings if finding.fatal)

    @property
    def valid(self) -> bool:
        """True when no rule failed fatally."""
        return not self.fatal


def _parser() -> Any:
    from lxml import etree  # noqa: PLC0415

    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)


@cache
def _schema(relative: str) -> Any:
    from lxml import etree  # noqa: PLC0415

    return etree.XMLSchema(etree.parse(str(RULES_DIR / "xsd" / relative), _parser()))


class _Saxon:
    """One Saxon processor per process and each stylesheet compiled once;
    transforms are serialised (saxonche's objects are not documented as
    thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processor: Any = None
        self._compiled: dict[str, Any] = {}

    def transform(self, stylesheet: str, xml_text: str) -> str:
        with self._lock:
            if self._processor is None:
                from saxonche import PySaxonProcessor  # noqa: PLC0415

                self._processor = PySaxonProcessor(license=False)
            executable = self._compiled.get(stylesheet)
            if executable is None:
                compiler = self._processor.new_xslt30_processor()
                executable = compiler.compile_stylesheet(stylesheet_file=str(RULES_DIR / stylesheet))
                self._compiled[stylesheet] = executable
            node = self._processor.parse_xml(xml_text=xml_text)
            result: str = executable.transform_to_string(xdm_node=node)
            return result


_SAXON = _Saxon()


@cache
def _custom_levels() -> dict[str, dict[str, str]]:
    data = json.loads((RULES_DIR / "xrechnung" / "custom-levels.json").read_text(encoding="utf-8"))
    levels: dict[str, dict[str, str]] = data["levels"]
    return levels


def extract_from_pdf(data: bytes) -> tuple[str, bytes]:
    """The e-invoice XML attached to a PDF: ``(attachment name, XML bytes)``,
    e.g. ``("factur-x.xml", b"<?xml …")`` (Factur-X, ZUGFeRD 1 and 2,
    XRechnung, or a UBL file attached to a PDF; read with factur-x).
    Raises :class:`NotAnEInvoice` when the PDF has none or cannot be read."""
    import logging  # noqa: PLC0415

    from facturx import get_xml_from_pdf  # noqa: PLC0415

    logging.getLogger("factur-x").setLevel(logging.CRITICAL)  # it logs every miss as an error
    try:
        name, xml = get_xml_from_pdf(data, check_xsd=False)
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds for a broken file
        raise NotAnEInvoice(f"the PDF cannot be read: {exc}") from None
    if not xml:
        raise NotAnEInvoice("the PDF carries no e-invoice XML (no factur-x.xml, zugferd-invoice.xml, … attached)")
    return str(name), bytes(xml)


def validate(data: bytes, *, xrechnung: bool | None = None) -> Report:
    """Validate ``data`` (CII or UBL XML, or a PDF carrying one; see the
    module docstring). ``xrechnung``: run the XRechnung/Peppol rules too
    (True), not (False), or when BT-24 names XRechnung or Peppol (None).
    Raises :class:`NotAnEInvoice` for anything else."""
    attachment = None
    if data.lstrip()[:5] == b"%PDF-":
        attachment, data = extract_from_pdf(data)
    report = validate_xml(data, xrechnung=xrechnung)
    return Report(report.syntax, report.document, report.specification, attachment, report.rule_sets, report.findings)


def validate_xml(data: bytes, *, xrechnung: bool | None = None) -> Report:
    """Validate CII or UBL XML ``data``; see :func:`validate`. Raises
    :class:`NotAnEInvoice` when it is not well-formed XML or has another root."""
    from lxml import etree  # noqa: PLC0415

    try:
        tree = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise NotAnEInvoice(f"not well-formed XML: {exc}") from None
    if tree.getroottree().docinfo.internalDTD is not None or tree.getroottree().docinfo.doctype:
        # No e-invoice syntax uses a DTD; refusing any keeps entity tricks (XXE, billion laughs) out.
        raise NotAnEInvoice("a DOCTYPE is not allowed in an e-invoice (CII and UBL use none)")
    qname = etree.QName(tree)
    known = _ROOTS.get((qname.namespace or "", qname.localname))
    if known is None:
        raise NotAnEInvoice(
            f"the root element is {{{qname.namespace}}}{qname.localname}, not a CII CrossIndustryInvoice "
            "or a UBL 2.1 Invoice or CreditNote"
        )
    syntax, document, xsd = known
    specification = _specification(tree, syntax)
    findings: list[Finding] = []
    schema = _schema(xsd)
    if not schema.validate(tree):
        findings += [Finding("XSD", FATAL, error.message, f"line {error.line}", "XSD") for error in schema.error_log]
    text = data.decode("utf-8-sig")
    findings += _svrl(_SAXON.transform(_EN16931_XSLT[syntax], text), "EN16931", None)
    rule_sets = ["XSD", "EN16931"]
    spec = (specification or "").lower()
    if xrechnung or (xrechnung is None and ("xrechnung" in spec or "peppol" in spec)):
        levels = _custom_levels().get(f"{document}/standard", {})
        findings += _svrl(_SAXON.transform(_XRECHNUNG_XSLT[syntax], text), "XRechnung", levels)
        rule_sets.append("XRechnung")
    return Report(syntax, document, specification, None, tuple(rule_sets), tuple(findings))


def _specification(tree: Any, syntax: str) -> str | None:
    """BT-24, the specification identifier (CII: GuidelineSpecifiedDocumentContextParameter/ID,
    UBL: cbc:CustomizationID)."""
    if syntax == "CII":
        found = tree.findtext(f".//{{{_RAM_NS}}}GuidelineSpecifiedDocumentContextParameter/{{{_RAM_NS}}}ID")
    else:
        found = tree.findtext(f"{{{_CBC_NS}}}CustomizationID")
    return found.strip() if found else None


def _svrl(output: str, source: str, levels: dict[str, str] | None) -> list[Finding]:
    """The failed asserts and successful reports of an SVRL document, re-graded by ``levels``."""
    from lxml import etree  # noqa: PLC0415

    root = etree.fromstring(output.encode("utf-8"), _parser())
    findings = []
    for element in root.iter(f"{{{_SVRL_NS}}}failed-assert", f"{{{_SVRL_NS}}}successful-report"):
        rule = element.get("id") or "?"
        flag = (element.get("flag") or FATAL).lower()
        if levels and rule in levels:
            flag = _LEVELS.get(levels[rule], flag)
        text = " ".join("".join(element.findtext(f"{{{_SVRL_NS}}}text") or "").split())
        findings.append(Finding(rule, flag, text, _short_location(element.get("location")), source))
    return findings


_NAMESPACE_TEST = re.compile(r"\*:([A-Za-z0-9_.-]+)\[namespace-uri\(\)='[^']*'\]")


def _short_location(location: str | None) -> str | None:
    """SVRL's namespace-proof XPath made readable:
    ``/*:Invoice[namespace-uri()='…'][1]/*:Note[namespace-uri()='…'][1]`` -> ``/Invoice[1]/Note[1]``."""
    return _NAMESPACE_TEST.sub(r"\1", location) if location else location
