"""The retention rules and the run that applies them (``invoicer cleanup``).

What goes, once older than the retention age (``RETENTION_DAYS``, 90 days by
default), each kind a rule of :data:`RULES`, applied in that order:

* ``jobs`` (:class:`JobsRule`): job rows (``jobs.created_at``), with their
  upload (``input_fid``) and rendered files in GridFS and their "invoice
  ready" delivery record (``notifications``). The render job of an issued
  invoice or credit note (``invoices.render_job_id`` of a record that is not
  a draft) is its documents: it is kept until the legal period
  (``RETENTION_LEGAL_YEARS``, 10 years by default) has passed since the
  record was issued (``issued_at``, else its issue date). Other protected
  documents are one more :data:`PROTECTED_JOBS` query.
* table rules (:class:`TableRule`): rows of a delivery log older than the
  age by one timestamp column: ``invoice_mails`` (``sent_at``; the "invoice
  ready" log, ``notifications``, goes with its job). Another log (webhook
  deliveries) is one more ``TableRule``.
* ``expenses`` (:class:`ExpensesRule`): rejected and failed expenses with
  their documents; approved and paid ones keep theirs for the legal period.
* ``files without a job`` (:class:`OrphanFilesRule`): GridFS files that
  name a job (``metadata.job_id``) no longer in ``jobs`` (an upload whose job
  was never committed, the files of a job removed by a run that stopped
  half-way), by GridFS's own ``uploadDate``. Files that name no job are
  never touched.

Files go before the rows that point to them, so a run that stops half-way
leaves nothing that the next run does not find again. The invoice records
themselves are never deleted (PostgreSQL refuses it for issued ones).

Ages come from what the stores already hold: the job rows' and logs'
timestamps in PostgreSQL, ``uploadDate`` in GridFS (a datetime on MongoDB;
an ISO 8601 string on wire servers that store it so); no update of
``fs.files`` and no datetime in GridFS metadata is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from ..common.db import Database
from ..common.logging import get_logger
from ..common.storage import BlobStore

__all__ = [
    "PROTECTED_JOBS",
    "RULES",
    "Cutoffs",
    "ExpensesRule",
    "JobsRule",
    "OrphanFilesRule",
    "Removed",
    "Rule",
    "TableRule",
    "cutoffs",
    "run",
]

log = get_logger(__name__)

#: Rows handled per transaction and GridFS batch.
BATCH = 500

#: Queries of ``(job_id, since)``: jobs that are the documents of a record
#: kept for the legal period, counted from ``since`` (a timestamptz; NULL
#: keeps the job whatever its age). Issued invoices and credit notes: their
#: render job, from the moment they were issued.
PROTECTED_JOBS: list[str] = [
    "SELECT render_job_id, COALESCE(issued_at, issue_date::timestamptz) FROM invoices"
    " WHERE status <> 'draft' AND render_job_id IS NOT NULL",
]


@dataclass(frozen=True)
class Cutoffs:
    """``older``: what was made before it is past the retention age;
    ``legal``: a record issued before it is past the legal period. Both
    aware datetimes (UTC)."""

    older: datetime
    legal: datetime


def cutoffs(now: datetime, *, retention_days: int, legal_years: int) -> Cutoffs:
    """The cutoffs ``retention_days`` days and ``legal_years`` calendar years
    before ``now`` (29 February goes back to 28 February in a year without
    it)."""
    year = now.year - legal_years
    try:
        legal = now.replace(year=year)
    except ValueError:  # 29 February
        legal = now.replace(year=year, day=28)
    return Cutoffs(older=now - timedelta(days=retention_days), legal=legal)


@dataclass
class Removed:
    """What a run removed (or, in a dry run, would remove): a count per kind
    (``jobs``, ``uploads``, ``rendered files``, ``notifications``,
    ``invoice_mails``, ``files without a job``, ...), in the order found."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + count

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Rule(Protocol):
    """One kind of record and when it goes. ``apply`` removes (or with
    ``dry_run`` only counts) what is past ``cut`` and adds the counts to
    ``removed``; it raises ``DatabaseUnavailable`` / ``StorageUnavailable``."""

    @property
    def name(self) -> str: ...

    def apply(self, db: Database, blobs: BlobStore, cut: Cutoffs, removed: Removed, *, dry_run: bool) -> None: ...


