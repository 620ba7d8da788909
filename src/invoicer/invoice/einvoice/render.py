"""The e-invoice formats of the registry (:mod:`invoicer.invoice.formats`):
``cii``, ``ubl`` and ``facturx``.

* ``cii``: the invoice as UN/CEFACT CII D16B XML (:func:`render_cii`), of the
  profile ``options.einvoice`` names when it is a CII one (``factur-x``,
  ``xrechnung-cii``), else ``factur-x`` (EN 16931).
* ``ubl``: UBL 2.1 Invoice or CreditNote (:func:`render_ubl`), profile
  ``xrechnung-ubl`` or ``peppol-ubl`` (the default).
* ``facturx``: Factur-X / ZUGFeRD 2.3, profile EN 16931 (:func:`render_facturx`):
  the ``pdf`` format's page with the ``cii`` XML embedded as ``factur-x.xml``
  — a PDF/A-3b: one pikepdf pass writes the embedded file with
  ``AFRelationship`` ``Data``, the catalogue's ``AF`` array, factur-x's XMP
  metadata (``pdfaid`` part 3, conformance B, and the Factur-X extension
  schema) and the sRGB ``OutputIntent`` ReportLab does not write (ISO
  19005-3 §6.2.3). The fonts are embedded already (DejaVu subsets).

The numbers are the model's (:func:`invoicer.invoice.model.compute_totals`):
the page and the XML are made from one :class:`~invoicer.invoice.model.Invoice`.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from datetime import UTC, datetime
from functools import cache

from ..formats import RenderOptions
from ..model import Invoice
from .writer import PROFILES, Profile, to_xml

__all__ = ["profile_for", "render_cii", "render_facturx", "render_ubl"]

#: The profile of one syntax that matches another's family (XRechnung in both syntaxes).
_SAME_FAMILY = {"xrechnung-ubl": "xrechnung-cii", "xrechnung-cii": "xrechnung-ubl"}
_DEFAULT = {"CII": "factur-x", "UBL": "peppol-ubl"}


def profile_for(options: RenderOptions, syntax: str) -> Profile:
    """The profile a ``syntax`` (``CII`` or ``UBL``) format writes for
    ``options.einvoice``: that profile if it is of the syntax, its sibling
    in the other syntax (XRechnung), else the syntax's default. Raises
    ``ValueError`` for a profile name that does not exist."""
    name = options.einvoice
    if name is None:
        return PROFILES[_DEFAULT[syntax]]
    if name not in PROFILES:
        raise ValueError(f"unknown e-invoice profile {name!r}; expected one of {', '.join(PROFILES)}")
    profile = PROFILES[name]
    if profile.syntax == syntax:
        return profile
    return PROFILES[_SAME_FAMILY.get(name, _DEFAULT[syntax])]


def render_cii(invoice: Invoice, options: RenderOptions) -> bytes:
    """``invoice`` as CII XML (UTF-8) of :func:`profile_for` ``CII``."""
    return to_xml(invoice, profile_for(options, "CII"))


def render_ubl(invoice: Invoice, options: RenderOptions) -> bytes:
    """``invoice`` as UBL 2.1 XML (UTF-8) of :func:`profile_for` ``UBL``."""
    return to_xml(invoice, profile_for(options, "UBL"))


@cache
def _srgb_profile() -> bytes:
    """An sRGB ICC profile (IEC 61966-2-1), made by Pillow's LittleCMS: ~600 bytes."""
    from PIL import ImageCms  # noqa: PLC0415

    data: bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return data


