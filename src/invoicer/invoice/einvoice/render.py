"""The e-invoice formats of the registry (:mod:`invoicer.invoice.formats`):
``cii``, ``ubl`` and ``facturx``.

* ``cii``: the invoice as UN/CEFACT CII D16B XML (:func:`render_cii`), of the
  profile ``options.einvoice`` names when it is a CII one (``factur-x``,
  ``xrechnung-cii``), else ``factur-x`` (EN 16931).
* ``ubl``: UBL 2.1 Invoice or CreditNote (:func:`render_ubl`), profile
  ``xrechnung-ubl`` or ``peppol-ubl`` (the default).
* ``facturx``: Factur-X / ZUGFeRD 2.3, profile EN 16931 (:func:`render_facturx`):
  the ``pdf`` format's page with the ``cii`` XML embedded as ``factur-x.xml``
  — a PDF/A-3b: factur-x writes the embedded file with ``AFRelationship``
  ``Data``, the catalogue's ``AF`` array and the XMP metadata (``pdfaid``
  part 3, conformance B, and the Factur-X extension schema), and pikepdf
  adds the sRGB ``OutputIntent`` ReportLab does not write (ISO 19005-3
  §6.2.3). The fonts are embedded already (DejaVu subsets).

The numbers are the model's (:func:`invoicer.invoice.model.compute_totals`):
the page and the XML are made from one :class:`~invoicer.invoice.model.Invoice`.
"""

from __future__ import annotations

import io
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
    the inputs are missing (render it through ``render_formats``)."""
    import pikepdf  # noqa: PLC0415
    from facturx import generate_from_binary  # noqa: PLC0415

    pdf = options.inputs["pdf"]
    xml = (
        options.inputs["cii"]
        if profile_for(options, "CII").name == "factur-x"
        else render_cii(invoice, RenderOptions())
    )
    seller = invoice.seller.company or invoice.seller.name
    kind = "Credit note" if invoice.document_type == "credit_note" else "Invoice"
    metadata = {
        "author": seller,
        "keywords": "Factur-X, EN 16931, " + kind,
        "title": f"{seller}: {kind} {invoice.invoice_number}",
        "subject": f"{kind} {invoice.invoice_number} of {invoice.issue_date.isoformat()} issued by {seller}",
    }
    language = options.locale.replace("_", "-") if options.locale else None
    combined = generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,
        check_schematron=False,
        pdf_metadata=metadata,
        lang=language,
        afrelationship="data",
        xmp_compression=False,
    )
    with pikepdf.open(io.BytesIO(combined)) as document:
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
        document.Root.OutputIntents = pikepdf.Array([intent])
        out = io.BytesIO()
        document.save(out, fix_metadata_version=False)
    return out.getvalue()
