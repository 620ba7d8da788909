"""Blobs in MongoDB GridFS: uploaded invoice JSON, rendered PDF and XLSX.

Blobs are immutable; what changes (job status) lives in PostgreSQL. Every blob
carries ``metadata.owner`` (the uploader's user id), ``metadata.job_id``,
``metadata.kind`` (``input``, ``pdf`` or ``xlsx``) and
``metadata.content_type``; no datetimes in metadata, so the same documents
work on any server that speaks the MongoDB wire protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gridfs
from gridfs.errors import FileExists, NoFile
from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

__all__ = ["Blob", "BlobStore", "StorageUnavailable"]


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

    def ping(self) -> None:
        """Raises :class:`StorageUnavailable` if MongoDB does not answer."""
        try:
            self._client.admin.command("ping")
        except PyMongoError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def put(self, fid: str, data: bytes, *, filename: str, metadata: dict[str, Any]) -> Blob:
        """Store ``data`` under ``fid`` unless a complete file with that id is
        already there (then that one is kept): calling it again for the same
        id, as a redelivered job does, stores nothing twice.

        A file counts as already there only if its files document carries
        exactly ``metadata``. GridFS writes the chunks before the files
        document, so on MongoDB a crashed attempt leaves chunks without one;
        other wire servers show such chunks as a file without metadata. Either
        leftover is removed before writing.
        """
        try:
            existing = self._fs.find_one({"_id": fid})
            if existing is not None:
                if (existing.metadata or {}) == metadata:
                    return Blob(fid, existing.filename, existing.length, existing.metadata or {})
                self._fs.delete(fid)
            self._db["fs.chunks"].delete_many({"files_id": fid})
            try:
                self._fs.put(data, _id=fid, filename=filename, metadata=metadata)
            except (FileExists, OperationFailure):
                # Lost a race with another writer of the same id (MongoDB
                # says FileExists; other wire servers OperationFailure).
                if not self._fs.exists(fid):
                    raise
            return Blob(fid, filename, len(data), metadata)
        except OperationFailure:
            raise
        except PyMongoError as exc:
            raise StorageUnavailable(str(exc)) from exc

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

    def close(self) -> None:
        self._client.close()
