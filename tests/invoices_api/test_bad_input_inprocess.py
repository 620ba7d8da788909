"""Issue 22, "bad input that still gets a 500": every one of these is a 4xx
JSON error naming what and where, in the invoices app in this process over
a throw-away database."""

from __future__ import annotations

import json

import pytest

from .conftest import BUYER, LINES, SELLER


def _error(reply, status: int) -> dict:
    assert reply.status_code == status, (reply.status_code, reply.get_data(as_text=True)[:500])
    body = reply.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def _raw(api, method: str, path: str, text: str, **kwargs):
    """``text`` sent as it is (JSON escapes such as a lone ``\\ud800`` kept)."""
    return api(method, path, data=text.encode(), content_type="application/json", **kwargs)


def _issued(api) -> dict:
    assert api("PATCH", "/organisation", json=SELLER).status_code == 200
    client = api("POST", "/clients", json=BUYER).get_json()
    draft = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES}).get_json()
    reply = api("POST", f"/invoices/{draft['id']}/issue")
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def test_an_issue_date_at_the_end_of_the_calendar_is_422_not_an_overflow(billing_api):
    api = billing_api()
    assert api("PATCH", "/organisation", json=SELLER).status_code == 200
    client = api("POST", "/clients", json=BUYER).get_json()
    reply = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES, "issue_date": "9999-12-31"})
    if reply.status_code == 201:  # a draft may keep it; issuing must not overflow
        reply = api("POST", f"/invoices/{reply.get_json()['id']}/issue")
    error = _error(reply, 422)
    assert any(detail.get("pointer") == "/issue_date" for detail in error["details"]), error
    reply = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES})
    reply = api("POST", f"/invoices/{reply.get_json()['id']}/issue", json={"issue_date": "9999-12-31"})
    error = _error(reply, 422)
    assert any(detail.get("pointer") == "/issue_date" for detail in error["details"]), error


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("PATCH", "/organisation", "name"),
        ("PATCH", "/organisation", "bank_details"),
        ("PATCH", "/organisation", "locale"),
        ("PATCH", "/organisation", "currency"),
        ("POST", "/clients", "company"),
        ("POST", "/clients", "currency"),
        ("PAYMENT", "", "method"),
        ("PAYMENT", "", "reference"),
    ],
)
def test_a_lone_surrogate_is_a_4xx_naming_where_it_is(billing_api, method, path, field):
    api = billing_api()
    body: dict = {"name": "Ann"} if path == "/clients" else {}
    if method == "PAYMENT":
        invoice = _issued(api)
        method, path, body = "POST", f"/invoices/{invoice['id']}/payments", {"amount": "1.00"}
    text = json.dumps(body)[:-1] + (", " if body else "") + f'"{field}": "ab\\ud800cd"}}'
    reply = _raw(api, method, path, text)
    assert reply.status_code in (400, 422), (reply.status_code, reply.get_data(as_text=True)[:300])
    error = _error(reply, reply.status_code)
    assert "surrogate" in error["message"], error


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bank_details", {"iban": "DE89370400440532013000"}),
        ("bank_details", ["DE89370400440532013000"]),
        ("locale", {"language": "de"}),
        ("locale", ["de_DE"]),
        ("locale", "zz_ZZ"),
        ("locale", "de_DE\u0007"),
        ("bank_details", "IBAN DE89\u0000"),
        ("bank_details", "IBAN DE89\u001b[31m"),
    ],
)
def test_organisation_locale_and_bank_details_are_validated(billing_api, field, value):
    api = billing_api()
    before = api("GET", "/organisation").get_json()
    error = _error(api("PATCH", "/organisation", json={field: value}), 422)
    assert any(detail.get("pointer") == f"/{field}" for detail in error["details"]), error
    assert api("GET", "/organisation").get_json()[field] == before[field]


