"""Clients and the organisation profile."""

from __future__ import annotations

import pytest

from invoicer.invoices import clients, invoices
from invoicer.invoices.errors import PreconditionFailed, Unprocessable
from invoicer.invoices.organisations import get_organisation, update_organisation


def test_client_fields_follow_the_invoice_schema(db, owner):
    with pytest.raises(Unprocessable) as caught, db.transaction() as cur:
        clients.create_client(cur, owner, {"name": "  ", "email": "not-an-address", "currency": "EURO"})
    pointers = {detail["pointer"] for detail in caught.value.details}
    assert pointers == {"/name", "/email", "/currency"}


def test_update_list_and_archive(db, owner, client):
    with db.transaction() as cur:
        changed = clients.update_client(cur, owner, client["id"], {"currency": "GBP"}, expected_version=1)
        assert changed["currency"] == "GBP" and changed["name"] == "Maria Anders"
        assert [c["id"] for c in clients.list_clients(cur, owner, q="alfreds")["items"]] == [client["id"]]
    with pytest.raises(PreconditionFailed), db.transaction() as cur:
        clients.update_client(cur, owner, client["id"], {"currency": "USD"}, expected_version=1)
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"]})
        assert draft["currency"] == "GBP"  # the client's currency is the default
        clients.archive_client(cur, owner, client["id"])
        assert clients.list_clients(cur, owner)["total"] == 0
        assert clients.list_clients(cur, owner, include_archived=True)["total"] == 1
    with pytest.raises(Unprocessable), db.transaction() as cur:
        invoices.create_draft(cur, owner, {"client_id": client["id"]})


def test_organisation_profile_update(db, owner):
    with db.transaction() as cur:
        before = get_organisation(cur, owner)
        after = update_organisation(
            cur, owner, {"phone": "+44 117 496 0123", "payment_terms_days": 10}, expected_version=before["version"]
        )
    assert after["phone"] == "+44 117 496 0123" and after["name"] == "Northwind Traders Ltd"
    assert after["version"] == before["version"] + 1
    with pytest.raises(Unprocessable), db.transaction() as cur:
        update_organisation(cur, owner, {"payment_terms_days": -1})
