"""Orders to drafts, importing documents, and idempotent replays."""

from __future__ import annotations

import json
import threading

import pytest

from invoicer.invoices import invoices, orders
from invoicer.invoices.errors import BadRequest, Conflict, Unprocessable
from invoicer.invoices.events import activity
from invoicer.invoices.idempotency import fingerprint, idempotent
from invoicer.invoices.importing import import_invoice

from .conftest import LINES


def test_an_order_becomes_a_draft_once_and_reopens_if_the_draft_goes(db, owner, client):
    with db.transaction() as cur:
        order = orders.create_order(cur, owner, {"client_id": client["id"], "lines": LINES, "notes": "PO 42"})
        assert order["status"] == "open"
        made = orders.invoice_order(cur, owner, order["id"])
    draft = made["invoice"]
    assert made["order"]["status"] == "invoiced" and made["order"]["invoice_id"] == draft["id"]
    assert draft["status"] == "draft" and draft["lines"] == order["lines"] and draft["notes"] == "PO 42"
    assert str(draft["gross"]) == "330.86"
    with pytest.raises(Conflict), db.transaction() as cur:
        orders.invoice_order(cur, owner, order["id"])
    with db.transaction() as cur:
        invoices.delete_draft(cur, owner, draft["id"])
        assert orders.get_order(cur, owner, order["id"])["status"] == "open"


def test_import_keeps_the_documents_number_once(db, owner, example_bytes):
    with db.transaction() as cur:
        record = import_invoice(cur, owner, example_bytes)
    assert (record["status"], record["series"], record["number"]) == ("issued", "imported", "INV-2026-0001")
    assert str(record["gross"]) == "330.86" and record["seller"]["name"] == "Northwind Traders Ltd"
    assert record["ship_to"]["company"] == "Alfreds Futterkiste (Warehouse)"
    with pytest.raises(Conflict) as again, db.transaction() as cur:
        import_invoice(cur, owner, example_bytes)
    assert again.value.code == "duplicate_number"
    with pytest.raises(Conflict), db.transaction() as cur:  # imported invoices are frozen too
        invoices.update_draft(cur, owner, record["id"], {"notes": "x"})
    with db.transaction() as cur:
        assert [event["type"] for event in activity(cur, owner, record["id"])] == ["invoice.issued"]


def test_import_of_a_legacy_document(db, owner, legacy_bytes):
    with db.transaction() as cur:
        record = import_invoice(cur, owner, legacy_bytes)
    assert record["series"] == "imported" and record["currency"] == "USD" and record["lines"]


def test_import_refuses_bad_documents_with_pointers(db, owner, example_bytes):
    bad = json.loads(example_bytes)
    bad["currency"] = "EURO"
    with pytest.raises(Unprocessable) as caught, db.transaction() as cur:
        import_invoice(cur, owner, json.dumps(bad))
    assert [detail["pointer"] for detail in caught.value.details] == ["/currency"]
    with pytest.raises(BadRequest), db.transaction() as cur:
        import_invoice(cur, owner, b'{"invoice_number": ')


def _create(db, owner, client, key, body: dict):
    def action():
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], **body})
        return 201, {"id": str(draft["id"]), "gross": str(draft["gross"])}

    raw = json.dumps(body).encode()
    with db.transaction() as cur:
        return idempotent(cur, owner.actor, key, fingerprint("POST", "/invoices", raw), action)


def _draft_count(db, owner) -> int:
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM invoices WHERE organisation_id = %s", (owner.organisation_id,))
        return cur.fetchone()["n"]


def test_an_idempotent_retry_replays_and_a_reused_key_is_a_conflict(db, owner, client):
    body = {"lines": LINES}
    first, replayed = _create(db, owner, client, "key-1", body)
    assert not replayed and first[0] == 201
    again, replayed = _create(db, owner, client, "key-1", body)
    assert replayed and again == first
    assert _draft_count(db, owner) == 1
    with pytest.raises(Conflict) as caught:
        _create(db, owner, client, "key-1", {"lines": LINES[:1]})
    assert caught.value.code == "idempotency_key_reused"
    assert _draft_count(db, owner) == 1


def test_concurrent_retries_make_one_draft(db, owner, client):
    results, barrier = [], threading.Barrier(4)

    def attempt():
        barrier.wait()
        results.append(_create(db, owner, client, "key-2", {"lines": LINES}))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({json.dumps(response) for response, _ in results}) == 1
    assert sorted(replayed for _, replayed in results) == [False, True, True, True]
    assert _draft_count(db, owner) == 1


def test_a_failed_action_stores_no_response(db, owner, client):
    with pytest.raises(Unprocessable):
        _create(db, owner, client, "key-3", {"lines": [dict(LINES[0], quantity="0")]})
    (status, _), replayed = _create(db, owner, client, "key-3", {"lines": LINES})
    assert status == 201 and not replayed
