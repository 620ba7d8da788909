"""Blobs in MongoDB GridFS: uploaded invoice JSON, rendered PDF and XLSX.

Blobs are immutable; what changes (job status) lives in PostgreSQL. Every blob
carries ``metadata.owner`` (the uploader's user id), ``metadata.job_id``,
``metadata.kind`` (``input``, ``pdf`` or ``xlsx``) and
``metadata.content_type``; no datetimes in metadata, so the same documents
work on any server that speaks the MongoDB wire protocol.

Writes go in batches (:meth:`BlobStore.put_many`): the files and chunks
documents of the GridFS specification written with one ``insert`` command per
collection for all the files of a call, instead of pymongo's ``GridFS.put``
per file (which looks up both collections' indexes for every file and
inserts its chunks and its files document separately). A worker storing a
job's PDF and XLSX makes four round trips instead of twelve.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gridfs
from bson.int64 import Int64
from gridfs.errors import NoFile
from pymongo import ASCENDING, DeleteMany, DeleteOne, MongoClient
from pymongo.errors import OperationFailure, PyMongoError

__all__ = ["Blob", "BlobStore", "NewBlob", "StorageUnavailable"]

#: GridFS's default chunk size (255 KiB, as pymongo's ``gridfs.DEFAULT_CHUNK_SIZE``).
CHUNK_SIZE = 255 * 1024
# The indexes the GridFS specification asks drivers to make before the first
# write ("Indexes" in the GridFS spec), as pymongo's GridIn makes them.
_FILES_INDEX = [("filename", ASCENDING), ("uploadDate", ASCENDING)]
_CHUNKS_INDEX = [("files_id", ASCENDING), ("n", ASCENDING)]


class StorageUnavailable(RuntimeError):
    """MongoDB did not answer."""


@dataclass(frozen=True)
class Blob:
    """A stored file: ``fid`` (its GridFS ``_id``), ``filename``, ``length``
    in bytes, ``metadata`` (dict) and ``data`` (bytes, only when read)."""

    fid: str
    filename: str
    length: int
    metadata: Mapping[str, Any]
    data: bytes | None = None

    @property
    def content_type(self) -> str:
        content_type: str = self.metadata.get("content_type", "application/octet-stream")
        return content_type


@dataclass(frozen=True)
class NewBlob:
    """A file to store: ``fid`` (its GridFS ``_id``), ``data`` (bytes),
    ``filename`` and ``metadata`` (a dict without datetimes)."""

    fid: str
    data: bytes
    filename: str
    metadata: dict[str, Any] = field(default_factory=dict)


class BlobStore:
    """GridFS in the database named by ``mongodb_uri``'s path.

    All methods raise :class:`StorageUnavailable` when the server cannot be
    reached within ``timeout_ms``.
    """

    def __init__(self, mongodb_uri: str, database: str, timeout_ms: int = 5000) -> None:
        self._client: MongoClient[dict[str, Any]] = MongoClient(
            mongodb_uri,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(timeout_ms * 6, 30_000),
        )
        self._db = self._client[database]
        self._fs = gridfs.GridFS(self._db)
        self._indexed = False
        self._index_lock = threading.Lock()

    def ping(self) -> None:
        """Raises :class:`StorageUnavailable` if MongoDB does not answer."""
        try:
            self._client.admin.command("ping")
        except PyMongoError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def put(self, fid: str, data: bytes, *, filename: str, metadata: dict[str, Any], fresh: bool = False) -> Blob:
        """Store one file; :meth:`put_many` of one :class:`NewBlob`."""
        return self.put_many([NewBlob(fid, data, filename, metadata)], fresh=fresh)[0]

    def put_many(self, blobs: Sequence[NewBlob], *, fresh: bool = False) -> list[Blob]:
        """Store each of ``blobs`` under its ``fid`` unless a complete file
        with that id is already there (then that one is kept): calling it
        again for the same ids, as a redelivered job does, stores nothing
        twice. Returns the stored (or kept) files in the order given.

        A file counts as already there only if its files document carries
        exactly the ``metadata`` given. The chunks are written before the
        files documents, so a file becomes visible only once all its data is
        in; a crashed attempt leaves chunks without a files document on
        MongoDB, and a files document without metadata on other wire servers.
        Either leftover is removed before writing.

        Round trips: one ``find`` on ``fs.files`` for all ids, one ``delete``
        of leftover chunks, one ``insert`` of every chunk and one of every
        files document (GridFS specification layout: ``files_id``, ``n``,
        ``data`` chunks of :data:`CHUNK_SIZE` bytes; ``length``,
        ``chunkSize``, ``uploadDate``, ``filename``, ``metadata``); plus a
        ``delete`` on ``fs.files`` when an id holds a file with other
        metadata, and the index checks once per store.

        ``fresh``: the caller has just made every id at random (a UUID 4) and
        never used it, so nothing can be stored under it: the ``find`` and the
        ``delete`` are skipped (two round trips). Never pass it for an id that
        a retry or a redelivery can repeat.

        Raises :class:`StorageUnavailable` when the server cannot be reached,
        ``OperationFailure`` when it refuses a write (e.g. another writer
        stored one of the ids with other contents at the same moment), and
        ``ValueError`` for the same id given twice.
        """
        fids = [blob.fid for blob in blobs]
        if len(set(fids)) != len(fids):
            raise ValueError("put_many: the same fid given twice")
        if not blobs:
            return []
        files, chunks = self._db["fs.files"], self._db["fs.chunks"]
        try:
            self._ensure_indexes()
            found = {} if fresh else {doc["_id"]: doc for doc in files.find({"_id": {"$in": fids}})}
            kept: dict[str, Blob] = {}
            stale: list[str] = []
            for blob in blobs:
                doc = found.get(blob.fid)
                if doc is None:
                    continue
                if (doc.get("metadata") or {}) == blob.metadata:
                    kept[blob.fid] = Blob(blob.fid, doc.get("filename", ""), int(doc.get("length", 0)), blob.metadata)
                else:
                    stale.append(blob.fid)
            new = [blob for blob in blobs if blob.fid not in kept]
            if new:
                if stale:
                    files.bulk_write([DeleteOne({"_id": fid}) for fid in stale], ordered=False)
                # One delete statement per id: some wire servers take only an
                # equality on files_id, not $in.
                if not fresh:
                    chunks.bulk_write([DeleteMany({"files_id": blob.fid}) for blob in new], ordered=False)
                pieces = [
                    {"files_id": blob.fid, "n": n, "data": blob.data[start : start + CHUNK_SIZE]}
                    for blob in new
                    for n, start in enumerate(range(0, len(blob.data), CHUNK_SIZE))
                ]
                now = datetime.datetime.now(tz=datetime.UTC)
                try:
                    if pieces:  # a file of 0 bytes has no chunks (GridFS spec)
                        chunks.insert_many(pieces)
                    files.insert_many(
                        [
                            {
                                "_id": blob.fid,
                                "length": Int64(len(blob.data)),
                                "chunkSize": CHUNK_SIZE,
                                "uploadDate": now,
                                "filename": blob.filename,
                                "metadata": blob.metadata,
                            }
                            for blob in new
                        ],
                        ordered=False,
                    )
                except OperationFailure:
                    # Lost a race with another writer of the same ids (a
                    # duplicate key on MongoDB): fine if they are all there now.
                    there = {
                        doc["_id"]
                        for doc in files.find({"_id": {"$in": [blob.fid for blob in new]}})
                        if doc.get("metadata") == {blob.fid: blob.metadata for blob in new}[doc["_id"]]
                    }
                    if len(there) != len(new):
                        raise
            return [
                kept.get(blob.fid) or Blob(blob.fid, blob.filename, len(blob.data), blob.metadata) for blob in blobs
            ]
        except OperationFailure:
            raise
        except PyMongoError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def _ensure_indexes(self) -> None:
        """The GridFS indexes (``fs.files`` on filename and uploadDate,
        ``fs.chunks`` unique on files_id and n), checked once per store the
        way pymongo's ``GridIn`` checks them before each file: only an empty
        collection is looked at, and an index made only if it is missing."""
        if self._indexed:
            return
        with self._index_lock:
            if self._indexed:
                return
            for collection, keys, unique in (
                (self._db["fs.files"], _FILES_INDEX, False),
                (self._db["fs.chunks"], _CHUNKS_INDEX, True),
            ):
                if collection.find_one(projection={"_id": 1}) is not None:
                    continue
                try:
                    present = [list(spec["key"].items()) for spec in collection.list_indexes()]
                except OperationFailure:
                    present = []
                if keys not in present:
                    collection.create_index(keys, unique=unique)
            self._indexed = True

    def get(self, fid: str, *, owner: str | None = None) -> Blob | None:
        """The blob ``fid`` with its data, or ``None`` if there is none — or if
        ``owner`` is given and the blob belongs to someone else (callers
        answer both with 404, so an id's existence does not leak)."""
        query: dict[str, Any] = {"_id": fid}
        if owner is not None:
            query["metadata.owner"] = owner
        try:
            grid_out = self._fs.find_one(query)
            if grid_out is None:
                return None
            return Blob(fid, grid_out.filename, grid_out.length, grid_out.metadata or {}, grid_out.read())
        except NoFile:
            return None
        except PyMongoError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def delete(self, fid: str) -> None:
        """Remove ``fid`` if present."""
        try:
            self._fs.delete(fid)
        except PyMongoError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def existing(self, fids: Sequence[str]) -> set[str]:
        """Which of ``fids`` have a files document (one ``find``)."""
        if not fids:
            return set()
        try:
            return {str(doc["_id"]) for doc in self._db["fs.files"].find({"_id": {"$in": list(fids)}}, {"_id": 1})}
        except PyMongoError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def delete_many(self, fids: Sequence[str]) -> int:
        """Remove the files ``fids`` that exist, their files documents and
        chunks (three round trips whatever their number); returns how many
        files there were. Ids that name nothing are skipped."""
        try:
            there = sorted(self.existing(fids))
            if there:
                self._db["fs.files"].bulk_write([DeleteOne({"_id": fid}) for fid in there], ordered=False)
                self._db["fs.chunks"].bulk_write([DeleteMany({"files_id": fid}) for fid in there], ordered=False)
            return len(there)
        except PyMongoError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def scan(self) -> Iterator[tuple[str, Any, str | None]]:
        """Every file as ``(fid, uploadDate, metadata.job_id or None)``, in
        no particular order; ``uploadDate`` as the server gives it (a
        datetime on MongoDB, possibly an ISO 8601 string elsewhere)."""
        try:
            for doc in self._db["fs.files"].find({}, {"_id": 1, "uploadDate": 1, "metadata": 1}):
                metadata = doc.get("metadata") or {}
                job_id = metadata.get("job_id") if isinstance(metadata, dict) else None
                yield str(doc["_id"]), doc.get("uploadDate"), str(job_id) if job_id else None
        except PyMongoError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def close(self) -> None:
        self._client.close()
