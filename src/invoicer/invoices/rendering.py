"""The documents of invoice records: the kept formats (PDF and XLSX today,
:func:`invoicer.invoice.formats.kept_names`) of issued invoices and credit
notes, rendered by the worker; previews of drafts, rendered here.

Issued documents go through the existing pipeline. :func:`request_documents`
runs inside the transaction that issues an invoice, issues a credit note or
imports one, and

1. stores the canonical document (the ``/upload`` format: number, dates,
   seller, buyer, lines, terms) in GridFS under an id derived from the
   invoice id (:func:`input_fid`): a rolled-back attempt leaves only that
   blob, which the next attempt finds and reuses or, if the content differs
   (the draft was edited since), replaces
   (:meth:`invoicer.common.storage.BlobStore.put` works on MongoDB and on
   wire servers that refuse a duplicate id);
2. inserts the render job (``jobs``, id derived from the invoice id,
   :func:`render_job_id`; owner the acting user; formats the registry's
   kept ones) and
   links it (``invoices.render_job_id``);
3. writes an outbox command that the relay publishes as a
   :class:`~invoicer.common.messages.RenderRequest` with ``notify`` false
   (no "invoice ready" mail to the user) and the document type.

So the request is published if and only if the issue committed, and the
worker renders each record once. :func:`document` returns the kept file;
:func:`preview` renders a draft on the spot, marked DRAFT and without a
number. :func:`mail_command` is the ``invoice.mail`` command of a send.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import date
from typing import Any, cast

from invoicer.common.db import Cursor, Database
from invoicer.common.jobs import insert_job, output_fid
from invoicer.common.messages import InvoiceMail, MailAttachment, RenderRequest
from invoicer.common.storage import BlobStore
from invoicer.invoice import formats as registry
from invoicer.invoice.formats import RenderOptions
from invoicer.invoice.model import CREDIT_NOTE, INVOICE, Invoice
from invoicer.invoice.render import output_filename, render_formats

from . import events
from ._sql import fetch_invoice
from .clients import get_client
from .documents import PARTY_FIELDS, due_after, lines_from_json, load_document, party_from_json, structured_party
from .errors import BadRequest, Conflict, NotFound, RenderFailed
from .identity import Member
from .organisations import get_logo, get_organisation, seller_party

__all__ = [
    "document",
    "input_fid",
    "mail_command",
    "preview",
    "render_job_id",
    "request_documents",
]


_NAMESPACE = uuid.UUID("0b6f4f5e-6a57-4d43-9b0e-5f2a7c1d9e31")
_PARTY_FIELDS = PARTY_FIELDS  # the canonical party (the seller's stored ``bank_details`` text is not in it)

#: What a draft cannot be previewed as: the e-invoices, which need a number (BT-1).
NUMBERED_FORMATS = ("cii", "ubl", "facturx")

#: The formats an issued record keeps, by its e-invoice profile (None: no e-invoice). For
#: Factur-X the PDF is the Factur-X PDF/A-3 (served as ``pdf`` too); XRechnung and Peppol
#: buyers get their XML beside the plain PDF.
RECORD_FORMATS: dict[str | None, tuple[str, ...]] = {
    None: ("pdf", "xlsx"),
    "factur-x": ("facturx", "xlsx", "cii"),
    "xrechnung-cii": ("pdf", "xlsx", "cii"),
    "xrechnung-ubl": ("pdf", "xlsx", "ubl"),
    "peppol-ubl": ("pdf", "xlsx", "ubl"),
}


def render_job_id(invoice_id: Any) -> str:
    """The id of the render job of an invoice record: a name-based UUID (RFC
    9562 version 5) of the invoice id, the same in every attempt."""
    return str(uuid.uuid5(_NAMESPACE, f"invoice/{invoice_id}/render"))


def input_fid(invoice_id: Any) -> str:
    """The GridFS id of an invoice record's canonical document (RFC 9562 v5
    of the invoice id), the same in every attempt to issue it."""
    return str(uuid.uuid5(_NAMESPACE, f"invoice/{invoice_id}/document"))


def _preceding(cur: Cursor, row: dict[str, Any]) -> dict[str, Any] | None:
    """The invoice a credit note corrects: ``{"number", "issue_date"}``."""
    if row["corrects_invoice_id"] is None:
        return None
    cur.execute("SELECT number, issue_date FROM invoices WHERE id = %s", (row["corrects_invoice_id"],))
    return cast("dict[str, Any] | None", cur.fetchone())  # a RealDictCursor row


def _party_fields(party: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of a stored party that the canonical format has (the
    seller's stored ``bank_details`` is not one of them), the address in the
    structured form (:func:`~.documents.structured_party`) even where the
    record keeps the free text it was issued with."""
    return {key: value for key, value in (structured_party(party) or {}).items() if key in _PARTY_FIELDS and value}


