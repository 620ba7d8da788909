"""GridFS storage on the stack's MongoDB wire server: idempotent writes and
leftovers of a crashed write."""

from __future__ import annotations

import uuid

import pytest

from invoicer.common.storage import BlobStore


@pytest.fixture
def blobs(stack):
    store = BlobStore(stack.env["MONGODB_URI"], "invoicer")
    yield store
    store.close()


def _metadata(job_id: str) -> dict:
    return {"owner": "owner-1", "job_id": job_id, "kind": "pdf", "content_type": "application/pdf"}


def test_writing_the_same_id_twice_keeps_one_file(blobs):
    fid, job_id = str(uuid.uuid4()), str(uuid.uuid4())
    blobs.put(fid, b"%PDF-first", filename="a.pdf", metadata=_metadata(job_id))
    blobs.put(fid, b"%PDF-second", filename="a.pdf", metadata=_metadata(job_id))
    assert blobs.get(fid).data == b"%PDF-first"
    files = list(blobs._db["fs.files"].find({"metadata.job_id": job_id}))
    assert [doc["_id"] for doc in files] == [fid]


def test_chunks_left_by_a_crashed_write_are_replaced(blobs):
    fid, job_id = str(uuid.uuid4()), str(uuid.uuid4())
    # What a process killed inside GridFS.put leaves: chunks, no files document.
    blobs._db["fs.chunks"].insert_one({"files_id": fid, "n": 0, "data": b"%PDF-trunc"})
    blobs.put(fid, b"%PDF-complete", filename="a.pdf", metadata=_metadata(job_id))
    blob = blobs.get(fid, owner="owner-1")
    assert blob is not None and blob.data == b"%PDF-complete"
    assert blob.metadata == _metadata(job_id)
    assert [doc["_id"] for doc in blobs._db["fs.files"].find({"metadata.job_id": job_id})] == [fid]


def test_another_owner_sees_nothing(blobs):
    fid = str(uuid.uuid4())
    blobs.put(fid, b"data", filename="a.pdf", metadata=_metadata("j"))
    assert blobs.get(fid, owner="someone-else") is None
    assert blobs.get(fid, owner="owner-1") is not None
