"""The render handler alone (one function, message in, outcome out, with
the ``invoice.render`` queue's policy applied by ``settle`` as the consumer
does), with in-memory stand-ins for its two stores. The broker, PostgreSQL
and GridFS versions of these paths are covered by the integration tests."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from invoicer.common.amqp import READY, DeadLetter, Done, QueuePolicy, Retry, settle
from invoicer.common.config import Settings
from invoicer.common.db import DatabaseUnavailable
from invoicer.common.jobs import Job, output_fid
from invoicer.common.storage import Blob, StorageUnavailable
from invoicer.worker.handler import RenderHandler


def _raise(error: Exception):
    def fail(*args, **kwargs):
        raise error

    return fail


class MemoryJobs:
    def __init__(self):
        self.rows: dict[str, Job] = {}
        self.down = False

    def _check(self):
        if self.down:
            raise DatabaseUnavailable("down")

    def add(self, job: Job):
        self.rows[job.id] = job

    def get(self, job_id, owner_id=None):
        self._check()
        return self.rows.get(job_id)

    def start(self, job_id, timings=None):
        self._check()
        job = self.rows.get(job_id)
        if job and not job.final:
            job = self.rows[job_id] = replace(job, status="processing", attempts=job.attempts + 1)
        return job

    def finish(self, job_id, *, files, totals, invoice_number, timings=None):
        self._check()
        job = self.rows[job_id]
        if job.final:
            return False
        self.rows[job_id] = replace(job, status="done", files=files, totals=totals)
        return True

    def fail(self, job_id, *, code, message):
        self._check()
        job = self.rows.get(job_id)
        if job is None or job.final:
            return False
        self.rows[job_id] = replace(job, status="failed", error={"code": code, "message": message})
        return True


class MemoryBlobs:
    def __init__(self):
        self.blobs: dict[str, Blob] = {}
        self.puts = 0

    def get(self, fid, owner=None):
        return self.blobs.get(fid)

    def put(self, fid, data, *, filename, metadata):
        if fid not in self.blobs:
            self.puts += 1
            self.blobs[fid] = Blob(fid, filename, len(data), metadata, data)
        return self.blobs[fid]

    def put_many(self, blobs):
        return [self.put(blob.fid, blob.data, filename=blob.filename, metadata=blob.metadata) for blob in blobs]


class Settled:
    """The handler as the consumer runs it: ``(body, retries, correlation_id)
    -> Done | Retry | DeadLetter`` under ``policy``."""

    def __init__(self, handler, policy):
        self.handler, self.policy = handler, policy

    def __call__(self, body, retries, correlation_id):
        return settle(self.handler, self.policy, body, retries, correlation_id)


@pytest.fixture
def world(example_bytes):
    jobs, blobs = MemoryJobs(), MemoryBlobs()
    job_id, owner = str(uuid.uuid4()), str(uuid.uuid4())
    now = datetime.now(UTC)
    blobs.blobs["in-1"] = Blob("in-1", "in.json", len(example_bytes), {"owner": owner}, example_bytes)
    jobs.add(
        Job(
            job_id,
            owner,
            "a@example.com",
            "queued",
            ["pdf", "xlsx"],
            "in-1",
            "INV-2026-0001",
            None,
            [],
            None,
            0,
            now,
            now,
        )
    )
    handler = Settled(RenderHandler(jobs=jobs, blobs=blobs, settings=Settings()), QueuePolicy(max_retries=2))
    message = json.dumps(
        {"version": 1, "job_id": job_id, "owner_id": owner, "input_fid": "in-1", "formats": ["pdf", "xlsx"]}
    ).encode()
    return handler, jobs, blobs, job_id, message


def test_a_job_is_rendered_once_and_announced(world):
    handler, jobs, blobs, job_id, message = world
    outcome = handler(message, 0, job_id)
    assert isinstance(outcome, Done)
    [event] = outcome.follow_ups
    assert event.ROUTING_KEY == READY
    assert event.recipient == "a@example.com"
    assert {item.fid for item in event.files} == {output_fid(job_id, "pdf"), output_fid(job_id, "xlsx")}
    assert jobs.rows[job_id].status == "done"
    assert jobs.rows[job_id].totals["gross"] == "330.86"
    assert blobs.blobs[output_fid(job_id, "pdf")].data.startswith(b"%PDF")
    assert blobs.blobs[output_fid(job_id, "pdf")].filename == "INV-2026-0001.pdf"


def test_a_redelivered_done_job_stores_nothing_new_and_reannounces(world):
    handler, _jobs, blobs, job_id, message = world
    handler(message, 0, job_id)
    stored = blobs.puts
    again = handler(message, 0, job_id)
    assert isinstance(again, Done) and again.follow_ups[0].job_id == job_id
    assert blobs.puts == stored == 2


def test_a_crash_after_storing_files_is_redone_without_duplicates(world):
    handler, jobs, blobs, job_id, message = world
    real_finish = jobs.finish
    jobs.finish = _raise(DatabaseUnavailable("gone"))
    assert isinstance(handler(message, 0, job_id), Retry)
    assert jobs.rows[job_id].status == "processing"
    jobs.finish = real_finish
    assert isinstance(handler(message, 1, job_id), Done)
    assert jobs.rows[job_id].status == "done"
    assert blobs.puts == 2


def test_transient_failures_retry_then_fail_the_job(world):
    handler, jobs, blobs, job_id, message = world
    blobs.get = _raise(StorageUnavailable("mongo down"))
    assert isinstance(handler(message, 0, job_id), Retry)
    assert isinstance(handler(message, 1, job_id), Retry)
    outcome = handler(message, 2, job_id)
    assert isinstance(outcome, DeadLetter)
    assert jobs.rows[job_id].status == "failed"
    assert jobs.rows[job_id].error["code"] == "retries_exhausted"


@pytest.mark.parametrize("body", [b"\xff\xfe", b"not json", b"[]", b'{"version": 2, "job_id": "x"}', b'{"version": 1}'])
def test_poison_is_dead_lettered(world, body):
    handler = world[0]
    assert isinstance(handler(body, 0, None), DeadLetter)


def test_unknown_job_is_dead_lettered(world):
    handler = world[0]
    body = json.dumps({"version": 1, "job_id": str(uuid.uuid4()), "formats": ["pdf"]}).encode()
    assert isinstance(handler(body, 0, None), DeadLetter)


def test_an_unexpected_error_is_retried_up_to_the_limit_then_fails_the_job(world):
    handler, jobs, blobs, job_id, message = world
    blobs.get = _raise(KeyError("a bug nobody expected"))
    assert [type(handler(message, retries, job_id)) for retries in range(2)] == [Retry, Retry]
    assert jobs.rows[job_id].status == "processing"
    outcome = handler(message, 2, job_id)
    assert isinstance(outcome, DeadLetter)
    assert jobs.rows[job_id].status == "failed"
    assert jobs.rows[job_id].error["code"] == "retries_exhausted"
    assert "KeyError" in jobs.rows[job_id].error["message"]
    assert "a bug nobody expected" in jobs.rows[job_id].error["message"]


def test_a_renderer_failure_fails_the_job_as_a_render_error(world, monkeypatch):
    handler, jobs, _blobs, job_id, message = world
    monkeypatch.setattr("invoicer.worker.handler.render_formats", _raise(ValueError("cannot lay out")))
    assert isinstance(handler(message, 0, job_id), Retry)
    assert isinstance(handler(message, 2, job_id), DeadLetter)
    assert jobs.rows[job_id].error == {
        "code": "render_error",
        "message": "gave up after 2 retries: ValueError: cannot lay out",
    }


def test_a_job_that_cannot_be_marked_failed_is_retried_not_dead_lettered(world):
    """Dead-lettering while the database is down would leave the job
    "processing" forever."""
    handler, jobs, blobs, job_id, message = world
    del blobs.blobs["in-1"]  # input gone: permanent
    real_fail = jobs.fail
    jobs.fail = _raise(DatabaseUnavailable("down"))
    assert isinstance(handler(message, 0, job_id), Retry)
    assert jobs.rows[job_id].status == "processing"
    jobs.fail = real_fail
    assert isinstance(handler(message, 1, job_id), DeadLetter)
    assert jobs.rows[job_id].error["code"] == "input_missing"


def test_a_malformed_message_for_a_known_job_fails_that_job(world):
    handler, jobs, _blobs, job_id, _message = world
    body = json.dumps({"version": 2, "job_id": job_id}).encode()
    assert isinstance(handler(body, 0, job_id), DeadLetter)
    assert jobs.rows[job_id].status == "failed"
    assert jobs.rows[job_id].error["code"] == "unsupported_version"


def _request(message: bytes, **fields) -> bytes:
    return json.dumps({**json.loads(message), **fields}).encode()


def test_a_request_without_notify_renders_but_announces_nothing(world):
    handler, jobs, blobs, job_id, message = world
    quiet = _request(message, notify=False)
    outcome = handler(quiet, 0, job_id)
    assert outcome == Done()  # no invoice.ready event, so no "ready" mail
    assert jobs.rows[job_id].status == "done"
    assert blobs.blobs[output_fid(job_id, "pdf")].data.startswith(b"%PDF")
    assert handler(quiet, 0, job_id) == Done()  # a redelivery stays quiet too


def test_a_credit_note_request_renders_a_credit_note(world):
    handler, _jobs, blobs, job_id, message = world
    body = _request(
        message,
        notify=False,
        document_type="credit_note",
        preceding_invoice="INV-2025-0042",
        preceding_invoice_date="2025-12-01",
    )
    assert handler(body, 0, job_id) == Done()
    pdf = blobs.blobs[output_fid(job_id, "pdf")].data
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "CREDIT NOTE" in text and "Corrects invoice" in text and "INV-2025-0042" in text


def test_an_unknown_document_type_is_dead_lettered_and_fails_the_job(world):
    handler, jobs, _blobs, job_id, message = world
    outcome = handler(_request(message, document_type="receipt"), 0, job_id)
    assert isinstance(outcome, DeadLetter) and outcome.code == "malformed_message"
    assert jobs.rows[job_id].status == "failed"


def test_a_format_that_needs_another_gets_it_and_only_the_jobs_formats_are_stored(world):
    from invoicer.invoice import formats
    from invoicer.invoice.formats import Attachment, OutputFormat

    def render_json(invoice, options) -> bytes:
        return json.dumps({"number": invoice.invoice_number}).encode()

    def render_pdfjson(invoice, options) -> bytes:
        attachment = Attachment("invoice.json", options.inputs["json"], "application/json")
        return formats.get("pdf").renderer(invoice, options._replace(attachments=(attachment,)))

    handler, jobs, blobs, job_id, message = world
    jobs.rows[job_id] = replace(jobs.rows[job_id], formats=["pdfjson"])
    formats.register(OutputFormat("json", "application/json", "json", render_json))
    formats.register(OutputFormat("pdfjson", "application/pdf", "pdf", render_pdfjson, needs=("json",)))
    try:
        outcome = handler(message, 0, job_id)
    finally:
        formats.unregister("pdfjson")
        formats.unregister("json")
    assert isinstance(outcome, Done)
    assert [item["format"] for item in jobs.rows[job_id].files] == ["pdfjson"]
    assert set(blobs.blobs) == {"in-1", output_fid(job_id, "pdfjson")}, "the json it needed is not kept"
    stored = blobs.blobs[output_fid(job_id, "pdfjson")]
    assert stored.metadata["content_type"] == "application/pdf"
    assert PdfReader(io.BytesIO(stored.data)).attachments == {"invoice.json": [b'{"number": "INV-2026-0001"}']}


@pytest.mark.parametrize(("field", "value"), [("einvoice", "zugferd-9"), ("locale", "zz_ZZ")])
def test_options_that_can_never_render_fail_the_job_at_once(world, field, value):
    handler, jobs, _blobs, job_id, message = world
    body = json.dumps({**json.loads(message), field: value}).encode()
    assert isinstance(handler(body, 0, job_id), DeadLetter)
    assert jobs.rows[job_id].error["code"] == "invalid_options"
    assert value in jobs.rows[job_id].error["message"]


def test_a_record_renders_in_its_clients_language_and_profile(world):
    handler, _jobs, blobs, job_id, message = world
    body = json.dumps({**json.loads(message), "formats": ["pdf", "cii"], "locale": "de_DE"}).encode()
    assert isinstance(handler(body, 0, job_id), Done)
    pdf = next(blob for blob in blobs.blobs.values() if blob.filename.endswith(".pdf"))
    assert "RECHNUNG" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
