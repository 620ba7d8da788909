"""The Upload page lists the user's uploads, not the render jobs of the
invoices they issue (issue 22: "uploads and billing renders listed apart")."""

from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import expect

from .conftest import check_page

pytestmark = pytest.mark.integration


def test_the_upload_page_lists_uploads_only(signed_in, stack, web_user, example_bytes):
    page = signed_in
    document = json.loads(example_bytes)
    seller = {**document["seller"], "currency": "EUR"}
    assert requests.patch(f"{stack.base_url}/organisation", json=seller, headers=web_user.headers, timeout=30).ok
    buyer = web_user.post("/clients", json=document["buyer"]).json()
    draft = web_user.post("/invoices", json={"client_id": buyer["id"], "lines": document["lines"]}).json()
    issued = web_user.post(f"/invoices/{draft['id']}/issue", json={})
    assert issued.status_code == 200, issued.text
    (record,) = web_user.get("/jobs").json()["items"]  # the issued invoice's documents are a job too
    assert record["kind"] == "record"

    page.goto(f"{stack.base_url}/app/upload")
    expect(page.get_by_role("heading", name="Your uploads")).to_be_visible()
    expect(page.locator(f"#job-{record['job_id']}")).to_have_count(0)
    expect(page.get_by_text("No uploads yet")).to_be_visible()

    upload = web_user.wait(web_user.upload(example_bytes, formats="pdf").json()["job_id"])
    page.reload()
    expect(page.locator(f"#job-{upload['job_id']}")).to_be_visible()
    expect(page.locator("li.job")).to_have_count(1)
    check_page(page, "upload-list")
