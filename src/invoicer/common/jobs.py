"""Jobs in PostgreSQL (table ``jobs``, migrations 0002, 0004 and 0006), shared by
the gateway (creates and reads them), the worker (moves them along) and the
notification service (records how the job's mail went).

Status moves ``queued -> processing -> done | failed``. ``done`` and
``failed`` are final: the worker's updates are conditional on the job not
being final, which is what makes a redelivered message harmless.

The update that makes a job final also writes the domain event ``job.done``
or ``job.failed`` to the outbox (:mod:`invoicer.common.outbox`) in its
transaction, for the organisation its owner belongs to (a user of no
organisation has no webhooks, and gets no event): ``data`` is ``{"job_id",
"status", "invoice_number", "totals", "files": [{"format", "size",
"filename"}], "error"}``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .db import Database, one_row

if TYPE_CHECKING:
    from .db import Cursor

__all__ = ["COUNT_CAP", "KINDS", "STATUSES", "Job", "JobStore", "insert_job", "output_fid"]

#: Every status a job can have, in the order a job moves through them
#: (the ``jobs_status_known`` constraint of migration 0002).
STATUSES = ("queued", "processing", "done", "failed")

#: What made a job (the ``jobs_kind_known`` constraint of migration 0011): ``upload`` a
#: document a user sent to ``POST /upload``, ``record`` the kept documents of an issued
#: invoice or credit note, which the invoices service has rendered.
KINDS = ("upload", "record")

#: Job lists count exactly up to this many rows, then say "more than".
COUNT_CAP = 10_000

_NAMESPACE = uuid.UUID("6f6e0c1e-3d43-4b8e-9a55-2b1f3c9a7d10")


def output_fid(job_id: str, fmt: str) -> str:
    """The GridFS id of ``job_id``'s file in ``fmt``: a name-based UUID
    (RFC 9562 version 5), so every attempt at a job writes the same id and a
    redelivered job can never store a second copy."""
    return str(uuid.uuid5(_NAMESPACE, f"{job_id}/{fmt}"))


@dataclass(frozen=True)
class Job:
    """One row of ``jobs``. ``files`` is a list of ``{"format", "fid",
    "size", "filename"}``; ``totals`` ``{"currency", "net", "tax", "gross"}``
    as decimal strings; ``error`` ``{"code", "message"}`` or ``None``;
    ``notification`` ``None`` while the mail is pending, ``{"status": "sent"}``
    or ``{"status": "failed", "error": {"code", "message"}}``; ``warnings``
    a list of ``{"pointer", "code", "message"}``: what the checks of an
    uploaded document found that does not stop it rendering (empty when
    none); ``kind`` one of :data:`KINDS`."""

    id: str
    owner_id: str
    owner_email: str
    status: str
    formats: list[str]
    input_fid: str
    invoice_number: str | None
    totals: dict[str, Any] | None
    files: list[dict[str, Any]]
    error: dict[str, Any] | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    timings: dict[str, float] = field(default_factory=dict)
    notification: dict[str, Any] | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)
    kind: str = "upload"

    @property
    def final(self) -> bool:
        return self.status in ("done", "failed")


_COLUMNS = (
    "id, owner_id, owner_email, status, formats, input_fid, invoice_number, totals, files,"
    " error, attempts, created_at, updated_at, timings, notification, warnings, kind"
)


def _job(row: dict[str, Any]) -> Job:
    return Job(
        id=str(row["id"]),
        owner_id=str(row["owner_id"]),
        owner_email=row["owner_email"],
        status=row["status"],
        formats=list(row["formats"]),
        input_fid=row["input_fid"],
        invoice_number=row["invoice_number"],
        totals=row["totals"],
        files=row["files"] or [],
        error=row["error"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        timings=row["timings"] or {},
        notification=row["notification"],
        warnings=row["warnings"] or [],
        kind=row["kind"],
    )


def insert_job(
    cur: Cursor,
    *,
    job_id: str,
    owner_id: str,
    owner_email: str,
    formats: list[str],
    input_fid: str,
    invoice_number: str,
    totals: dict[str, Any],
    timings: dict[str, float] | None = None,
    warnings: list[dict[str, str]] | None = None,
    kind: str = "upload",
) -> Job:
    """Insert a ``queued`` job with the cursor ``cur`` of the caller's
    transaction (the invoices service inserts the render job of an issued
    invoice in the issuing transaction, ``kind="record"``) and return it.
    ``warnings``, ``kind``: see :class:`Job`."""
    cur.execute(
        "INSERT INTO jobs (id, owner_id, owner_email, formats, input_fid, invoice_number, totals, timings, warnings,"
        f" kind) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
        (
            uuid.UUID(job_id),
            uuid.UUID(owner_id),
            owner_email,
            formats,
            input_fid,
            invoice_number,
            json.dumps(totals),
            json.dumps(timings or {}),
            json.dumps(warnings or []),
            kind,
        ),
    )
    return _job(one_row(cur))


def _record_outcome(cur: Cursor, job_id: uuid.UUID | None, event_type: str) -> None:
    """Write ``job.done`` / ``job.failed`` for the now final job ``job_id``
    to the outbox, if its owner is a member of an organisation (the
    ``memberships`` of the invoices service, when its schema is there)."""
    cur.execute("SELECT to_regclass('memberships') IS NOT NULL AS present")
    if not one_row(cur)["present"]:
        return
    cur.execute(
        "INSERT INTO outbox (organisation_id, aggregate_type, aggregate_id, type, payload, actor_id, actor_email)"
        " SELECT m.organisation_id, 'job', j.id, %s, jsonb_build_object("
        "   'job_id', j.id::text, 'status', j.status, 'invoice_number', j.invoice_number,"
        "   'totals', j.totals, 'error', j.error,"
        "   'files', COALESCE((SELECT jsonb_agg(jsonb_build_object("
        "       'format', f ->> 'format', 'size', (f ->> 'size')::bigint, 'filename', f ->> 'filename'))"
        "     FROM jsonb_array_elements(j.files) AS f), '[]'::jsonb)),"
        "   j.owner_id, j.owner_email"
        " FROM jobs j JOIN memberships m ON m.user_id = j.owner_id WHERE j.id = %s",
        (event_type, job_id),
    )


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class JobStore:
    """Reads and writes jobs; every method raises
    :class:`invoicer.common.db.DatabaseUnavailable` when PostgreSQL is down."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        *,
        job_id: str,
        owner_id: str,
        owner_email: str,
        formats: list[str],
        input_fid: str,
        invoice_number: str,
        totals: dict[str, Any],
        timings: dict[str, float] | None = None,
        warnings: list[dict[str, str]] | None = None,
    ) -> Job:
        """Insert a ``queued`` job and return it."""
        with self.db.transaction() as cur:
            return insert_job(
                cur,
                job_id=job_id,
                owner_id=owner_id,
                owner_email=owner_email,
                formats=formats,
                input_fid=input_fid,
                invoice_number=invoice_number,
                totals=totals,
                timings=timings,
                warnings=warnings,
            )

    def get(self, job_id: str, *, owner_id: str | None = None) -> Job | None:
        """The job, or ``None`` if unknown — or owned by someone other than
        ``owner_id`` when that is given."""
        key = _uuid(job_id)
        if key is None:
            return None
        sql = f"SELECT {_COLUMNS} FROM jobs WHERE id = %s"
        params: list[Any] = [key]
        if owner_id is not None:
            sql += " AND owner_id = %s"
            params.append(_uuid(owner_id))
        with self.db.transaction() as cur:
            cur.execute(sql, params)
            row = cur.fetchone()
        return _job(row) if row else None

    def list_for_owner(
        self,
        owner_id: str,
        *,
        limit: int,
        offset: int = 0,
        status: str | None = None,
        after: tuple[datetime, uuid.UUID] | None = None,
        before: tuple[datetime, uuid.UUID] | None = None,
        kind: str | None = None,
    ) -> tuple[list[Job], int]:
        """``owner_id``'s jobs, newest first, and how many there are in all
        (exact up to :data:`COUNT_CAP`, else the cap); only those whose status
        is ``status`` (one of :data:`STATUSES`) when it is given. See
        :meth:`page_for_owner` for ``after`` and ``before``."""
        jobs, total, _exact, _more = self.page_for_owner(
            owner_id, limit=limit, offset=offset, status=status, after=after, before=before, kind=kind
        )
        return jobs, total

    def page_for_owner(
        self,
        owner_id: str,
        *,
        limit: int,
        offset: int = 0,
        status: str | None = None,
        after: tuple[datetime, uuid.UUID] | None = None,
        before: tuple[datetime, uuid.UUID] | None = None,
        kind: str | None = None,
    ) -> tuple[list[Job], int, bool, bool]:
        """A page of ``owner_id``'s jobs, newest first, by keyset: ``after``
        the position ``(created_at, id)`` of a job (the jobs older than it),
        or ``before`` one (the newer ones, still answered newest first), else
        from the newest, skipping ``offset``. Returns ``(jobs, total,
        total_exact, more)``: ``total`` counts at most :data:`COUNT_CAP` rows
        (``total_exact`` false beyond), ``more`` says whether jobs lie further
        in the direction walked; only jobs of ``kind`` (one of :data:`KINDS`)
        when it is given. Served by the indexes ``(owner_id, created_at,
        id)``, ``(owner_id, status, created_at, id)`` and ``(owner_id, kind,
        created_at, id)``."""
        where = (
            "owner_id = %(owner)s AND (%(status)s::text IS NULL OR status = %(status)s)"
            " AND (%(kind)s::text IS NULL OR kind = %(kind)s)"
        )
        params: dict[str, Any] = {"owner": _uuid(owner_id), "status": status, "kind": kind, "cap": COUNT_CAP + 1}
        with self.db.transaction() as cur:
            cur.execute(
                f"SELECT count(*) AS n FROM (SELECT 1 FROM jobs WHERE {where} LIMIT %(cap)s) AS counted", params
            )
            counted = int(one_row(cur)["n"])
            order = "DESC"
            if after is not None:
                where += " AND (created_at, id) < (%(at)s, %(id)s)"
                params.update(at=after[0], id=after[1])
            elif before is not None:
                where += " AND (created_at, id) > (%(at)s, %(id)s)"
                params.update(at=before[0], id=before[1])
                order = "ASC"
            cur.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE {where}"
                f" ORDER BY created_at {order}, id {order} LIMIT %(limit)s OFFSET %(offset)s",
                {**params, "limit": limit + 1, "offset": 0 if (after or before) else offset},
            )
            rows = cur.fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        if before is not None:
            rows.reverse()
        return [_job(row) for row in rows], min(counted, COUNT_CAP), counted <= COUNT_CAP, more

    def delete(self, job_id: str) -> None:
        """Remove a job that was never queued (the broker refused it)."""
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM jobs WHERE id = %s", (uuid.UUID(job_id),))

    def start(self, job_id: str, timings: dict[str, float] | None = None) -> Job | None:
        """Mark the job ``processing`` and count the attempt, unless it is
        final. Returns the job as it is now (final jobs unchanged), or
        ``None`` if there is no such job."""
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE jobs SET status = 'processing', attempts = attempts + 1,"
                " updated_at = clock_timestamp(), timings = timings || %s::jsonb"
                f" WHERE id = %s AND status NOT IN ('done', 'failed') RETURNING {_COLUMNS}",
                (json.dumps(timings or {}), _uuid(job_id)),
            )
            row = cur.fetchone()
            if row is None:
                cur.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = %s", (_uuid(job_id),))
                row = cur.fetchone()
        return _job(row) if row else None

    def finish(
        self,
        job_id: str,
        *,
        files: list[dict[str, Any]],
        totals: dict[str, Any],
        invoice_number: str,
        timings: dict[str, float] | None = None,
    ) -> bool:
        """Mark the job ``done`` with its files, unless it is already final.
        Returns True if this call made it done."""
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE jobs SET status = 'done', files = %s, totals = %s, invoice_number = %s,"
                " error = NULL, updated_at = clock_timestamp(), timings = timings || %s::jsonb"
                " WHERE id = %s AND status NOT IN ('done', 'failed')",
                (json.dumps(files), json.dumps(totals), invoice_number, json.dumps(timings or {}), _uuid(job_id)),
            )
            if cur.rowcount != 1:
                return False
            _record_outcome(cur, _uuid(job_id), "job.done")
            return True

    def fail(self, job_id: str, *, code: str, message: str) -> bool:
        """Mark the job ``failed`` with ``{"code", "message"}``, unless it is
        already final. Returns True if this call made it failed."""
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE jobs SET status = 'failed', error = %s, updated_at = clock_timestamp()"
                " WHERE id = %s AND status NOT IN ('done', 'failed')",
                (json.dumps({"code": code, "message": message}), _uuid(job_id)),
            )
            if cur.rowcount != 1:
                return False
            _record_outcome(cur, _uuid(job_id), "job.failed")
            return True

    def mark_notified(self, job_id: str, recipient: str) -> bool:
        """Record that ``job_id``'s mail went out (a ``notifications`` row, the
        idempotency key, and the job's ``notification`` ``{"status": "sent"}``);
        False if it already had."""
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO notifications (job_id, recipient) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (_uuid(job_id), recipient),
            )
            if cur.rowcount != 1:
                return False
            cur.execute(
                "UPDATE jobs SET notification = %s WHERE id = %s",
                (json.dumps({"status": "sent"}), _uuid(job_id)),
            )
            return True

    def unmark_notified(self, job_id: str) -> None:
        """Forget that ``job_id``'s mail went out (the server refused it)."""
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM notifications WHERE job_id = %s", (_uuid(job_id),))
            cur.execute(
                "UPDATE jobs SET notification = NULL WHERE id = %s AND notification->>'status' = 'sent'",
                (_uuid(job_id),),
            )

    def was_notified(self, job_id: str) -> bool:
        """True if ``job_id``'s mail already went out."""
        with self.db.transaction() as cur:
            cur.execute("SELECT 1 FROM notifications WHERE job_id = %s", (_uuid(job_id),))
            return cur.fetchone() is not None

    def mark_notification_failed(self, job_id: str, *, code: str, message: str) -> bool:
        """Record that ``job_id``'s mail will not be sent: its
        ``notification`` becomes ``{"status": "failed", "error": {"code",
        "message"}}``, unless the mail was sent. Returns True if this call
        recorded it (False: no such job, or already sent). ``updated_at`` is
        left alone here and in the other ``notification`` writes: it tells
        when the job's status last changed."""
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE jobs SET notification = %s"
                " WHERE id = %s AND NOT EXISTS (SELECT 1 FROM notifications WHERE job_id = %s)",
                (
                    json.dumps({"status": "failed", "error": {"code": code, "message": message}}),
                    _uuid(job_id),
                    _uuid(job_id),
                ),
            )
            return cur.rowcount == 1