@dataclass(frozen=True)
class TableRule:
    """Rows of ``table`` whose ``column`` (a timestamptz) is before the
    retention cutoff, counted as ``name``. ``table`` and ``column`` are
    identifiers of our schema, never user input."""

    name: str
    table: str
    column: str

    def apply(self, db: Database, blobs: BlobStore, cut: Cutoffs, removed: Removed, *, dry_run: bool) -> None:
        verb = "SELECT count(*) AS n FROM" if dry_run else "WITH gone AS (DELETE FROM"
        with db.transaction() as cur:
            if dry_run:
                cur.execute(f"{verb} {self.table} WHERE {self.column} < %s", (cut.older,))
            else:
                cur.execute(
                    f"{verb} {self.table} WHERE {self.column} < %s RETURNING 1) SELECT count(*) AS n FROM gone",
                    (cut.older,),
                )
            row = cur.fetchone()
        removed.add(self.name, int(row["n"]) if row else 0)


@dataclass(frozen=True)
class JobsRule:
    """Job rows past the retention age with their files and "invoice ready"
    record, except the documents :data:`PROTECTED_JOBS` keep for the legal
    period. Counts ``jobs``, ``uploads`` (the input files), ``rendered
    files`` and ``notifications`` (only files still in GridFS count)."""

    name: str = "jobs"
    protected: Sequence[str] = field(default_factory=lambda: PROTECTED_JOBS)

    def _batches(self, db: Database, cut: Cutoffs) -> Iterator[list[dict[str, Any]]]:
        kept = " UNION ALL ".join(f"({query})" for query in self.protected) or "SELECT NULL::uuid, NULL::timestamptz"
        last = None
        while True:
            with db.transaction() as cur:
                cur.execute(
                    "SELECT id, input_fid, files FROM jobs"
                    " WHERE created_at < %(older)s AND (%(last)s::uuid IS NULL OR id > %(last)s::uuid)"
                    f" AND NOT EXISTS (SELECT 1 FROM ({kept}) AS kept(job_id, since)"
                    "   WHERE kept.job_id = jobs.id AND (kept.since IS NULL OR kept.since >= %(legal)s))"
                    " ORDER BY id LIMIT %(limit)s",
                    {"older": cut.older, "legal": cut.legal, "last": last, "limit": BATCH},
                )
                rows: list[dict[str, Any]] = [dict(row) for row in cur.fetchall()]
            if not rows:
                return
            yield rows
            last = str(rows[-1]["id"])

    def apply(self, db: Database, blobs: BlobStore, cut: Cutoffs, removed: Removed, *, dry_run: bool) -> None:
        for rows in self._batches(db, cut):
            inputs = [row["input_fid"] for row in rows]
            outputs = [item["fid"] for row in rows for item in row["files"] or [] if item.get("fid")]
            ids = [row["id"] for row in rows]
            if dry_run:
                removed.add("uploads", len(blobs.existing(inputs)))
                removed.add("rendered files", len(blobs.existing(outputs)))
                with db.transaction() as cur:
                    cur.execute("SELECT count(*) AS n FROM notifications WHERE job_id = ANY(%s)", (ids,))
                    row = cur.fetchone()
                removed.add("notifications", int(row["n"]) if row else 0)
                removed.add("jobs", len(rows))
                continue
            # Files first: a run stopped here leaves rows the next run finds again.
            removed.add("uploads", blobs.delete_many(inputs))
            removed.add("rendered files", blobs.delete_many(outputs))
            with db.transaction() as cur:
                cur.execute("DELETE FROM notifications WHERE job_id = ANY(%s)", (ids,))
                removed.add("notifications", cur.rowcount)
                cur.execute("DELETE FROM jobs WHERE id = ANY(%s)", (ids,))
                removed.add("jobs", cur.rowcount)


def _uploaded_at(value: Any) -> datetime | None:
    """GridFS ``uploadDate`` as an aware datetime: a BSON date (naive UTC
    from pymongo), or an ISO 8601 string; None if it is neither."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class OrphanFilesRule:
    """GridFS files uploaded before the retention cutoff that name a job
    (``metadata.job_id``) which is not in ``jobs``. Reads every files
    document's id, upload date and job id once per run."""

    name: str = "files without a job"

    def apply(self, db: Database, blobs: BlobStore, cut: Cutoffs, removed: Removed, *, dry_run: bool) -> None:
        old = (
            (fid, job_id)
            for fid, uploaded, job_id in blobs.scan()
            if job_id and (moment := _uploaded_at(uploaded)) is not None and moment < cut.older
        )
        for batch in _chunked(old, BATCH):
            with db.transaction() as cur:
                cur.execute(
                    "SELECT id::text AS id FROM jobs WHERE id::text = ANY(%s)",
                    ([job_id for _, job_id in batch],),
                )
                alive = {row["id"] for row in cur.fetchall()}
            orphans = [fid for fid, job_id in batch if job_id not in alive]
            removed.add(self.name, len(orphans) if dry_run else blobs.delete_many(orphans))


