"""The invoice page in a real browser: a credit note for some lines."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from .conftest import check_page

pytestmark = pytest.mark.integration


def test_a_credit_note_for_some_lines_with_its_reason(signed_in, stack, web_user):
    page = signed_in
    seller = {"name": "Nordwind Studio", "address": "Hafenstraße 1\n20457 Hamburg\nDE"}
    profile = requests.patch(f"{stack.base_url}/organisation", json=seller, headers=web_user.headers, timeout=30)
    assert profile.status_code == 200, profile.text
    client = web_user.post("/clients", json={"name": "Barbara Liskov", "currency": "EUR"}).json()
    lines = [
        {"description": "Consulting", "quantity": "10", "unit_price": "100", "tax_rate": "19"},
        {"description": "Travel", "quantity": "1", "unit_price": "50", "tax_rate": "19"},
    ]
    draft = web_user.post("/invoices", json={"client_id": client["id"], "lines": lines})
    assert draft.status_code == 201, draft.text
    issued = web_user.post(f"/invoices/{draft.json()['id']}/issue")
    assert issued.status_code == 200, issued.text
    page.goto(f"{stack.base_url}/app/invoices/{draft.json()['id']}")
    check_page(page, "invoice-credit-form")

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_label("Reason").fill("Two days not worked")
    page.get_by_label("Quantity to credit of line 1").fill("2")
    page.get_by_role("button", name="Issue a credit note for these quantities").click()
    expect(page.locator(".notice-success")).to_have_text(re.compile(r"Credit note CN-\d{4}-\d{4} issued"))

    invoice = web_user.get(f"/invoices/{draft.json()['id']}").json()
    (note,) = invoice["credit_notes"]
    assert note["gross"] == "238.00"  # 2 x 100.00 + 19 % VAT; the travel line is kept
    assert invoice["totals"]["balance_due"] == "1011.50"  # 1249.50 - 238.00
    credit = web_user.get(f"/invoices/{note['id']}").json()
    assert [(line["description"], line["quantity"]) for line in credit["lines"]] == [("Consulting", "2")]
    assert credit["reason"] == "Two days not worked"
    expect(page.get_by_role("region", name="Activity")).to_contain_text(f"by {web_user.email}")

    # Nothing typed: nothing credited, and the page says why.
    page.get_by_role("button", name="Issue a credit note for these quantities").click()
    expect(page.get_by_text("type the quantity to credit on at least one line")).to_be_visible()
    assert len(web_user.get(f"/invoices/{draft.json()['id']}").json()["credit_notes"]) == 1


def test_an_order_taken_in_the_web_app_becomes_a_draft(signed_in, stack, web_user):
    page = signed_in
    web_user.post("/clients", json={"name": "Frances Allen", "currency": "EUR"}).raise_for_status()
    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_role("link", name="New order").first.click()
    page.get_by_label("Client", exact=True).select_option(label="Frances Allen")
    page.locator("#lines-0-description").fill("Optimising compiler")
    page.locator("#lines-0-unit_price").fill("abc")
    page.locator("#lines-0-tax_rate").fill("19")
    page.get_by_role("button", name="Save order").click()
    expect(page.get_by_role("heading", name="New order")).to_be_visible()  # refused, shown again
    expect(page.locator("#lines-0-unit_price")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lines-0-unit_price-error")).to_have_text(re.compile(r"^must be a decimal number"))
    check_page(page, "order-form-refused")
    page.locator("#lines-0-unit_price").fill("1200")
    page.get_by_role("button", name="Add a line").click()
    page.locator("#lines-1-description").fill("Support")
    page.locator("#lines-1-unit_price").fill("100")
    page.locator("#lines-1-tax_rate").fill("19")
    page.get_by_role("button", name="Save order").click()
    expect(page.get_by_text("Order saved.")).to_be_visible()
    (order,) = web_user.get("/orders").json()["items"]
    assert [line["description"] for line in order["lines"]] == ["Optimising compiler", "Support"]
    page.get_by_role("button", name="Make invoice").click()
    expect(page.locator("#totals [data-total]")).to_have_text("€1,547.00")
