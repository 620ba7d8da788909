"""The invoice worker's handler: one render message in, one outcome out.

It knows nothing of pika: :class:`invoicer.common.amqp.Consumer` carries out
the outcome (publish the notification and ack, retry later, or dead-letter).

Message (routing key ``invoice.render``), JSON::

    {"version": 1, "job_id": "<uuid>", "owner_id": "<uuid>",
     "input_fid": "<gridfs id>", "formats": ["pdf", "xlsx"]}

Guarantees: a job is done once. Output files have ids derived from the job
id (:func:`invoicer.common.jobs.output_fid`) and are written only if absent;
the job row moves to ``done`` only if it is not final; a message for a job
that is already done just re-announces it (the notification service drops
the duplicate by job id). Transient failures (database or storage down) are
retried with backoff up to ``max_retries`` times; then, and for messages that
can never succeed, the job is marked ``failed`` with a reason and the message
is dead-lettered.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from ..common.amqp import READY, DeadLetter, Done, Outcome, Retry
from ..common.config import Settings
from ..common.db import DatabaseUnavailable
from ..common.jobs import FORMATS as MIME_TYPES
from ..common.jobs import Job, JobStore, output_fid
from ..common.logging import get_logger
from ..common.storage import BlobStore, StorageUnavailable
from ..invoice.render import output_filename, render_formats
from ..invoice.errors import InvalidInvoice, MalformedDocument
from ..invoice.loader import load_invoice
from ..invoice.parsing import parse_document

__all__ = ["RenderHandler", "SUPPORTED_VERSIONS"]

log = get_logger(__name__)

SUPPORTED_VERSIONS = {1}
TRANSIENT = (DatabaseUnavailable, StorageUnavailable)


class _Permanent(Exception):
    """This job can never succeed; ``code`` and message go on the job."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class RenderHandler:
    """Callable as a :data:`invoicer.common.amqp.Handler`."""

    jobs: JobStore
    blobs: BlobStore
    settings: Settings

    def __call__(self, body: bytes, retries: int, correlation_id: str | None) -> Outcome:
        try:
            message = _decode(body)
        except _Permanent as exc:
            return DeadLetter(f"{exc.code}: {exc.message}")
        job_id = message["job_id"]
        try:
            return self._process(message)
        except _Permanent as exc:
            return self._give_up(job_id, exc.code, exc.message)
        except TRANSIENT as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if retries >= self.settings.job_max_retries:
                return self._give_up(job_id, "retries_exhausted", f"gave up after {retries} retries: {reason}")
            return Retry(reason)
        except Exception as exc:  # noqa: BLE001 - a renderer bug on this input
            log.exception("unexpected error while rendering", extra={"job_id": job_id})
            if retries >= self.settings.job_max_retries:
                return self._give_up(job_id, "render_error", f"{type(exc).__name__}: {exc}")
            return Retry(f"unexpected {type(exc).__name__}: {exc}")

    def _give_up(self, job_id: str, code: str, message: str) -> Outcome:
        """Mark the job failed and dead-letter the message; while the
        database is down, retry instead (dead-lettering then would leave the
        job "processing" forever)."""
        try:
            self.jobs.fail(job_id, code=code, message=message)
        except DatabaseUnavailable as exc:
            return Retry(f"cannot mark job failed yet: {exc}")
        log.error("job failed", extra={"job_id": job_id, "code": code, "reason": message})
        return DeadLetter(f"{code}: {message}")

    def _process(self, message: dict) -> Outcome:
        job_id = message["job_id"]
        started = time.time()
        job = self.jobs.start(job_id, timings={"started": started})
        if job is None:
            raise _Permanent("unknown_job", f"no job {job_id}")
        if job.status == "failed":
            return Done()
        if job.status == "done":
            log.info("job already done; announcing it again", extra={"job_id": job_id})
            return Done(((READY, self.notification(job)),))

        blob = self.blobs.get(job.input_fid)
        if blob is None:
            raise _Permanent("input_missing", "the uploaded invoice is no longer in storage")
        fetched = time.time()
        try:
            invoice = load_invoice(parse_document(blob.data), max_lines=self.settings.max_lines,
                                   legacy_currency=self.settings.legacy_currency)
        except MalformedDocument as exc:
            raise _Permanent("invalid_invoice", f"stored input is not JSON: {exc.message}") from None
        except InvalidInvoice as exc:
            first = exc.errors[0]
            raise _Permanent("invalid_invoice", f"{len(exc.errors)} error(s), first at {first.pointer!r}: {first.message}") from None

        rendered = render_formats(invoice, job.formats, page_size=self.settings.invoice_page_size,
                                  locale=self.settings.invoice_locale)
        render_done = time.time()
        files = []
        for fmt, data in rendered.items():
            fid = output_fid(job_id, fmt)
            filename = output_filename(invoice.invoice_number, fmt)
            stored = self.blobs.put(
                fid, data, filename=filename,
                metadata={"owner": job.owner_id, "job_id": job_id, "kind": fmt,
                          "content_type": MIME_TYPES[fmt][0]},
            )
            files.append({"format": fmt, "fid": fid, "size": stored.length, "filename": filename})
        totals = invoice.totals.as_strings()
        self.jobs.finish(job_id, files=files, totals=totals, invoice_number=invoice.invoice_number,
                         timings={"fetched": fetched, "rendered": render_done, "stored": time.time()})
        done = self.jobs.get(job_id)
        log.info("job done", extra={"job_id": job_id, "formats": job.formats,
                                     "render_ms": round((render_done - started) * 1000, 1)})
        if done is None or done.status != "done":
            return Done()
        return Done(((READY, self.notification(done)),))

    def notification(self, job: Job) -> dict:
        """The ``invoice.ready`` event for a done job."""
        base = self.settings.public_url.rstrip("/")
        return {
            "version": 1,
            "job_id": job.id,
            "recipient": job.owner_email,
            "invoice_number": job.invoice_number,
            "totals": job.totals,
            "status_url": f"{base}/jobs/{job.id}",
            "files": [
                {"format": item["format"], "fid": item["fid"],
                 "download_url": f"{base}/download?fid={item['fid']}"}
                for item in job.files
            ],
        }


def _decode(body: bytes) -> dict:
    """The message as a dict; raises :class:`_Permanent` for poison."""
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _Permanent("poison_message", "message is not JSON") from None
    if not isinstance(message, dict):
        raise _Permanent("poison_message", "message is not a JSON object")
    if message.get("version") not in SUPPORTED_VERSIONS:
        raise _Permanent("unknown_version", f"unsupported message version {message.get('version')!r}")
    job_id = message.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise _Permanent("poison_message", "message has no job_id")
    return message