@dataclass(frozen=True)
class ExpensesRule:
    """Expenses (issue 19). A ``rejected`` or ``failed`` expense past the retention age
    (``updated_at``) goes with its document. An ``approved`` or ``paid`` one is a record
    of the books: it stays, and its document is kept for the legal period from its
    approval (``decided_at``), then removed (``document_fid`` cleared). Expenses still
    being read, reviewed or waiting for approval are never touched. Counts ``expenses``
    and ``expense documents``."""

    name: str = "expenses"

    def apply(self, db: Database, blobs: BlobStore, cut: Cutoffs, removed: Removed, *, dry_run: bool) -> None:
        with db.transaction() as cur:
            cur.execute("SELECT to_regclass('expenses') IS NOT NULL AS present")
            row = cur.fetchone()
            if not row or not row["present"]:
                return
            cur.execute(
                "SELECT id, document_fid, status FROM expenses"
                " WHERE (status IN ('rejected', 'failed') AND updated_at < %(older)s)"
                " OR (status IN ('approved', 'paid') AND document_fid IS NOT NULL AND decided_at < %(legal)s)",
                {"older": cut.older, "legal": cut.legal},
            )
            rows = [dict(row) for row in cur.fetchall()]
        gone = [row["id"] for row in rows if row["status"] in ("rejected", "failed")]
        documents = [row["document_fid"] for row in rows if row["document_fid"]]
        if dry_run:
            removed.add("expense documents", len(blobs.existing(documents)))
            removed.add(self.name, len(gone))
            return
        removed.add("expense documents", blobs.delete_many(documents))  # files first, as everywhere here
        with db.transaction() as cur:
            kept = [row["id"] for row in rows if row["status"] in ("approved", "paid")]
            cur.execute("UPDATE expenses SET document_fid = NULL WHERE id = ANY(%s)", (kept,))
            cur.execute("UPDATE expenses SET duplicate_of = NULL WHERE duplicate_of = ANY(%s)", (gone,))
            cur.execute("DELETE FROM expense_payments WHERE expense_id = ANY(%s)", (gone,))
            cur.execute("DELETE FROM expenses WHERE id = ANY(%s)", (gone,))
            removed.add(self.name, cur.rowcount)


#: Every rule, applied in this order by :func:`run`.
RULES: list[Rule] = [
    JobsRule(),
    TableRule("invoice_mails", "invoice_mails", "sent_at"),
    ExpensesRule(),
    OrphanFilesRule(),
]


def run(
    db: Database,
    blobs: BlobStore,
    *,
    retention_days: int,
    legal_years: int,
    dry_run: bool = False,
    now: datetime | None = None,
    rules: Sequence[Rule] | None = None,
) -> Removed:
    """Apply ``rules`` (default :data:`RULES`) with the cutoffs
    ``retention_days`` and ``legal_years`` before ``now`` (default: the
    current time, UTC); with ``dry_run`` nothing is deleted and the counts
    say what would be. Logs one line per kind and one summary line. Raises
    ``DatabaseUnavailable`` / ``StorageUnavailable``; a second run right
    after removes nothing more."""
    cut = cutoffs(now or datetime.now(UTC), retention_days=retention_days, legal_years=legal_years)
    removed = Removed()
    for rule in RULES if rules is None else rules:
        rule.apply(db, blobs, cut, removed, dry_run=dry_run)
    for kind, count in removed.counts.items():
        log.info(
            "retention would remove" if dry_run else "retention removed",
            extra={"kind": kind, "count": count, "dry_run": dry_run},
        )
    log.info(
        "retention done",
        extra={
            "dry_run": dry_run,
            "removed": removed.counts,
            "total": removed.total,
            "older_than": cut.older.isoformat(),
            "issued_before": cut.legal.isoformat(),
        },
    )
    return removed
