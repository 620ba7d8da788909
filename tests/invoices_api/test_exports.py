"""``GET /invoices.csv`` and ``GET /clients.csv`` (issue 22, "Lists"):
through the gateway on the running stack, and in-process on the real
database with a small batch, to see the export walk past its first batch."""

from __future__ import annotations

import csv
import io

import pytest

from .conftest import LINES, LINES_GROSS, assert_error, issued, new_client, new_draft, sign_up

pytestmark = pytest.mark.integration

FORMULA = '=HYPERLINK("http://evil.example","Click")'


def _rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so that Excel reads it as UTF-8"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_the_invoices_and_clients_export_through_the_gateway(stack, seller):
    risky = new_client(seller, name=FORMULA, company="-2+3")
    plain = new_client(seller, name="Thomas Hardy", company="Around the Horn")
    invoice = issued(seller, risky)
    seller.ok("POST", f"/invoices/{invoice['id']}/credit-notes", 201, json={"reason": "Cancelled"})
    new_draft(seller, plain)

    reply = seller("GET", "/invoices.csv")
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert reply.headers["Content-Disposition"] == 'attachment; filename="invoices.csv"'
    rows = _rows(reply.content)
    assert sorted(row["kind"] for row in rows) == ["credit_note", "invoice", "invoice"]
    by_number = {row["number"]: row for row in rows}
    issued_row = by_number[invoice["number"]]
    # The name a spreadsheet would run is text; the amounts stay numbers.
    assert issued_row["client_name"] == "'" + FORMULA
    assert (issued_row["gross"], issued_row["currency"], issued_row["issue_date"]) == (
        LINES_GROSS,
        "EUR",
        invoice["issue_date"],
    )
    (note,) = [row for row in rows if row["kind"] == "credit_note"]
    assert note["gross"] == "-" + LINES_GROSS, "a credit note takes money off: its amounts are negative"

    # The list's filters choose the rows.
    assert [row["client_name"] for row in _rows(seller("GET", "/invoices.csv?status=draft").content)] == [
        "Thomas Hardy"
    ]
    assert [row["kind"] for row in _rows(seller("GET", "/invoices.csv?kind=credit_note").content)] == ["credit_note"]
    assert_error(seller("GET", "/invoices.csv?status=lost"), 400)

    clients = _rows(seller("GET", "/clients.csv").content)
    assert [(row["name"], row["company"]) for row in clients] == [
        ("'" + FORMULA, "'-2+3"),
        ("Thomas Hardy", "Around the Horn"),
    ]
    assert [row["name"] for row in _rows(seller("GET", "/clients.csv?q=horn").content)] == ["Thomas Hardy"]

    # Nobody sees another organisation's records: a stranger's files hold the header only.
    stranger = sign_up(stack.base_url)
    assert _rows(stranger("GET", "/invoices.csv").content) == []
    assert _rows(stranger("GET", "/clients.csv").content) == []
    assert seller("GET", "/clients.csv", headers={"Authorization": ""}).status_code == 401


def test_an_export_walks_past_its_first_batch_in_the_lists_order(records_api, monkeypatch):
    monkeypatch.setattr("invoicer.invoices.routes._EXPORT_BATCH", 2)
    api = records_api()
    made = []
    for n in range(5):
        client = api("POST", "/clients", json={"name": f"Client {n}", "currency": "EUR"}).get_json()
        draft = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES})
        assert draft.status_code == 201, draft.get_json()
        made.append(draft.get_json()["id"])

    reply = api("GET", "/invoices.csv?sort=created_at&order=asc")
    assert reply.status_code == 200
    assert [row["id"] for row in _rows(reply.get_data())] == made
    reply = api("GET", "/clients.csv")
    assert [row["name"] for row in _rows(reply.get_data())] == [f"Client {n}" for n in range(5)]
