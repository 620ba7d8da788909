"""Structured addresses through the invoices API (issue 17): today's free-text
address is accepted and answered as the object {line1, line2, city,
postal_code, region, country_code}; an unknown country is a 422 pointing at
it; the draft preview prints the address lines."""

from __future__ import annotations

import io

import pypdf

from .conftest import BUYER, LINES, SELLER

FIELDS = ("line1", "line2", "city", "postal_code", "region", "country_code")


def _full(address: dict) -> dict:
    """An address as the API answers it: every field of the object, null where empty."""
    return {field: address.get(field) for field in FIELDS}


BERLIN = _full({"line1": "Obere Str. 57", "postal_code": "12209", "city": "Berlin", "country_code": "DE"})


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_a_text_address_is_answered_structured(records_api):
    api = records_api()
    reply = api("POST", "/clients", json={**BUYER, "address": "Obere Str. 57\n12209 Berlin\nGermany"})
    assert reply.status_code == 201, reply.get_json()
    client = reply.get_json()
    assert client["address"] == BERLIN
    assert api("GET", f"/clients/{client['id']}").get_json()["address"] == BERLIN

    unsplit = api("POST", "/clients", json={**BUYER, "name": "Other", "address": "Hof 3\nHinterhaus\nBerlin"})
    assert unsplit.get_json()["address"] == _full({"line1": "Hof 3", "line2": "Hinterhaus\nBerlin"})


def test_a_structured_address_is_kept_and_cleared(records_api):
    api = records_api()
    address = {"line1": "350 Fifth Avenue", "city": "New York", "region": "NY", "postal_code": "10001"}
    reply = api("PATCH", "/organisation", json={**SELLER, "address": {**address, "country_code": "US"}})
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["address"] == _full({**address, "country_code": "US"})
    cleared = api("PATCH", "/organisation", json={"address": None})
    assert cleared.status_code == 200 and cleared.get_json()["address"] is None


def test_an_unknown_country_code_is_422_pointing_at_it(records_api):
    api = records_api()
    for code, problem in (("XX", "unknown_country"), ("de", "pattern")):
        reply = api("POST", "/clients", json={**BUYER, "address": {"line1": "Obere Str. 57", "country_code": code}})
        assert reply.status_code == 422
        error = reply.get_json()["error"]
        assert [(d["pointer"], d["code"]) for d in error["details"]] == [("/address/country_code", problem)]
    unknown = api("POST", "/clients", json={**BUYER, "address": {"street": "Obere Str. 57"}})
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["details"][0]["pointer"] == "/address/street"


def test_draft_ship_to_and_preview_print_the_structured_address(records_api):
    api = records_api()
    assert api("PATCH", "/organisation", json=SELLER).status_code == 200
    client = api("POST", "/clients", json={**BUYER, "address": BERLIN}).get_json()
    ship_to = {"name": "Warehouse", "address": "Lagerweg 3\n75001 Paris\nFrance"}
    reply = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES, "ship_to": ship_to})
    assert reply.status_code == 201, reply.get_json()
    draft = reply.get_json()
    assert draft["ship_to"]["address"] == _full(
        {"line1": "Lagerweg 3", "postal_code": "75001", "city": "Paris", "country_code": "FR"}
    )
    assert draft["buyer"]["address"] == BERLIN

    pdf = api("GET", f"/invoices/{draft['id']}/pdf")
    assert pdf.status_code == 200
    text = _pdf_text(pdf.data)
    for line in ("Obere Str. 57", "12209 Berlin", "Germany", "Lagerweg 3", "75001 Paris", "France", "Bristol"):
        assert line in text
