"""End to end through the gateway on the real stack: upload, wait, download,
and look inside the files."""

from __future__ import annotations

import io

import openpyxl
import pypdf


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_upload_renders_pdf_and_xlsx_with_computed_totals(client, example_bytes):
    reply = client.upload(example_bytes, formats="pdf,xlsx")
    assert reply.status_code == 202, reply.text
    body = reply.json()
    assert body["status"] == "queued"
    assert body["status_url"].endswith(f"/jobs/{body['job_id']}")
    assert reply.headers["Location"] == body["status_url"]

    job = client.wait(body["job_id"])
    assert job["status"] == "done", job
    assert job["error"] is None
    assert job["invoice_number"] == "INV-2026-0001"
    assert job["totals"] == {"currency": "EUR", "net": "280.50", "tax": "50.36", "gross": "330.86"}
    assert sorted(item["format"] for item in job["files"]) == ["pdf", "xlsx"]

    files = {item["format"]: item for item in job["files"]}
    pdf = client.get(files["pdf"]["download_url"])
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert "filename=INV-2026-0001.pdf" in pdf.headers["Content-Disposition"]
    assert len(pdf.content) == files["pdf"]["size"]
    text = _pdf_text(pdf.content)
    assert "Maria Anders" in text
    assert "INV-2026-0001" in text
    assert "330.86" in text

    xlsx = client.get(files["xlsx"]["download_url"])
    assert xlsx.status_code == 200
    assert xlsx.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename=INV-2026-0001.xlsx" in xlsx.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert "Maria Anders" in values
    numbers = [value for value in values if isinstance(value, (int, float)) and not isinstance(value, bool)]
    assert 330.86 in numbers and 280.5 in numbers and 48.64 in numbers


def test_default_format_is_pdf_only(client, example_bytes):
    reply = client.post("/upload", data=example_bytes, headers={"Content-Type": "application/json"})
    assert reply.status_code == 202, reply.text
    job = client.wait(reply.json()["job_id"])
    assert [item["format"] for item in job["files"]] == ["pdf"]


def test_legacy_flat_format_and_legacy_format_parameter(client, legacy_bytes):
    reply = client.post(
        "/upload",
        params={"format": "excel"},
        files={"file": ("legacy_invoice_data.json", legacy_bytes, "application/octet-stream")},
    )
    assert reply.status_code == 202, reply.text
    job = client.wait(reply.json()["job_id"])
    assert job["status"] == "done", job
    assert job["invoice_number"] == "NW-2026-0142"
    assert job["totals"] == {"currency": "USD", "net": "300.00", "tax": "57.00", "gross": "357.00"}
    assert [item["format"] for item in job["files"]] == ["xlsx"]


def test_jobs_list_is_own_newest_first_and_paginated(make_client, example_bytes):
    alice, bob = make_client(), make_client()
    ids = [alice.upload(example_bytes, formats="pdf").json()["job_id"] for _ in range(3)]
    bob_id = bob.upload(example_bytes, formats="pdf").json()["job_id"]

    page = alice.get("/jobs", params={"per_page": 2}).json()
    assert page["total"] == 3
    assert [item["job_id"] for item in page["items"]] == [ids[2], ids[1]]
    second = alice.get("/jobs", params={"per_page": 2, "page": 2}).json()
    assert [item["job_id"] for item in second["items"]] == [ids[0]]
    assert bob_id not in {item["job_id"] for item in page["items"] + second["items"]}


def test_another_users_job_and_files_are_404(make_client, example_bytes):
    owner, stranger = make_client(), make_client()
    job = owner.wait(owner.upload(example_bytes, formats="pdf,xlsx").json()["job_id"])
    assert job["status"] == "done"

    assert stranger.get(f"/jobs/{job['job_id']}").status_code == 404
    for item in job["files"]:
        reply = stranger.get("/download", params={"fid": item["fid"]})
        assert reply.status_code == 404
        assert reply.json()["error"]["code"] == "not_found"
        assert owner.get("/download", params={"fid": item["fid"]}).status_code == 200
    assert owner.get("/download", params={"fid": "no-such-file"}).status_code == 404
    assert owner.get("/jobs/not-a-uuid").status_code == 404


def test_openapi_describes_every_route(stack):
    import requests

    document = requests.get(f"{stack.base_url}/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.1")
    assert {
        "/login",
        "/register",
        "/upload",
        "/jobs",
        "/jobs/{job_id}",
        "/download",
        "/healthz",
        "/readyz",
        "/openapi.json",
    } <= set(document["paths"])


def test_health_and_readiness(stack):
    import requests

    assert requests.get(f"{stack.base_url}/healthz", timeout=10).json() == {"status": "ok"}
    ready = requests.get(f"{stack.base_url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text


def test_a_non_latin_invoice_number_keeps_its_name_in_the_download(client, example_bytes):
    """Issue 22: RFC 6266 ``filename*`` (UTF-8) beside an ASCII ``filename``, not underscores."""
    import json
    from urllib.parse import quote

    document = json.loads(example_bytes)
    document["invoice_number"] = "СЧ-2026-7"
    reply = client.upload(json.dumps(document).encode(), formats="pdf")
    assert reply.status_code == 202, reply.text
    job = client.wait(reply.json()["job_id"])
    assert job["status"] == "done", job
    (pdf,) = job["files"]
    disposition = client.get(pdf["download_url"]).headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote('СЧ-2026-7.pdf')}" in disposition
    assert "filename=" in disposition.replace("filename*=", "")  # an ASCII fallback for old clients