#: The longest notes (BT-22) of the canonical format (invoice/schema.py, InvoiceDocument.notes).
_MAX_NOTES = 4000


def canonical_document(row: dict[str, Any], logo: bytes | None = None) -> dict[str, Any]:
    """An issued invoice or credit note row as a document in the canonical
    ``/upload`` format (``invoice.schema.json``): ``invoice_number``,
    ``issue_date``, ``due_date``, ``currency``, ``seller``, ``buyer``,
    ``ship_to``, ``lines``, ``payment_terms``, ``notes``,
    ``buyer_reference``, ``order_reference``, ``delivery_date``, ``logo``
    (base64 of the seller's logo when ``logo`` is given: the organisation's
    at issue, which the document then keeps) (absent ones left out). Amounts
    stay decimal strings. A credit note's ``reason`` leads its notes (BT-22,
    "Reason: ..."), so that the document says why it credits; the notes then
    keep at most the 4000 characters the format takes."""
    document: dict[str, Any] = {
        "invoice_number": row["number"],
        "issue_date": row["issue_date"].isoformat(),
        "currency": row["currency"],
        "seller": _party_fields(row["seller"]),
        "buyer": _party_fields(row["buyer"]),
        "lines": row["lines"],
    }
    if row["due_date"] is not None:
        document["due_date"] = row["due_date"].isoformat()
    if row["ship_to"]:
        document["ship_to"] = _party_fields(row["ship_to"])
    for key in ("payment_terms", "notes", "buyer_reference", "order_reference", "payment_reference"):
        if row.get(key):
            document[key] = row[key]
    if row.get("kind") == "credit_note" and row.get("reason"):
        notes = f"Reason: {row['reason']}" + (f"\n{document['notes']}" if document.get("notes") else "")
        document["notes"] = notes if len(notes) <= _MAX_NOTES else notes[: _MAX_NOTES - 1] + "…"
    if row.get("delivery_date") is not None:
        document["delivery_date"] = row["delivery_date"].isoformat()
    for key in ("allowances", "charges", "invoicing_period"):
        if row.get(key):
            document[key] = row[key]
    if logo:
        document["logo"] = base64.b64encode(logo).decode("ascii")
    return document


