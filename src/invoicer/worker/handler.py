"""The invoice worker's handler: one render request in, the job rendered.

It knows nothing of pika: it returns :class:`invoicer.common.amqp.Done`
(with the ``invoice.ready`` event to publish) or raises, and
:class:`invoicer.common.amqp.Consumer` decides what happens next with the
``invoice.render`` queue's policy (retry with backoff up to
``JOB_MAX_RETRIES``, then dead-letter). The message is a
:class:`invoicer.common.messages.RenderRequest`.

Guarantees: a job is done once. Output files have ids derived from the job
id (:func:`invoicer.common.jobs.output_fid`) and are written only if absent,
all of a job's files in one batch (:meth:`BlobStore.put_many`);
the job row moves to ``done`` only if it is not final; a message for a job
that is already done just re-announces it (the notification service drops
the duplicate by job id). Database or storage down raises
:class:`~invoicer.common.amqp.Transient`; a job that can never succeed
raises :class:`~invoicer.common.amqp.Permanent`. Whenever the message is
given up, :meth:`RenderHandler.on_dead_letter` marks the job ``failed`` with
the reason.

The job's formats are rendered by
:func:`invoicer.invoice.render.render_formats`: a format that needs another
format's output (:attr:`invoicer.invoice.formats.OutputFormat.needs`) has
that rendered first and handed over, and only the job's own formats are
stored and listed in its files.

A request with ``notify`` false (the documents of an invoice record) is
rendered and stored the same way but announces nothing: no ``invoice.ready``
event, so no "your invoice is ready" mail. Its ``document_type`` and
``preceding_invoice`` make the renderers title it (e.g. "CREDIT NOTE").
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import date

from ..common import metrics
from ..common.amqp import Done, Permanent, Transient
from ..common.config import Settings
from ..common.db import DatabaseUnavailable
from ..common.jobs import Job, JobStore, output_fid
from ..common.logging import get_logger
from ..common.messages import InvoiceReady, ReadyFile, RenderRequest, job_id_of
from ..common.storage import BlobStore, NewBlob, StorageUnavailable
from ..invoice import formats as output_formats
from ..invoice.errors import InvalidInvoice, MalformedDocument
from ..invoice.loader import load_invoice
from ..invoice.model import Invoice
from ..invoice.parsing import parse_document
from ..invoice.render import output_filename, render_formats

__all__ = ["RenderHandler"]

log = get_logger(__name__)

TRANSIENT = (DatabaseUnavailable, StorageUnavailable)


@dataclass
class RenderHandler:
    """Callable as a :data:`invoicer.common.amqp.Handler`."""

    jobs: JobStore
    blobs: BlobStore
    settings: Settings

    def __call__(self, body: bytes, correlation_id: str | None) -> Done:
        """Render the job of a :class:`RenderRequest` body. Raises
        :class:`~invoicer.common.messages.MalformedMessage`,
        :class:`Permanent` (``unknown_job``, ``input_missing``,
        ``invalid_invoice``) or :class:`Transient` (database or storage down;
        ``render_error`` if the renderer itself fails)."""
        request = RenderRequest.from_bytes(body)
        try:
            return self._process(request)
        except TRANSIENT as exc:
            raise Transient(f"{type(exc).__name__}: {exc}") from exc

    def on_dead_letter(self, body: bytes, code: str, reason: str) -> None:
        """The message is given up: mark its job ``failed`` with ``{"code":
        code, "message": reason}`` (if the body names a job that is not final
        yet). Raises :class:`DatabaseUnavailable`, and the consumer then
        retries the message instead of dead-lettering it."""
        job_id = job_id_of(body)
        if job_id is not None and self.jobs.fail(job_id, code=code, message=reason):
            log.error("job failed", extra={"job_id": job_id, "code": code, "reason": reason})
            metrics.JOBS_FAILED.labels(code).inc()

    def _announce(self, request: RenderRequest, job: Job) -> Done:
        """Done, with the ``invoice.ready`` event unless the request asked for none."""
        return Done((self.ready_event(job),)) if request.notify else Done()

    @staticmethod
    def _as_document(invoice: Invoice, request: RenderRequest) -> Invoice:
        """The invoice as the document the request names (credit note, the
        invoice it corrects); raises :class:`Permanent` for a type the
        renderers do not know."""
        if request.document_type == "invoice" and request.preceding_invoice is None:
            return invoice
        try:
            preceding_date = (
                date.fromisoformat(request.preceding_invoice_date) if request.preceding_invoice_date else None
            )
            return dataclasses.replace(
                invoice,
                document_type=request.document_type,
                preceding_invoice=request.preceding_invoice,
                preceding_invoice_date=preceding_date,
            )
        except ValueError as exc:
            raise Permanent("malformed_message", str(exc)) from None

    def _process(self, request: RenderRequest) -> Done:
        job_id = request.job_id
        started = time.time()
        job = self.jobs.start(job_id, timings={"started": started})
        if job is None:
            raise Permanent("unknown_job", f"no job {job_id}")
        if job.status == "failed":
            return Done()
        if job.status == "done":
            log.info("job already done; announcing it again", extra={"job_id": job_id})
            return self._announce(request, job)

        blob = self.blobs.get(job.input_fid)
        if blob is None or blob.data is None:  # get() reads the data; None only narrows the type
            raise Permanent("input_missing", "the uploaded invoice is no longer in storage")
        fetched = time.time()
        try:
            invoice = load_invoice(
                parse_document(blob.data),
                max_lines=self.settings.max_lines,
                legacy_currency=self.settings.legacy_currency,
            )
        except MalformedDocument as exc:
            raise Permanent("invalid_invoice", f"stored input is not JSON: {exc.message}") from None
        except InvalidInvoice as exc:
            first = exc.errors[0]
            raise Permanent(
                "invalid_invoice", f"{len(exc.errors)} error(s), first at {first.pointer!r}: {first.message}"
            ) from None

        invoice = self._as_document(invoice, request)
        _check_options(request)
        try:
            rendered = render_formats(
                invoice,
                job.formats,
                page_size=self.settings.invoice_page_size,
                locale=request.locale or self.settings.invoice_locale,
                einvoice=request.einvoice,
                on_rendered=metrics.observe_render,
            )
        except Exception as exc:  # a renderer bug on this input: retried, then failed as such
            log.exception("unexpected error while rendering", extra={"job_id": job_id})
            raise Transient(f"{type(exc).__name__}: {exc}", code="render_error") from exc
        render_done = time.time()
        new_files = [
            NewBlob(
                output_fid(job_id, fmt),
                data,
                output_filename(invoice.invoice_number, fmt),
                {
                    "owner": job.owner_id,
                    "job_id": job_id,
                    "kind": fmt,
                    "content_type": output_formats.get(fmt).media_type,
                },
            )
            for fmt, data in rendered.items()
        ]
        # All of the job's files in one batch of writes (BlobStore.put_many).
        stored = self.blobs.put_many(new_files)
        files = [
            {"format": fmt, "fid": blob.fid, "size": kept.length, "filename": blob.filename}
            for fmt, blob, kept in zip(rendered, new_files, stored, strict=True)
        ]
        totals = invoice.totals.as_strings()
        finished = self.jobs.finish(
            job_id,
            files=files,
            totals=totals,
            invoice_number=invoice.invoice_number,
            timings={"fetched": fetched, "rendered": render_done, "stored": time.time()},
        )
        if finished:
            metrics.JOBS_DONE.inc()
            metrics.JOB_UPLOAD_TO_DONE.observe(max(0.0, time.time() - job.created_at.timestamp()))
        done = self.jobs.get(job_id)
        log.info(
            "job done",
            extra={"job_id": job_id, "formats": job.formats, "render_ms": round((render_done - started) * 1000, 1)},
        )
        if done is None or done.status != "done":
            return Done()
        return self._announce(request, done)

    def ready_event(self, job: Job) -> InvoiceReady:
        """The ``invoice.ready`` event for a done job."""
        base = self.settings.public_url.rstrip("/")
        return InvoiceReady(
            job_id=job.id,
            recipient=job.owner_email,
            invoice_number=job.invoice_number,
            totals=job.totals,
            status_url=f"{base}/jobs/{job.id}",
            files=tuple(
                ReadyFile(format=item["format"], fid=item["fid"], download_url=f"{base}/download?fid={item['fid']}")
                for item in job.files
            ),
        )


def _check_options(request: RenderRequest) -> None:
    """A locale Babel does not know or an e-invoice profile that does not
    exist can never render: :class:`Permanent` (``invalid_options``), checked
    before any work, so that only a renderer's own failure is retried."""
    from babel import Locale, UnknownLocaleError  # noqa: PLC0415

    from ..invoice.einvoice.writer import PROFILES  # noqa: PLC0415

    if request.einvoice is not None and request.einvoice not in PROFILES:
        raise Permanent("invalid_options", f"unknown e-invoice profile {request.einvoice!r}")
    if request.locale is not None:
        try:
            Locale.parse(request.locale)
        except (UnknownLocaleError, ValueError, TypeError):
            raise Permanent("invalid_options", f"unknown locale {request.locale!r}") from None
