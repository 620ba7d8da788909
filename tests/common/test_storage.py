"""GridFS storage on the stack's MongoDB wire server: idempotent writes and
leftovers of a crashed write."""

from __future__ import annotations

import uuid

import pytest

from invoicer.common.storage import BlobStore, NewBlob


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


def test_a_batch_of_files_reads_back_byte_for_byte(blobs):
    job_id = str(uuid.uuid4())
    # Larger than three GridFS chunks (255 KiB), one byte, and empty.
    big = bytes(range(256)) * 3100 + b"tail"
    contents = {str(uuid.uuid4()): data for data in (big, b"\x00", b"")}
    stored = blobs.put_many(
        [NewBlob(fid, data, f"{n}.bin", _metadata(job_id)) for n, (fid, data) in enumerate(contents.items())]
    )
    assert [blob.length for blob in stored] == [len(data) for data in contents.values()]
    for n, (fid, data) in enumerate(contents.items()):
        blob = blobs.get(fid, owner="owner-1")
        assert blob is not None and blob.data == data
        assert blob.filename == f"{n}.bin" and blob.metadata == _metadata(job_id)


def test_a_batch_written_again_keeps_the_first_files_and_adds_the_missing_one(blobs):
    job_id = str(uuid.uuid4())
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    blobs.put_many([NewBlob(first, b"%PDF-1", "a.pdf", _metadata(job_id))])
    # A redelivered job: its first file is in, the crashed attempt left chunks of the second.
    blobs._db["fs.chunks"].insert_one({"files_id": second, "n": 0, "data": b"PK-trunc"})
    stored = blobs.put_many(
        [
            NewBlob(first, b"%PDF-2", "a.pdf", _metadata(job_id)),
            NewBlob(second, b"PK-complete", "a.xlsx", _metadata(job_id)),
            NewBlob(third, b"<xml/>", "a.xml", _metadata(job_id)),
        ]
    )
    assert [blob.length for blob in stored] == [6, 11, 6]
    assert blobs.get(first).data == b"%PDF-1"
    assert blobs.get(second).data == b"PK-complete"
    assert blobs.get(third).data == b"<xml/>"
    ids = sorted(doc["_id"] for doc in blobs._db["fs.files"].find({"metadata.job_id": job_id}))
    assert ids == sorted([first, second, third])


def test_the_same_id_twice_in_one_batch_is_refused(blobs):
    fid = str(uuid.uuid4())
    with pytest.raises(ValueError, match="twice"):
        blobs.put_many([NewBlob(fid, b"a", "a", {}), NewBlob(fid, b"b", "b", {})])
    assert blobs.get(fid) is None


def test_a_fresh_id_is_stored_and_reads_back_byte_for_byte(blobs):
    fid, job_id = str(uuid.uuid4()), str(uuid.uuid4())
    data = bytes(range(256)) * 1200  # two chunks
    stored = blobs.put(fid, data, filename="in.json", metadata=_metadata(job_id), fresh=True)
    assert stored.length == len(data)
    blob = blobs.get(fid, owner="owner-1")
    assert blob is not None and blob.data == data and blob.metadata == _metadata(job_id)
