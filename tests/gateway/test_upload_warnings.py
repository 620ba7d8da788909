"""Uploads are checked, never refused for it (issue 18): a document whose EN
16931 codes or identifiers fail their checks, or that lacks what an asked
e-invoice's profile needs, renders all the same, with those findings as the
job's ``warnings`` ``[{"pointer", "code", "message"}]``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import render_template

from invoicer.common.jobs import Job
from invoicer.gateway.app import create_app
from invoicer.gateway.routes import upload_warnings
from invoicer.invoice.loader import load_invoice


def _document(example_bytes: bytes, **changes) -> dict:
    document = json.loads(example_bytes)
    for key, value in changes.items():
        target = document
        *parents, last = key.split("__")
        for parent in parents:
            target = target[int(parent)] if parent.isdigit() else target[parent]
        target[int(last) if last.isdigit() else last] = value
    return document


def _flawed(example_bytes: bytes) -> dict:
    """The example with a VAT ID that fails its check digits and a unit code
    outside UN/ECE Rec. 20/21."""
    return _document(example_bytes, seller__vat_id="DE123456789", lines__1__unit_code="BOX")


def _without_countries(example_bytes: bytes) -> dict:
    """The example with structured addresses that name no country."""
    return _document(
        example_bytes,
        seller__address={"line1": "12 Harbour Road", "city": "Bristol", "postal_code": "BS1 4RW"},
        buyer__address={"line1": "Obere Str. 57", "city": "Berlin", "postal_code": "12209"},
    )


def test_warnings_name_each_failed_check_at_its_pointer(example_bytes):
    document = _flawed(example_bytes)
    warnings = upload_warnings(document, load_invoice(document), ["pdf"])
    assert [(item["pointer"], item["code"]) for item in warnings] == [
        ("/seller/vat_id", "invalid_vat_id"),
        ("/lines/1/unit_code", "unknown_unit_code"),
    ]
    assert "DE123456789" in warnings[0]["message"]
    assert "BOX" in warnings[1]["message"]


def test_missing_terms_are_warnings_only_when_an_einvoice_is_asked(example_bytes):
    document = _without_countries(example_bytes)
    invoice = load_invoice(document)
    assert upload_warnings(document, invoice, ["pdf", "xlsx"]) == []
    for formats in (["cii"], ["facturx"], ["pdf", "cii", "facturx"]):
        warnings = upload_warnings(document, invoice, formats)
        assert [(item["pointer"], item["code"]) for item in warnings] == [
            ("/seller/address/country_code", "missing_term"),
            ("/buyer/address/country_code", "missing_term"),
        ], formats
        assert warnings[0]["message"].startswith("BT-40 (BR-09, factur-x)")
        assert warnings[1]["message"].startswith("BT-55 (BR-11, factur-x)")
    ubl = upload_warnings(document, invoice, ["ubl"])
    assert {item["message"].split(" ")[0] for item in ubl} >= {"BT-40", "BT-55", "BT-34", "BT-49", "BT-10"}
    assert all("peppol-ubl" in item["message"] for item in ubl)


def test_the_upload_page_shows_a_jobs_warnings_in_words(offline_settings):
    moment = datetime(2026, 12, 8, tzinfo=UTC)
    job = Job(
        id="6f6e0c1e-3d43-4b8e-9a55-2b1f3c9a7d10",
        owner_id="6f6e0c1e-3d43-4b8e-9a55-2b1f3c9a7d11",
        owner_email="someone@example.com",
        status="failed",
        formats=["pdf"],
        input_fid="x",
        invoice_number="INV-1",
        totals=None,
        files=[],
        error={"code": "render_failed", "message": "no"},
        attempts=1,
        created_at=moment,
        updated_at=moment,
        warnings=[
            {"pointer": "/seller/vat_id", "code": "invalid_vat_id", "message": "seller.vat_id: 'DE1' is not valid"},
            {"pointer": "/lines/1/unit_code", "code": "unknown_unit_code", "message": "'BOX' is not a unit code"},
        ],
    )
    app = create_app(offline_settings)
    with app.test_request_context("/app/upload"):
        html = render_template("uploads/_job.html", job=job, filename="invoice.json")
        clean = render_template("uploads/_job.html", job=job.__class__(**{**job.__dict__, "warnings": []}))
    assert "2 warnings" in html
    assert "seller.vat_id: &#39;DE1&#39; is not valid" in html
    # in words, not a JSON pointer (issue 22: "Line 1: quantity must be a number")
    assert "Line 2: unit code &#39;BOX&#39; is not a unit code" in html
    assert "<code>/lines/1/unit_code</code>" not in html
    assert "warning" not in clean


def test_an_upload_with_failed_checks_renders_and_its_job_lists_them(client, example_bytes):
    reply = client.upload(json.dumps(_flawed(example_bytes)).encode(), formats="pdf")
    assert reply.status_code == 202, reply.text
    job = client.wait(reply.json()["job_id"])
    assert job["status"] == "done", job
    assert [item["format"] for item in job["files"]] == ["pdf"]
    assert [(item["pointer"], item["code"]) for item in job["warnings"]] == [
        ("/seller/vat_id", "invalid_vat_id"),
        ("/lines/1/unit_code", "unknown_unit_code"),
    ]
    assert all(item["message"] for item in job["warnings"])
    listed = client.get("/jobs").json()["items"]
    assert [item["warnings"] for item in listed if item["job_id"] == job["job_id"]] == [job["warnings"]]


def test_a_cii_upload_without_country_codes_lists_bt_40_and_bt_55(client, example_bytes):
    reply = client.upload(json.dumps(_without_countries(example_bytes)).encode(), formats="cii")
    assert reply.status_code == 202, reply.text
    job = client.wait(reply.json()["job_id"])
    assert job["status"] == "done", job
    assert [(item["pointer"], item["code"], item["message"].split(" ")[0]) for item in job["warnings"]] == [
        ("/seller/address/country_code", "missing_term", "BT-40"),
        ("/buyer/address/country_code", "missing_term", "BT-55"),
    ]


def test_a_clean_upload_has_no_warnings(client, example_bytes):
    reply = client.upload(example_bytes, formats="pdf")
    assert reply.status_code == 202, reply.text
    job = client.wait(reply.json()["job_id"])
    assert job["status"] == "done", job
    assert job["warnings"] == []
