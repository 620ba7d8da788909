"""The web app in a real browser (Debian's chromium through Playwright),
against the stack the test session starts: what a person sees and does."""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import expect

from .conftest import ROOT, check_page, sign_in

pytestmark = pytest.mark.integration


def test_sign_in_upload_a_legacy_file_and_sign_out(page, stack, web_user, legacy_bytes, tmp_path):
    check_page(page.goto(f"{stack.base_url}/app/login") and page, "login")
    page.goto(f"{stack.base_url}/app/register")
    check_page(page, "register")

    sign_in(page, stack.base_url, web_user.email, web_user.password)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text(web_user.email)).to_be_visible()

    page.get_by_role("link", name="Upload", exact=True).click()
    expect(page.get_by_text("No uploads yet")).to_be_visible()
    check_page(page, "upload-empty")
    legacy = tmp_path / "legacy_invoice_data.json"
    legacy.write_bytes(legacy_bytes)
    broken = tmp_path / "broken.json"
    broken.write_text('{"invoice_number": ')
    bad_line = tmp_path / "bad-line.json"
    document = json.loads((ROOT / "examples" / "invoice.json").read_text())
    document["lines"][0]["quantity"] = "three"
    bad_line.write_text(json.dumps(document))
    page.get_by_label("Drop JSON files here").set_input_files([str(legacy), str(broken), str(bad_line)])
    # One way to upload: choosing sends nothing; the button says what it will send.
    expect(page.get_by_text("3 files chosen")).to_be_visible()
    expect(page.get_by_text("No uploads yet")).to_be_visible()
    page.get_by_role("button", name="Upload 3 files").click()

    # A refusal in words, not JSON pointers.
    bad = page.locator(".job", has_text="bad-line.json")
    expect(bad).to_contain_text("Refused")
    expect(bad.locator(".details li").first).to_contain_text(re.compile(r"^Line 1: quantity "))
    expect(bad).not_to_contain_text("lines/0")
    expect(page.get_by_role("button", name="Upload", exact=True)).to_be_visible()  # the chooser is empty again

    refused = page.locator(".job", has_text="broken.json")
    expect(refused).to_contain_text("Refused")
    expect(refused).to_contain_text("not valid JSON")
    job = page.locator(".job", has_text="legacy_invoice_data.json")
    expect(job.get_by_role("button", name="Download PDF")).to_be_visible(timeout=60_000)
    expect(job).to_contain_text("Done")
    check_page(page, "upload-done")

    with page.expect_download() as download:
        job.get_by_role("button", name="Download PDF").click()
    assert download.value.path().read_bytes().startswith(b"%PDF")
    with page.expect_download() as download:
        job.get_by_role("button", name="Download XLSX").click()
    assert download.value.path().read_bytes().startswith(b"PK")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out")).to_be_visible()
    page.goto(f"{stack.base_url}/app/upload")
    expect(page).to_have_url(re.compile(r"/app/login\?next=/app/upload$"))


def test_wrong_password_is_said_on_the_form(page, stack, web_user):
    page.goto(f"{stack.base_url}/app/login")
    page.get_by_label("E-mail").fill(web_user.email)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    check_page(page, "login-failed")


def test_a_form_posted_without_its_csrf_token_is_refused(signed_in, stack):
    reply = signed_in.request.post(
        f"{stack.base_url}/app/upload",
        multipart={"files": {"name": "x.json", "mimeType": "application/json", "buffer": b"{}"}},
    )
    assert reply.status == 400
    assert "did not come from this site" in reply.text()
    signed_in.goto(f"{stack.base_url}/app/upload")
    expect(signed_in.get_by_text("No uploads yet")).to_be_visible()  # nothing was queued


def test_error_pages_are_pages_and_the_api_stays_json(signed_in, stack):
    reply = signed_in.goto(f"{stack.base_url}/app/no/such/page")
    assert reply.status == 404
    expect(signed_in.get_by_role("heading", name="Page not found")).to_be_visible()
    check_page(signed_in, "error-404")
    job = signed_in.goto(f"{stack.base_url}/app/jobs/00000000-0000-4000-8000-000000000000")
    assert job.status == 404
    api = requests.get(f"{stack.base_url}/no/such/route", timeout=10)
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_another_users_job_and_file_are_404_pages(signed_in, stack, make_client, example_bytes):
    other = make_client()
    job = other.wait(other.upload(example_bytes).json()["job_id"])
    for path in (f"/app/jobs/{job['job_id']}", f"/app/files/{job['files'][0]['fid']}"):
        reply = signed_in.goto(f"{stack.base_url}{path}")
        assert reply.status == 404, path
        expect(signed_in.get_by_role("heading", name="Page not found")).to_be_visible()


def test_dashboard_page(signed_in):
    expect(signed_in.get_by_role("heading", name="Dashboard")).to_be_visible()
    check_page(signed_in, "dashboard")


def test_an_upload_can_be_kept_as_an_invoice_record(signed_in, stack, web_user, example_bytes, tmp_path):
    page = signed_in
    example = tmp_path / "invoice.json"
    example.write_bytes(example_bytes)
    page.goto(f"{stack.base_url}/app/upload")
    page.get_by_label("Drop JSON files here").set_input_files([str(example)])
    page.get_by_label("Also keep each file as an invoice record").check()
    page.get_by_role("button", name="Upload").click()
    kept = page.locator("[data-status=imported]")
    expect(kept).to_contain_text("is kept as invoice record INV-2026-0001")
    check_page(page, "upload-imported")
    kept.get_by_role("link", name="INV-2026-0001").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("INV-2026-0001")
    (record,) = web_user.get("/invoices").json()["items"]
    assert record["number"] == "INV-2026-0001" and record["status"] != "draft"
