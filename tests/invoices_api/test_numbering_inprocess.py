"""Numbering per series (issue 22): an owner sets a series' prefix and format
on the in-process invoices app, never to a number the organisation already
holds (in any case), and the counter keeps running without a gap."""

from __future__ import annotations

import json
from datetime import date

from .conftest import BUYER, LINES, SELLER

YEAR = date.today().year


def _error(reply) -> dict:
    body = reply.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def _issue(api) -> dict:
    client = api("POST", "/clients", json=BUYER).get_json()
    draft = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES}).get_json()
    reply = api("POST", f"/invoices/{draft['id']}/issue", json={})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def _import(api, example: bytes, number: str) -> None:
    document = json.loads(example)
    reply = api("POST", "/invoices/import", json={**document, "invoice_number": number})
    assert reply.status_code == 201, reply.get_json()


def test_an_owner_sets_the_prefix_and_the_series_continues_without_a_gap(billing_api):
    api = billing_api()
    assert api("PATCH", "/organisation", json=SELLER).status_code == 200
    listed = api("GET", "/organisation/numbering").get_json()["items"]
    assert [(s["series"], s["code"], s["prefix"], s["format"], s["next"]) for s in listed] == [
        ("invoices", "INV", "INV", "{prefix}-{year}-{seq:04d}", f"INV-{YEAR}-0001"),
        ("credit_notes", "CN", "CN", "{prefix}-{year}-{seq:04d}", f"CN-{YEAR}-0001"),
    ]
    assert _issue(api)["number"] == f"INV-{YEAR}-0001"

    reply = api("PUT", "/organisation/numbering/invoices", json={"prefix": "NW", "format": "{prefix}/{year}/{seq:05d}"})
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["next"] == f"NW/{YEAR}/00002"
    assert _issue(api)["number"] == f"NW/{YEAR}/00002", "the same counter: no gap, no restart"
    assert api("GET", "/organisation/numbering/invoices").get_json()["next"] == f"NW/{YEAR}/00003"

    # Back to the old format: INV-…-0001 is behind the counter, so nothing would repeat.
    back = api("PUT", "/organisation/numbering/invoices", json={"prefix": "INV", "format": "{prefix}-{year}-{seq:04d}"})
    assert back.status_code == 200 and back.get_json()["next"] == f"INV-{YEAR}-0003"

    # Credit notes have numbered nothing this year: their counter may start elsewhere.
    cn = api(
        "PUT",
        "/organisation/numbering/credit_notes",
        json={"prefix": "CR", "format": "{prefix}{year}-{seq}", "next_number": 42},
    )
    assert cn.status_code == 200, cn.get_json()
    assert (cn.get_json()["next_number"], cn.get_json()["next"]) == (42, f"CR{YEAR}-42")
    invoice = _issue(api)
    assert invoice["number"] == f"INV-{YEAR}-0003"
    credited = api(
        "POST", f"/invoices/{invoice['id']}/credit-notes", json={"lines": [{"position": 1, "quantity": "1"}]}
    )
    assert credited.status_code == 201, credited.get_json()
    assert credited.get_json()["credit_note"]["number"] == f"CR{YEAR}-42"
    assert api("GET", "/organisation/numbering/credit_notes").get_json()["next"] == f"CR{YEAR}-43"
    # Invoices have: moving their counter would leave a gap (or repeat).
    moved = api(
        "PUT",
        "/organisation/numbering/invoices",
        json={"prefix": "INV", "format": "{prefix}-{year}-{seq:04d}", "next_number": 10},
    )
    assert moved.status_code == 409 and _error(moved)["code"] == "sequence_started"
    same = api(
        "PUT",
        "/organisation/numbering/invoices",
        json={"prefix": "INV", "format": "{prefix}-{year}-{seq:04d}", "next_number": 4},
    )
    assert same.status_code == 200, "the current value is no change"


def test_a_format_that_would_repeat_a_number_held_in_any_case_is_refused(billing_api, example_bytes):
    api = billing_api()
    assert api("PATCH", "/organisation", json=SELLER).status_code == 200
    _import(api, example_bytes, f"acme-{YEAR}-0003")  # imported, lower case, ahead of the counter
    reply = api(
        "PUT", "/organisation/numbering/invoices", json={"prefix": "ACME", "format": "{prefix}-{year}-{seq:04d}"}
    )
    error = _error(reply)
    assert reply.status_code == 409 and error["code"] == "number_taken", error
    assert f"ACME-{YEAR}-0003" in error["message"] and f"acme-{YEAR}-0003" in error["message"]
    assert api("GET", "/organisation/numbering/invoices").get_json()["prefix"] == "INV", "nothing changed"
    # Unpadded, the same counter would write ACME-2026-3: another number, accepted.
    ok = api("PUT", "/organisation/numbering/invoices", json={"prefix": "ACME", "format": "{prefix}-{year}-{seq}"})
    assert ok.status_code == 200 and ok.get_json()["next"] == f"ACME-{YEAR}-1"
    # Two series writing numbers of one shape would meet: the later would have to skip, leaving a gap.
    for series, body in (
        ("credit_notes", {"prefix": "acme", "format": "{prefix}-{year}-{seq}"}),  # invoices write ACME-2026-1
        ("invoices", {"prefix": "CN", "format": "{prefix}-{year}-{seq:04d}"}),  # credit notes write CN-2026-0001
    ):
        reply = api("PUT", f"/organisation/numbering/{series}", json=body)
        assert reply.status_code == 409 and _error(reply)["code"] == "series_overlap", (series, reply.get_json())


def test_bad_numbering_is_422_naming_the_field_and_only_owners_change_it(records_api):
    owner = records_api()
    path = "/organisation/numbering/invoices"
    for body, pointer in (
        ({"prefix": "INV", "format": "{prefix}-{seq:04d}"}, "/format"),  # no year: would repeat next year
        ({"prefix": "INV", "format": "{prefix}-{year}"}, "/format"),
        ({"prefix": "INV", "format": "{prefix}-{year}-{seq:04d"}, "/format"),
        ({"prefix": "INV", "format": "{prefix}-{year}-{client}-{seq}"}, "/format"),
        ({"prefix": "INV", "format": "<b>{year}</b>{seq}"}, "/format"),
        ({"prefix": "IN V", "format": "{prefix}-{year}-{seq}"}, "/prefix"),
        ({"prefix": "INV", "format": "{prefix}-{year}-{seq}", "next_number": 0}, "/next_number"),
        ({"prefix": "INV"}, "/format"),
    ):
        reply = owner("PUT", path, json=body)
        error = _error(reply)
        assert reply.status_code == 422 and error["code"] == "invalid_numbering", (body, error)
        assert error["details"][0]["pointer"] == pointer, (body, error)
    assert (
        _error(owner("PUT", "/organisation/numbering/orders", json={"prefix": "O", "format": "{year}{seq}"}))["code"]
        == "series_not_found"
    )
    viewer = records_api.join(owner, f"viewer-numbering-{id(owner):x}@example.com", "viewer")
    reply = viewer("PUT", path, json={"prefix": "V", "format": "{prefix}-{year}-{seq}"})
    assert reply.status_code == 403
    assert viewer("GET", path).get_json()["prefix"] == "INV"
