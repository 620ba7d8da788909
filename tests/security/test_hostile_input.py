"""Oversized and hostile bodies are refused quickly with 413 or a 4xx that
says what is wrong, and the gateway stays up."""

from __future__ import annotations

import json

import pytest


def test_deeply_nested_json_is_400(client):
    body = b"[" * 200_000 + b"]" * 200_000
    reply = client.post("/upload", data=body[:1_000_000], headers={"Content-Type": "application/json"})
    assert reply.status_code in (400, 413)
    assert reply.json()["error"]["code"] in ("malformed_json", "payload_too_large")
    nested = b'{"a":' * 100 + b"1" + b"}" * 100
    reply = client.post("/upload", data=nested, headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    assert "deep" in reply.json()["error"]["message"].lower() or "nest" in reply.json()["error"]["message"].lower()


def test_too_many_lines_is_refused(client, example_bytes):
    document = json.loads(example_bytes)
    line = {"description": "x", "quantity": "1", "unit_price": "1", "tax_rate": "0"}
    document["lines"] = [line] * 10_001
    reply = client.post("/upload", json=document)
    assert reply.status_code in (413, 422)
    if reply.status_code == 422:
        assert reply.json()["error"]["details"][0]["pointer"] == "/lines"
        assert reply.json()["error"]["details"][0]["code"] == "too_many_lines"


def test_a_hundred_thousand_lines_is_413(client, example_bytes):
    document = json.loads(example_bytes)
    document["lines"] = [{"description": "x", "quantity": 1, "unit_price": 1, "tax_rate": 0}] * 100_000
    reply = client.post("/upload", json=document)
    assert reply.status_code == 413


def test_huge_strings_are_refused(client, example_bytes):
    document = json.loads(example_bytes)
    document["notes"] = "x" * 900_000
    reply = client.post("/upload", json=document)
    assert reply.status_code == 422
    assert any(detail["pointer"] == "/notes" for detail in reply.json()["error"]["details"])


def test_huge_numbers_are_refused(client, example_bytes):
    document = json.loads(example_bytes)
    body = json.dumps(document).replace('"quantity": "12"', '"quantity": 1' + "0" * 5000).encode()
    reply = client.post("/upload", data=body, headers={"Content-Type": "application/json"})
    assert reply.status_code in (400, 422)


@pytest.mark.parametrize("body", [b"\xff\xfe\x00garbage", b"null", b"[]", b'"a string"', b"1e999999"])
def test_odd_json_roots_are_refused_clearly(client, body):
    reply = client.post("/upload", data=body, headers={"Content-Type": "application/json"})
    assert reply.status_code in (400, 422), reply.text
    assert reply.json()["error"]["message"]


def test_gateway_still_healthy(stack, client):
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\r"])
def test_an_invoice_number_that_cannot_go_into_a_mail_header_is_422(client, example_bytes, separator):
    """The invoice number is in the mail's Subject and the files' names: a line
    separator there is refused at upload, before any job exists, not retried
    by the mailer forever."""
    document = json.loads(example_bytes)
    document["invoice_number"] = f"INV-2026{separator}0001"
    document["seller"]["vat_id"] = f"GB{separator}123"
    reply = client.post("/upload", json=document)
    assert reply.status_code == 422, reply.text
    details = {(d["pointer"], d["code"]) for d in reply.json()["error"]["details"]}
    assert details == {("/invoice_number", "control_character"), ("/seller/vat_id", "control_character")}
    assert client.get("/jobs").json()["total"] == 0


def test_a_legacy_invoice_number_with_a_line_separator_is_422(client, legacy_bytes):
    document = json.loads(legacy_bytes)
    document["invoice_no"] = "NW-2026\u20280142"
    reply = client.post("/upload", json=document)
    assert reply.status_code == 422, reply.text
    assert [(d["pointer"], d["code"]) for d in reply.json()["error"]["details"]] == [
        ("/invoice_no", "control_character")
    ]


def _largest_eur_invoice(example_bytes: bytes, untaxed: str) -> bytes:
    """Gross 4 000 000 000 000.00 x 1.25 + ``untaxed``: the largest accepted EUR total
    (15 significant digits, what an XLSX cell holds exactly) when untaxed is 4999999999999.99."""
    document = json.loads(example_bytes)
    document["lines"] = [
        {"description": "Taxed", "quantity": "1", "unit_price": "4000000000000.00", "tax_rate": "25"},
        {"description": "Untaxed", "quantity": "1", "unit_price": untaxed, "tax_rate": "0"},
    ]
    return json.dumps(document).encode()


def test_the_largest_accepted_total_is_the_same_in_the_api_the_xlsx_and_the_pdf(client, example_bytes):
    import io
    from decimal import Decimal

    from openpyxl import load_workbook
    from pypdf import PdfReader

    reply = client.upload(_largest_eur_invoice(example_bytes, "4999999999999.99"))
    assert reply.status_code == 202, reply.text
    job = client.wait(reply.json()["job_id"])
    assert job["status"] == "done", job
    assert job["totals"] == {
        "currency": "EUR",
        "net": "8999999999999.99",
        "tax": "1000000000000.00",
        "gross": "9999999999999.99",
    }
    files = {item["format"]: client.get(item["download_url"]).content for item in job["files"]}

    sheet = load_workbook(io.BytesIO(files["xlsx"])).active
    amounts = [c.value for (c,) in sheet.iter_rows(min_col=7, max_col=7) if isinstance(c.value, float | int)]
    assert str(Decimal(repr(amounts[-1])).quantize(Decimal("0.01"))) == job["totals"]["gross"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(files["pdf"])).pages)
    assert "€9,999,999,999,999.99" in text


def test_a_total_beyond_what_every_document_can_show_is_422(client, example_bytes):
    reply = client.upload(_largest_eur_invoice(example_bytes, "5000000000000.00"))
    assert reply.status_code == 422, reply.text
    [detail] = reply.json()["error"]["details"]
    assert (detail["pointer"], detail["code"]) == ("/lines", "amount_too_large")
    assert "(gross) would be 10000000000000.00" in detail["message"]