def test_a_client_locale_must_be_one_cldr_knows(billing_api):
    api = billing_api()
    error = _error(api("POST", "/clients", json={"name": "Ann", "locale": "zz_ZZ"}), 422)
    assert any(detail.get("pointer") == "/locale" for detail in error["details"]), error
    assert api("POST", "/clients", json={"name": "Ann", "locale": "de_DE"}).status_code == 201


def test_a_body_nested_deeper_than_32_levels_is_400(billing_api):
    api = billing_api()
    for depth in (33, 10_000):
        text = '{"name": "Ann", "address": ' + "[" * depth + "]" * depth + "}"
        error = _error(_raw(api, "POST", "/clients", text), 400)
        assert error["code"] == "malformed_json" and "deep" in error["message"], error
    assert api("GET", "/clients").get_json()["total"] == 0


@pytest.mark.parametrize("amount", ["١٠", "１０.００", "10.0\u0660", "12.5\u00b2"])
def test_only_ascii_digits_make_an_amount(billing_api, amount):
    api = billing_api()
    invoice = _issued(api)
    error = _error(api("POST", f"/invoices/{invoice['id']}/payments", json={"amount": amount}), 422)
    assert any(detail.get("pointer") == "/amount" for detail in error["details"]), error
    assert api("GET", f"/invoices/{invoice['id']}").get_json()["totals"]["paid"] == "0.00"


def test_dates_that_disagree_with_the_numbers_are_422_naming_the_field(billing_api):
    """Issue 22 item 4, over HTTP: a future issue date, a payment of 1900 and a credit note of 2000."""
    api = billing_api()
    assert api("PATCH", "/organisation", json=SELLER).status_code == 200
    client = api("POST", "/clients", json=BUYER).get_json()
    draft = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES}).get_json()
    for when in ("2999-01-01", "0001-01-01"):
        error = _error(api("POST", f"/invoices/{draft['id']}/issue", json={"issue_date": when}), 422)
        assert error["code"] == "invalid_date" and error["details"][0]["pointer"] == "/issue_date", error
    invoice = _issued_draft(api, draft)
    error = _error(
        api("POST", f"/invoices/{invoice['id']}/payments", json={"amount": "1.00", "date": "1900-01-01"}), 422
    )
    assert error["code"] == "invalid_date" and error["details"][0]["pointer"] == "/date", error
    reply = api("POST", f"/invoices/{invoice['id']}/credit-notes", json={"issue_date": "2000-01-01"})
    error = _error(reply, 422)
    assert error["code"] == "invalid_date" and error["details"][0]["pointer"] == "/issue_date", error
    assert api("GET", f"/invoices/{invoice['id']}").get_json()["totals"]["balance_due"] == invoice["totals"]["gross"]


def _issued_draft(api, draft: dict) -> dict:
    reply = api("POST", f"/invoices/{draft['id']}/issue")
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


@pytest.mark.parametrize(
    "bank_account",
    [
        {"iban": ["DE02120300000000202051"]},
        {"iban": "DE02120300000000202051", "account_name": "North\u001bwind"},
        {"iban": "DE02120300000000202051", "bic": {"code": "BYLADEM1001"}},
        {"iban": "DE02\u0661120300000000202051"},
    ],
)
def test_bank_account_fields_are_validated_before_they_are_frozen_into_invoices(billing_api, bank_account):
    api = billing_api()
    error = _error(api("PATCH", "/organisation", json={"bank_account": bank_account}), 422)
    assert all(detail["pointer"].startswith("/bank_account") for detail in error["details"]), error
    assert api("GET", "/organisation").get_json().get("bank_account") is None


@pytest.mark.parametrize("quantity", ["١٢", "１２", "1\u00b2"])
def test_only_ascii_digits_make_a_line_amount(billing_api, quantity):
    api = billing_api()
    client = api("POST", "/clients", json=BUYER).get_json()
    lines = [{**LINES[0], "quantity": quantity}]
    error = _error(api("POST", "/invoices", json={"client_id": client["id"], "lines": lines}), 422)
    assert any(detail["pointer"] == "/lines/0/quantity" for detail in error["details"]), error
