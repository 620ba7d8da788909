"""SIGKILL the intake worker while it reads a document (OCR takes seconds), start it again:
the document is read again, every expense is read exactly once, nothing is lost."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg2
import psycopg2.extras

from tests.invoices_api.conftest import sign_up

ROOT = Path(__file__).resolve().parents[2]
SCAN = ROOT / "examples" / "received" / "stationery-scan.jpg"
EINVOICE = ROOT / "examples" / "received" / "EN16931_Miete.pdf"


def _statuses(user, ids: list[str]) -> dict[str, str]:
    return {i: user.ok("GET", f"/expenses/{i}")["status"] for i in ids}


def _received_events(stack, ids: list[str]) -> dict[str, int]:
    """How many ``expense.received`` events the outbox holds per expense: one per reading."""
    with psycopg2.connect(stack.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT aggregate_id::text, count(*) FROM outbox WHERE type = 'expense.received'"
            " AND aggregate_id::text = ANY(%s) GROUP BY 1",
            (ids,),
        )
        return dict(cur.fetchall())


def test_intake_killed_mid_document_reads_it_again_exactly_once(stack, faults):
    user = sign_up(stack.base_url)
    user.ok("GET", "/organisation")
    stack.stack.stop("intake")
    try:
        documents = [("scan.jpg", SCAN.read_bytes(), "image/jpeg")] + [
            (f"e-invoice-{n}.pdf", EINVOICE.read_bytes(), "application/pdf") for n in range(3)
        ]
        ids = []
        for name, data, content_type in documents:
            reply = user("POST", "/expenses", files={"file": (name, data, content_type)})
            assert reply.status_code == 202, reply.text
            ids.append(reply.json()["id"])
        time.sleep(1)  # the outbox relay has queued them, the scan first
        faults.restart(stack, "intake")
        time.sleep(2.5)  # the worker has the scan in hand: OCR takes seconds of CPU
        faults.kill_hard(stack, "intake")
        assert _statuses(user, ids)[ids[0]] == "processing", "the scan was read before the kill; kill sooner"
    finally:
        if stack.stack.pid("intake") is None:
            faults.restart(stack, "intake")

    deadline = time.monotonic() + 300
    while "processing" in (statuses := _statuses(user, ids)).values():
        assert time.monotonic() < deadline, f"still processing after the restart: {statuses}"
        time.sleep(0.5)
    assert statuses[ids[0]] in ("needs_review", "submitted"), statuses
    scan = user.ok("GET", f"/expenses/{ids[0]}")
    assert scan["fields"]["total_gross"]["value"] == "74.76"
    assert scan["fields"]["total_gross"]["source"] == "ocr"
    assert _received_events(stack, ids) == dict.fromkeys(ids, 1), "an expense was read twice or not at all"