def render_facturx(invoice: Invoice, options: RenderOptions) -> bytes:
    """The Factur-X PDF/A-3b of ``invoice``: ``options.inputs["pdf"]`` (the
    page) with ``options.inputs["cii"]`` embedded as ``factur-x.xml`` when
    that XML is of the ``factur-x`` profile, else a ``factur-x`` CII written
    here (an XRechnung CII is not a Factur-X attachment). Raises KeyError if
    the inputs are missing (render it through ``render_formats``).

    One pikepdf (qpdf) pass adds what factur-x's ``generate_from_binary``
    would (the embedded file, its file specification in the ``EmbeddedFiles``
    name tree and the ``AF`` array, the XMP packet of factur-x's
    ``generate_xmp_object`` with the Factur-X extension schema, the document
    information, ``Lang``) and the OutputIntent: ``generate_from_binary``
    re-read and re-wrote the whole PDF with pypdf (pure Python), and pikepdf
    then re-wrote it once more, which cost more than the page itself
    (bench/RESULTS.md, section 4)."""
    import pikepdf  # noqa: PLC0415

    pdf = options.inputs["pdf"]
    xml = (
        options.inputs["cii"]
        if profile_for(options, "CII").name == "factur-x"
        else render_cii(invoice, RenderOptions())
    )
    seller = invoice.seller.company or invoice.seller.name
    kind = "Credit note" if invoice.document_type == "credit_note" else "Invoice"
    title = f"{seller}: {kind} {invoice.invoice_number}"
    subject = f"{kind} {invoice.invoice_number} of {invoice.issue_date.isoformat()} issued by {seller}"
    now = datetime.now(UTC).replace(microsecond=0)
    pdf_date = now.strftime("D:%Y%m%d%H%M%S+00'00'")
    xmp = _xmp(title=title, author=seller, subject=subject, timestamp=now.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
    with pikepdf.open(io.BytesIO(pdf)) as document:
        embedded = pikepdf.Stream(document, b"")
        embedded.write(zlib.compress(xml), filter=pikepdf.Name.FlateDecode)
        embedded.Type = pikepdf.Name.EmbeddedFile
        embedded.Subtype = pikepdf.Name("/text/xml")
        embedded.Params = pikepdf.Dictionary(
            Size=len(xml), CheckSum=pikepdf.String(hashlib.md5(xml).digest()), ModDate=pdf_date
        )
        spec = document.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Filespec,
                F=_XML_NAME,
                UF=_XML_NAME,
                Desc="Factur-X XML file",
                AFRelationship=pikepdf.Name.Data,
                EF=pikepdf.Dictionary(F=embedded, UF=embedded),
            )
        )
        root = document.Root
        root.Names = pikepdf.Dictionary(EmbeddedFiles=pikepdf.Dictionary(Names=pikepdf.Array([_XML_NAME, spec])))
        root.AF = document.make_indirect(pikepdf.Array([spec]))
        root.PageMode = pikepdf.Name.UseAttachments
        metadata = pikepdf.Stream(document, xmp)
        metadata.Type = pikepdf.Name.Metadata
        metadata.Subtype = pikepdf.Name.XML
        root.Metadata = document.make_indirect(metadata)
        if options.locale:
            root.Lang = options.locale.replace("_", "-")
        info = document.docinfo
        info.Author = seller
        info.Title = title
        info.Subject = subject
        info.Keywords = "Factur-X, EN 16931, " + kind
        info.Creator = _CREATOR
        info.Producer = _PRODUCER
        info.CreationDate = pdf_date
        info.ModDate = pdf_date
        icc = pikepdf.Stream(document, _srgb_profile())
        icc["/N"] = 3
        intent = pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent,
            S=pikepdf.Name.GTS_PDFA1,
            OutputConditionIdentifier="sRGB IEC61966-2.1",
            Info="sRGB IEC61966-2.1",
            RegistryName="http://www.color.org",
            DestOutputProfile=icc,
        )
        root.OutputIntents = pikepdf.Array([intent])
        out = io.BytesIO()
        # The XMP stream stays uncompressed (PDF/A-3 §6.6.2.1: readable without filters).
        document.save(out, fix_metadata_version=False)
    return out.getvalue()


_XML_NAME = "factur-x.xml"
_CREATOR = "invoicer"
_PRODUCER = "invoicer (ReportLab, pikepdf)"


def _xmp(*, title: str, author: str, subject: str, timestamp: str) -> bytes:
    """The XMP packet of a Factur-X EN 16931 invoice: factur-x's own
    (``generate_xmp_object``: ``pdfaid`` part 3, conformance B, Dublin Core,
    the Factur-X extension schema), with the producer and creator tool of the
    document information dictionary, which PDF/A wants equal."""
    from facturx.facturx import generate_xmp_object  # noqa: PLC0415
    from lxml import etree  # noqa: PLC0415

    root = generate_xmp_object(
        {
            "pdfa3_flavor": "B",
            "title": title,
            "author": author,
            "subject": subject,
            "producer": _PRODUCER,
            "creator_tool": _CREATOR,
            "timestamp": timestamp,
            "version": "1.0",
            "documenttype": "INVOICE",
            "xml_filename": _XML_NAME,
            "xmp_level": "EN 16931",
            "urn": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
        }
    )
    body = etree.tostring(root, pretty_print=True).decode("utf-8").strip()
    return "\n".join(['<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>', body, '<?xpacket end="w"?>']).encode()