def request_documents(cur: Cursor, blobs: BlobStore, member: Member, invoice_id: Any) -> None:
    """Have the worker render and keep the kept formats
    (:func:`invoicer.invoice.formats.kept_names`) of an issued invoice
    or credit note, in the transaction of ``cur`` (see the module docstring:
    canonical document in GridFS, job row, ``render_job_id`` link, outbox
    command). Does nothing if the record's documents were requested already,
    so calling it twice in one transaction, or again later, is harmless.

    Raises :class:`NotFound` for an unknown or foreign id, :class:`Conflict`
    (``not_issued``) for a draft, :class:`Unprocessable` if the record would
    not be a valid canonical document, and
    :class:`~invoicer.common.storage.StorageUnavailable` when GridFS does not
    answer (the caller's transaction then rolls back: nothing is issued).
    """
    row = fetch_invoice(cur, member, invoice_id, lock=True)
    if row["status"] == "draft":
        raise Conflict("a draft has no documents to keep; issue it first", code="not_issued")
    if row["render_job_id"] is not None:
        return
    logo = get_logo(cur, member)
    document = canonical_document(row, logo[0] if logo else None)
    load_document(document)  # what the worker will load: refuse it now rather than fail there
    data = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    job_id, fid = render_job_id(row["id"]), input_fid(row["id"])
    owner = str(member.actor.user_id)
    blobs.put(
        fid,
        data,
        filename=output_filename(row["number"], "pdf").removesuffix(".pdf") + ".json",
        metadata={
            "owner": owner,
            "job_id": job_id,
            "kind": "input",
            "content_type": "application/json",
            "invoice_id": str(row["id"]),
            # A different content under the same id (a rolled-back attempt
            # of an edited draft) is replaced, not reused.
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    totals = {key: row["totals"][key] for key in ("currency", "net", "tax", "gross")}
    kept = list(RECORD_FORMATS[row.get("e_invoice")])
    insert_job(
        cur,
        job_id=job_id,
        owner_id=owner,
        owner_email=member.actor.email,
        formats=kept,
        input_fid=fid,
        invoice_number=row["number"],
        totals=totals,
        kind="record",
    )
    cur.execute("UPDATE invoices SET render_job_id = %s WHERE id = %s", (uuid.UUID(job_id), row["id"]))
    preceding = _preceding(cur, row)
    request = RenderRequest(
        job_id=job_id,
        owner_id=owner,
        input_fid=fid,
        formats=tuple(kept),
        notify=False,
        document_type=CREDIT_NOTE if row["kind"] == "credit_note" else INVOICE,
        preceding_invoice=preceding["number"] if preceding else None,
        preceding_invoice_date=preceding["issue_date"].isoformat() if preceding and preceding["issue_date"] else None,
        locale=_document_locale(cur, member, row),
        einvoice=row.get("e_invoice"),
    )
    events.command(cur, member, row["kind"], row["id"], request.ROUTING_KEY, json.loads(request.to_bytes()))


def _document_locale(cur: Cursor, member: Member, row: dict[str, Any]) -> str | None:
    """The language of a record's documents: its client's locale, else the organisation's."""
    if row.get("client_id") is not None:
        try:
            locale = get_client(cur, member, row["client_id"]).get("locale")
        except NotFound:
            locale = None
        if locale:
            return str(locale)
    organisation_locale = get_organisation(cur, member).get("locale")
    return str(organisation_locale) if organisation_locale else None


def _format(fmt: str) -> registry.OutputFormat:
    """The kept format ``fmt``; raises :class:`NotFound` (``unknown_format``)
    for a name the registry does not have or does not keep."""
    if fmt not in registry.kept_names():
        raise NotFound(f"no document format {fmt!r}", code="unknown_format")
    return registry.get(fmt)


def document(
    db: Database, blobs: BlobStore, member: Member, invoice_id: Any, fmt: str
) -> tuple[bytes, str, str] | None:
    """The kept file of an issued invoice or credit note in format ``fmt``
    (a kept format: ``pdf``, ``xlsx``): ``(data, filename, media_type)``, e.g.
    ``(b"%PDF…", "INV-2026-0001.pdf", "application/pdf")``; ``None`` while
    the worker is still rendering it (ask again shortly). A record issued
    before documents were kept has them requested now (and is ``None``).

    Raises :class:`NotFound` for an unknown or foreign invoice or an unknown
    format, or (``document_removed``) when ``invoicer cleanup`` removed the
    documents after the legal retention period; :class:`Conflict`
    (``not_issued``) for a draft (its preview is :func:`preview`), :class:`RenderFailed` if rendering failed for good or
    the kept file is gone, and ``DatabaseUnavailable`` /
    ``StorageUnavailable`` when those are down."""
    output = _format(fmt)
    with db.transaction() as cur:
        row = fetch_invoice(cur, member, invoice_id)
        if row["status"] == "draft":
            raise Conflict("a draft has no kept documents; ask for its preview", code="not_issued")
        if row["render_job_id"] is None:
            request_documents(cur, blobs, member, row["id"])
            return None
        cur.execute("SELECT status, files, error, formats FROM jobs WHERE id = %s", (row["render_job_id"],))
        job = cast("dict[str, Any] | None", cur.fetchone())  # a RealDictCursor row
    if job is None:
        # invoicer cleanup removed the render job once the legal period was over.
        raise NotFound(
            f"the documents of {row['number']} were removed after the legal retention period", code="document_removed"
        )
    if not ({output.name, "facturx" if output.name == "pdf" else output.name} & set(job["formats"])):
        # Not one of this record's documents (the e-invoice XML of a client that takes none).
        raise NotFound(f"{row['number']} is not kept as {output.name}", code="unknown_format")
    if job["status"] in ("queued", "processing"):
        return None
    if job["status"] == "failed":
        error = job["error"] or {}
        raise RenderFailed(
            f"the documents of {row['number']} could not be rendered: {error.get('message', 'unknown error')}",
            code="render_failed",
        )
    kept = {item["format"]: item for item in job["files"]}
    name = output.name
    if name == "pdf" and "pdf" not in kept and "facturx" in kept:
        name = "facturx"  # a Factur-X record's PDF is its Factur-X PDF/A-3
    if name not in kept:
        raise NotFound(f"{row['number']} is not kept as {output.name}", code="unknown_format")
    blob = blobs.get(kept[name]["fid"])
    if blob is None or blob.data is None:
        raise RenderFailed(f"the {output.name} of {row['number']} is missing from storage", code="document_missing")
    filename = output_filename(row["number"], "pdf") if name != output.name else kept[name]["filename"]
    return blob.data, filename, output.media_type


def preview(
    cur: Cursor, member: Member, invoice_id: Any, fmt: str, options: RenderOptions, *, today: date | None = None
) -> tuple[bytes, str, str]:
    """A draft rendered now in format ``fmt`` with ``options`` (page size,
    locale): ``(data, "draft-<id>.<suffix>", media_type)``. It is marked
    DRAFT on every page and has no number; seller and buyer are the
    organisation's and the client's details as they are now; the issue date
    is the draft's or ``today``, the due date the draft's or the issue date
    plus the client's (else the organisation's) payment terms.

    Raises :class:`NotFound` (unknown invoice or format), :class:`Conflict`
    (``not_draft``) for an issued record, whose preview is its kept document
    (:func:`document`), and :class:`BadRequest` (``invalid_option``) for an
    unknown page size or locale."""
    output = _format(fmt)
    row = fetch_invoice(cur, member, invoice_id)
    if row["status"] == "draft" and output.name in NUMBERED_FORMATS:
        raise Conflict(
            f"a draft has no {output.name}: an e-invoice is made when the invoice is issued (and numbered)",
            code="not_issued",
        )
    if row["status"] != "draft":
        raise Conflict(
            f"{row['number']} is issued: its document is kept; ask for the document, not a preview",
            code="not_draft",
        )
    organisation = get_organisation(cur, member)
    logo = get_logo(cur, member)  # stored as we re-encoded it
    client = get_client(cur, member, row["client_id"])
    issued = row["issue_date"] or today or date.today()
    terms = client["payment_terms_days"]
    if terms is None:
        terms = organisation["payment_terms_days"]
    invoice = Invoice(
        invoice_number="",
        issue_date=issued,
        due_date=row["due_date"] or due_after(issued, terms),
        currency=row["currency"],
        seller=party_from_json(seller_party(organisation)),
        buyer=party_from_json(client),
        ship_to=party_from_json(row["ship_to"]) if row["ship_to"] else None,
        lines=tuple(lines_from_json(row["lines"])),
        payment_terms=row["payment_terms"],
        notes=row["notes"],
        draft=True,
        logo=logo[0] if logo else None,
    )
    try:
        # render_formats renders what the format needs first (Factur-X: its XML).
        data = render_formats(invoice, [output.name], page_size=options.page_size, locale=options.locale)[output.name]
    except ValueError as exc:
        raise BadRequest(str(exc), code="invalid_option") from None
    return data, f"draft-{row['id']}.{output.suffix}", output.media_type


def mail_command(cur: Cursor, member: Member, row: dict[str, Any], recipient: str) -> uuid.UUID:
    """Write the outbox command that the relay publishes as an
    :class:`~invoicer.common.messages.InvoiceMail`: mail issued invoice
    ``row`` (after the send's update, so ``balance_due`` is current) to
    ``recipient`` with its kept PDF (a Factur-X client's Factur-X PDF/A-3),
    whose GridFS id is derived from the render job's id, and the XML of an
    XRechnung or Peppol client beside it. Returns the command's id (the
    mail's idempotency key)."""
    command_id = uuid.uuid4()
    seller = row["seller"] or {}
    balance = row["balance_due"]
    cur.execute("SELECT formats FROM jobs WHERE id = %s", (row["render_job_id"],))
    job = cast("dict[str, Any] | None", cur.fetchone())
    kept = set(job["formats"]) if job else {"pdf"}
    mail = InvoiceMail(
        id=str(command_id),
        invoice_id=str(row["id"]),
        recipient=recipient,
        seller=seller.get("name") or seller.get("company") or "",
        number=row["number"],
        currency=row["currency"],
        amount_due=str(balance),
        due_date=row["due_date"].isoformat() if row["due_date"] else None,
        pdf_fid=output_fid(str(row["render_job_id"]), "facturx" if "facturx" in kept else "pdf"),
        filename=output_filename(row["number"], "pdf"),
        reply_to=seller.get("email") or None,
        locale=_document_locale(cur, member, row),
        attachments=tuple(
            MailAttachment(
                fid=output_fid(str(row["render_job_id"]), fmt),
                filename=output_filename(row["number"], fmt),
                media_type=registry.get(fmt).media_type,
            )
            # XRechnung and Peppol buyers get their XML beside the PDF (Factur-X carries it inside).
            for fmt in ("cii", "ubl")
            if fmt in kept and "facturx" not in kept
        ),
    )
    return events.command(
        cur, member, "invoice", row["id"], mail.ROUTING_KEY, json.loads(mail.to_bytes()), command_id=command_id
    )
