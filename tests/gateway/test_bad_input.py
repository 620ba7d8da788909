"""Every bad request gets a 4xx with a JSON body that says what and where."""

from __future__ import annotations

import json

import pytest
import requests


def _error(reply: requests.Response, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    error = reply.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def test_upload_without_token_is_401(stack, example_bytes):
    reply = requests.post(
        f"{stack.base_url}/upload", data=example_bytes, headers={"Content-Type": "application/json"}, timeout=10
    )
    _error(reply, 401, "unauthorized")


def test_upload_with_forged_token_is_401(stack, example_bytes):
    import jwt

    forged = jwt.encode(
        {"sub": "x", "iss": "invoicer-auth", "aud": "invoicer", "exp": 9999999999, "iat": 0},
        "not-the-real-key-not-the-real-key!",
        algorithm="HS256",
    )
    reply = requests.post(
        f"{stack.base_url}/upload",
        data=example_bytes,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {forged}"},
        timeout=10,
    )
    _error(reply, 401, "invalid_token")


def test_malformed_json_is_400_with_position(client):
    reply = client.post(
        "/upload", data=b'{"invoice_number": "X",\n  "lines": [1, 2,]}', headers={"Content-Type": "application/json"}
    )
    error = _error(reply, 400, "malformed_json")
    assert error["details"][0]["line"] == 2


def test_over_the_size_limit_is_413(client):
    body = b'{"notes": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    reply = client.post("/upload", data=body, headers={"Content-Type": "application/json"})
    _error(reply, 413, "payload_too_large")


def test_not_json_is_415(client, example_bytes):
    reply = client.post("/upload", data=example_bytes, headers={"Content-Type": "text/csv"})
    _error(reply, 415, "unsupported_media_type")
    reply = client.post("/upload", files={"file": ("x.png", b"\x89PNG", "image/png")})
    _error(reply, 415, "unsupported_media_type")


def test_schema_violations_are_422_with_pointers(client, example_bytes):
    document = json.loads(example_bytes)
    del document["seller"]["name"]
    document["currency"] = "XYZ"
    document["lines"][1]["quantity"] = "four"
    reply = client.post("/upload", json=document)
    error = _error(reply, 422, "invalid_invoice")
    pointers = {detail["pointer"] for detail in error["details"]}
    assert {"/seller/name", "/currency", "/lines/1/quantity"} <= pointers
    assert all(detail["message"] for detail in error["details"])


def test_due_date_before_issue_date_is_422(client, example_bytes):
    document = json.loads(example_bytes)
    document["due_date"] = "2026-10-01"
    error = _error(client.post("/upload", json=document), 422, "invalid_invoice")
    assert [detail["pointer"] for detail in error["details"]] == ["/due_date"]


def test_legacy_totals_that_do_not_add_up_are_422(client, legacy_bytes):
    document = json.loads(legacy_bytes)
    document["total_amount"] = 358.00
    error = _error(client.post("/upload", json=document), 422, "invalid_invoice")
    detail = next(item for item in error["details"] if item["pointer"] == "/total_amount")
    assert "358" in detail["message"] and "357" in detail["message"]


@pytest.mark.parametrize("params", [{"formats": "pdf,docx"}, {"formats": ""}, {"format": "word"}])
def test_unknown_formats_are_400(client, example_bytes, params):
    reply = client.post("/upload", params=params, data=example_bytes, headers={"Content-Type": "application/json"})
    _error(reply, 400, "invalid_parameter")


def test_multipart_without_file_field_is_400(client, example_bytes):
    reply = client.post("/upload", files={"document": ("x.json", example_bytes, "application/json")})
    _error(reply, 400, "missing_file")


def test_bad_pagination_is_400(client):
    _error(client.get("/jobs", params={"per_page": 1000}), 400, "invalid_parameter")
    _error(client.get("/jobs", params={"page": "first"}), 400, "invalid_parameter")


def test_download_without_fid_is_400(client):
    _error(client.get("/download"), 400, "invalid_parameter")
