"""Expenses through the gateway on the session's stack (issue 19): upload a received
document, the intake worker reads it, a person reviews, submits, approves and pays it."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
import requests

from tests.invoices_api.conftest import User, assert_error, sign_up

DATA = Path(__file__).resolve().parents[1] / "data" / "einvoice"
MIETE = DATA / "EN16931_Miete.pdf"


@pytest.fixture
def user(stack) -> User:
    """A new user with an organisation (the invoices service makes it on first use)."""
    user = sign_up(stack.base_url)
    user.ok("GET", "/organisation")
    return user


def upload(user: User, data: bytes, name: str, content_type: str = "application/pdf") -> requests.Response:
    return user("POST", "/expenses", files={"file": (name, data, content_type)})


def read(user: User, expense_id: str, timeout: float = 90.0) -> dict:
    """The expense once the intake worker has read it (no longer ``processing``)."""
    deadline = time.monotonic() + timeout
    while True:
        expense = user.ok("GET", f"/expenses/{expense_id}")
        if expense["status"] != "processing":
            return expense
        if time.monotonic() > deadline:
            pytest.fail(f"expense {expense_id} still processing after {timeout}s")
        time.sleep(0.3)


def values(expense: dict) -> dict[str, str]:
    return {name: field["value"] for name, field in expense["fields"].items()}


def test_an_e_invoice_is_read_exactly_submitted_approved_and_paid(user: User) -> None:
    reply = upload(user, MIETE.read_bytes(), "EN16931_Miete.pdf")
    assert reply.status_code == 202, reply.text
    created = reply.json()
    assert created["status"] == "processing"
    assert reply.headers["Location"].endswith(f"/expenses/{created['id']}")

    expense = read(user, created["id"])
    found = values(expense)
    assert found["supplier_name"] == "MUSTER-Autovermietung"
    assert found["invoice_number"] == "9314110911/00/M/00/N"
    assert found["issue_date"] == "2018-10-01"
    assert (found["currency"], found["total_gross"]) == ("EUR", "340.96")
    assert all(f["confidence"] == 1.0 and f["source"] == "xml" for f in expense["fields"].values())
    # every key field checked by the XML and no check failed: the worker submits it
    assert expense["status"] == "submitted", expense["checks"]
    assert expense["kind"] == "einvoice_pdf"
    assert {c["name"]: c["ok"] for c in expense["checks"]}["duplicate"] is True

    document = user("GET", f"/expenses/{expense['id']}/document")
    assert document.status_code == 200
    assert document.content == MIETE.read_bytes()
    assert document.headers["Content-Type"] == "application/pdf"
    assert "sandbox" in document.headers["Content-Security-Policy"]

    # the only member of the organisation may approve what was submitted in their name
    approved = user.ok("POST", f"/expenses/{expense['id']}/approve")
    assert approved["status"] == "approved" and approved["balance"] == "340.96"
    over = user("POST", f"/expenses/{expense['id']}/payments", json={"amount": "341.00", "paid_on": "2018-10-15"})
    assert_error(over, 422, "overpayment")
    part = user.ok("POST", f"/expenses/{expense['id']}/payments", 201, json={"amount": "300", "paid_on": "2018-10-15"})
    assert (part["status"], part["paid"], part["balance"]) == ("approved", "300.00", "40.96")
    rest = user.ok(
        "POST", f"/expenses/{expense['id']}/payments", 201, json={"amount": "40.96", "paid_on": "2018-10-20"}
    )
    assert (rest["status"], rest["balance"]) == ("paid", "0.00")


def test_the_same_supplier_and_number_again_is_a_duplicate_to_confirm(user: User) -> None:
    first = read(user, upload(user, MIETE.read_bytes(), "a.pdf").json()["id"])
    second = read(user, upload(user, MIETE.read_bytes(), "b.pdf").json()["id"])
    assert second["status"] == "needs_review"
    assert second["duplicate_of"] == first["id"]
    assert second["warnings"] == ["duplicate"]
    refused = user("POST", f"/expenses/{second['id']}/submit", json={})
    error = assert_error(refused, 409, "confirmation_required")
    assert error["details"][0]["code"] == "duplicate"
    submitted = user.ok("POST", f"/expenses/{second['id']}/submit", json={"confirm": ["duplicate"]})
    assert submitted["status"] == "submitted" and submitted["confirmed"] == ["duplicate"]


def test_a_changed_iban_of_a_known_supplier_is_a_warning(user: User) -> None:
    typed = {
        "supplier_name": "Acme Supplies",
        "invoice_number": "A-1",
        "issue_date": "2026-11-02",
        "currency": "EUR",
        "total_gross": "119.00",
        "iban": "DE89370400440532013000",
    }
    first = user.ok("POST", "/expenses", 201, json=typed)
    user.ok("POST", f"/expenses/{first['id']}/submit", json={})
    user.ok("POST", f"/expenses/{first['id']}/approve")
    second = user.ok(
        "POST", "/expenses", 201, json={**typed, "invoice_number": "A-2", "iban": "GB33BUKB20201555555555"}
    )
    checks = {c["name"]: c for c in second["checks"]}
    assert checks["bank_details_changed"]["ok"] is False
    assert "DE89370400440532013000" in checks["bank_details_changed"]["detail"]
    assert second["warnings"] == ["bank_details_changed"]
    assert_error(user("POST", f"/expenses/{second['id']}/submit", json={}), 409, "confirmation_required")
    same = user.ok("POST", "/expenses", 201, json={**typed, "invoice_number": "A-3"})
    assert {c["name"]: c["ok"] for c in same["checks"]}["bank_details_changed"] is True


def test_a_typed_expense_is_corrected_with_if_match_and_needs_its_key_fields(user: User) -> None:
    created = user.ok("POST", "/expenses", 201, json={"supplier_name": "Bakery Braun", "currency": "EUR"})
    assert created["status"] == "needs_review"
    assert created["fields"]["supplier_name"] == {
        "value": "Bakery Braun",
        "confidence": 1.0,
        "source": "person",
        "page": None,
        "bbox": None,
    }
    missing = user("POST", f"/expenses/{created['id']}/submit", json={})
    error = assert_error(missing, 422, "fields_missing")
    assert {d["pointer"] for d in error["details"]} == {"/fields/issue_date", "/fields/total_gross"}
    assert_error(user("PATCH", f"/expenses/{created['id']}", json={"total_gross": "4.20"}), 428)
    stale = user("PATCH", f"/expenses/{created['id']}", json={"total_gross": "4.20"}, headers={"If-Match": '"v99"'})
    assert_error(stale, 412)
    etag = user("GET", f"/expenses/{created['id']}").headers["ETag"]
    patched = user(
        "PATCH",
        f"/expenses/{created['id']}",
        json={"total_gross": "4.20", "issue_date": "2026-12-01"},
        headers={"If-Match": etag},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["fields"]["total_gross"]["source"] == "person"
    assert user.ok("POST", f"/expenses/{created['id']}/submit", json={})["status"] == "submitted"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"total_gross": "1٫00"}, "/total_gross"),  # not ASCII digits
        ({"total_gross": "12,50"}, "/total_gross"),
        ({"currency": "euro"}, "/currency"),
        ({"supplier_name": "a\ud800b"}, "/supplier_name"),
        ({"supplier_name": "bell\x07"}, "/supplier_name"),
        ({"issue_date": "9999-99-99"}, "/issue_date"),
        ({"colour": "red"}, "/colour"),
    ],
)
def test_bad_fields_are_422_naming_the_field(user: User, body: dict, pointer: str) -> None:
    error = assert_error(user("POST", "/expenses", json=body), 422)
    assert error["details"][0]["pointer"] == pointer


def test_what_is_not_a_document_is_refused_and_never_stored(user: User) -> None:
    before = user.ok("GET", "/expenses")["total"]
    refused = upload(user, b"just some text, not an invoice", "notes.txt", "text/plain")
    assert_error(refused, 415, "unsupported_document")
    big = upload(user, b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), "big.pdf")
    assert_error(big, 413)
    assert user.ok("GET", "/expenses")["total"] == before


def test_a_broken_pdf_fails_with_a_reason(user: User) -> None:
    created = upload(user, b"%PDF-1.7\n1 0 obj broken beyond repair", "broken.pdf").json()
    expense = read(user, created["id"])
    assert expense["status"] == "failed"
    assert expense["failure_reason"]


def test_another_organisation_sees_nothing(user: User, stack) -> None:
    created = user.ok("POST", "/expenses", 201, json={"supplier_name": "Private Ltd"})
    other = sign_up(stack.base_url)
    other.ok("GET", "/organisation")
    assert_error(other("GET", f"/expenses/{created['id']}"), 404)
    assert_error(other("POST", f"/expenses/{created['id']}/approve"), 404)
    assert other.ok("GET", "/expenses")["total"] == 0


def test_list_filters_and_csv_export_with_inert_formulas(user: User) -> None:
    user.ok(
        "POST",
        "/expenses",
        201,
        json={
            "supplier_name": '=HYPERLINK("http://evil")',
            "total_gross": "-5.00",
            "issue_date": "2026-03-01",
            "currency": "EUR",
        },
    )
    user.ok("POST", "/expenses", 201, json={"supplier_name": "Stationers Ltd", "issue_date": "2026-05-01"})
    assert [e["fields"]["supplier_name"]["value"] for e in user.ok("GET", "/expenses?supplier=station")["items"]] == [
        "Stationers Ltd"
    ]
    assert user.ok("GET", "/expenses?from=2026-04-01")["total"] == 1
    assert_error(user("GET", "/expenses?status=lost"), 400, "invalid_parameter")
    reply = user("GET", "/expenses.csv")
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
    names = {row["supplier_name"] for row in rows}
    assert '\'=HYPERLINK("http://evil")' in names and "Stationers Ltd" in names
    assert {row["total_gross"] for row in rows} >= {"-5.00"}  # an amount stays a number


def test_categories_default_and_are_editable(user: User) -> None:
    assert "Travel" in user.ok("GET", "/expenses/categories")["categories"]
    assert_error(user("POST", "/expenses", json={"category": "Yachts"}), 422, "unknown_category")
    user.ok("PUT", "/expenses/categories", json={"categories": ["Yachts", "Travel"]})
    assert user.ok("POST", "/expenses", 201, json={"category": "Yachts"})["category"] == "Yachts"
