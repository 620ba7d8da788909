"""The expenses pages in a real browser (issue 19): files uploaded with a progress bar
each, read by the intake worker, then reviewed with the document beside its fields (boxes
drawn where each was read, low-confidence ones marked), corrected, submitted with a
duplicate confirmed, approved and paid. Every page is screenshot and checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import check_page

pytestmark = pytest.mark.integration

RECEIVED = Path(__file__).resolve().parents[2] / "examples" / "received"


def _open_when_read(page, name: str, timeout_ms: int = 240_000) -> None:
    """Wait until the list shows the row of ``name`` read (not "Being read"), open it."""
    row = page.locator("#expense-rows tr", has_text=name)
    expect(row.locator(".badge").first).not_to_have_text("Being read", timeout=timeout_ms)
    row.get_by_role("link").click()


def test_upload_review_correct_submit_approve_and_pay(signed_in, stack):
    page = signed_in
    page.get_by_role("link", name="Expenses").click()
    expect(page.get_by_role("heading", name="Expenses", level=1)).to_be_visible()
    check_page(page, "expenses-empty")

    page.set_input_files("#expense-files", [str(RECEIVED / "stationery-scan.jpg"), str(RECEIVED / "EN16931_Miete.pdf")])
    page.get_by_role("button", name="Upload").click()
    progress = page.locator("#expense-progress li")
    expect(progress).to_have_count(2)
    expect(progress.nth(0)).to_contain_text("received, being read", timeout=60_000)
    expect(progress.nth(1)).to_contain_text("received, being read", timeout=60_000)
    expect(page.locator("#expense-rows tr", has_text="Papeterie Martin SARL")).to_be_visible(timeout=240_000)
    expect(page.locator("#expense-rows tr", has_text="MUSTER-Autovermietung")).to_be_visible(timeout=240_000)
    check_page(page, "expenses-list")

    # The scan: read by OCR, its fields boxed on the page image; the dates below 0.9 are marked.
    _open_when_read(page, "Papeterie Martin SARL")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Needs review")
    image = page.get_by_role("img", name="Page 1 of the document")
    expect(image).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 500", image.element_handle())
    assert page.locator("svg.boxes rect").count() >= 5
    assert page.locator("svg.boxes rect.low").count() >= 1
    expect(page.locator(".field-low", has=page.get_by_label(re.compile("^Issue date")))).to_have_count(1)
    check_page(page, "expense-review")

    page.get_by_label(re.compile("^Issue date")).fill("2026-11-16")
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("label[for=field-issue_date] .source")).to_contain_text("person, 100 %")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Submitted")
    page.get_by_role("button", name="Approve").click()  # the only member may approve their own
    expect(page.get_by_role("heading", level=1)).to_contain_text("Approved")
    page.get_by_label("Paid on").fill("2026-12-01")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")


def test_a_duplicate_needs_a_tick_before_it_is_submitted(signed_in, stack):
    page = signed_in
    page.goto(f"{stack.base_url}/app/expenses")
    for _ in range(2):
        page.set_input_files("#expense-files", str(RECEIVED / "EN16931_Miete.pdf"))
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("#expense-progress li").last).to_contain_text("received", timeout=60_000)
    rows = page.locator("#expense-rows tr", has_text="MUSTER-Autovermietung")
    expect(rows).to_have_count(2, timeout=120_000)
    expect(page.locator("#expense-rows .badge", has_text="1 warning")).to_be_visible(timeout=120_000)
    page.locator("#expense-rows tr", has_text="1 warning").get_by_role("link").click()
    expect(page.get_by_role("alert").filter(has_text="looks like a duplicate")).to_be_visible()
    tick = page.get_by_label("I have checked: duplicate")
    expect(tick).to_have_attribute("required", "")
    tick.check()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Submitted")
    check_page(page, "expense-duplicate-submitted")


def test_the_review_page_offers_a_decision_only_to_who_may_make_it(signed_in, stack, web_user):
    """With an accountant beside the owner, the owner's own submission shows no Approve
    button (the API would refuse it: own_submission) while the accountant's does."""
    from tests.expenses.conftest import join
    from tests.invoices_api.conftest import User

    owner = User(stack.base_url, web_user.email, web_user.token)
    accountant = join(stack, owner, "accountant")
    fields = {"supplier_name": "Kanzlei Weber", "issue_date": "2026-11-25", "currency": "EUR", "total_gross": "238.00"}
    own = owner.ok("POST", "/expenses", 201, json={**fields, "invoice_number": "KW-1"})
    owner.ok("POST", f"/expenses/{own['id']}/submit", json={})
    theirs = accountant.ok("POST", "/expenses", 201, json={**fields, "invoice_number": "KW-2"})
    accountant.ok("POST", f"/expenses/{theirs['id']}/submit", json={})

    page = signed_in
    page.goto(f"{stack.base_url}/app/expenses/{own['id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Submitted")
    expect(page.get_by_text("nobody decides on what they submitted")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    check_page(page, "expense-own-submission")

    page.goto(f"{stack.base_url}/app/expenses/{theirs['id']}")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Approved")
