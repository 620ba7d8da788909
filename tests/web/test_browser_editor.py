"""The invoice editor in a real browser: a click on "Save draft" right after
an edit is not lost, a bad value marks its field and holds the total back,
unit, discount and ship-to are saved, and the total stays in sight on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import check_page

pytestmark = pytest.mark.integration


def _new_draft(page, stack, web_user) -> None:
    web_user.post("/clients", json={"name": "Edsger Dijkstra", "currency": "EUR"}).raise_for_status()
    page.goto(f"{stack.base_url}/app/invoices/new")
    page.get_by_label("Client", exact=True).select_option(label="Edsger Dijkstra")
    page.locator("#lines-0-description").fill("Structured programming")
    page.locator("#lines-0-quantity").fill("3")
    page.locator("#lines-0-unit_price").fill("100")
    page.locator("#lines-0-tax_rate").fill("19")
    expect(page.locator("#totals [data-total]")).to_have_text("€357.00")


def test_the_first_click_on_save_after_an_edit_saves(signed_in, stack, web_user):
    page = signed_in
    _new_draft(page, stack, web_user)
    page.locator("#lines-0-quantity").fill("4")
    # Press near the button's top edge: pressing moves the focus, the field's
    # change recomputes the totals and shows "Recomputing…"; nothing may move
    # the button away before the button is released.
    # The server's answer is held until the button is released, as on a slow line.
    held = []

    def hold(route) -> None:
        held.append(route)

    page.route("**/app/invoices/totals", hold)
    button = page.get_by_role("button", name="Save draft")
    box = button.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 4)
    page.mouse.down()
    expect(page.locator("#totals-progress")).to_be_visible()
    assert held, "pressing the button did not recompute the totals"
    assert button.bounding_box()["y"] == box["y"], "the button moved between press and release"
    page.mouse.up()
    for route in held:
        route.continue_()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.locator("[data-amount=gross]")).to_have_text("476.00 EUR")


def test_a_bad_value_marks_its_field_and_holds_the_total_back(signed_in, stack, web_user):
    page = signed_in
    _new_draft(page, stack, web_user)
    quantity = page.locator("#lines-0-quantity")
    quantity.fill("three")
    totals = page.locator("#totals")
    expect(totals).to_contain_text("Line 1: quantity must be a number")
    expect(totals.locator("[data-total]")).to_have_text("—")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    check_page(page, "editor-bad-value")
    quantity.fill("3")
    expect(totals.locator("[data-total]")).to_have_text("€357.00")
    expect(quantity).not_to_have_attribute("aria-invalid", "true")
    expect(totals).not_to_contain_text("quantity")


def test_unit_discount_and_ship_to_are_saved(signed_in, stack, web_user):
    page = signed_in
    _new_draft(page, stack, web_user)
    page.locator("#lines-0-unit").fill("hours")
    page.get_by_label("Amount", exact=True).fill("50")
    page.get_by_label("Reason", exact=True).fill("Loyalty")
    expect(page.locator("#totals")).to_contain_text("Allowance: Loyalty")
    # 300 - 50 = 250 net, 19 % VAT (the line's rate): 297.50
    expect(page.locator("#totals [data-total]")).to_have_text("€297.50")
    page.get_by_text("Deliver to another address").click()
    page.get_by_label("Recipient name").fill("Eindhoven lab")
    page.get_by_label("Address line 1").fill("Den Dolech 2")
    page.get_by_label("City").fill("Eindhoven")
    page.get_by_label("Country code").fill("nl")
    check_page(page, "editor-discount-ship-to")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    invoice_id = re.search(r"/app/invoices/([^/?]+)", page.url).group(1)
    invoice = web_user.get(f"/invoices/{invoice_id}").json()
    assert invoice["lines"][0]["unit"] == "hours"
    assert [(a["reason"], a["amount"], a["tax_rate"]) for a in invoice["allowances"]] == [("Loyalty", "50", "19")]
    assert invoice["totals"]["gross"] == "297.50"
    assert invoice["ship_to"]["name"] == "Eindhoven lab"
    assert invoice["ship_to"]["address"]["city"] == "Eindhoven"
    assert invoice["ship_to"]["address"]["country_code"] == "NL"
    # Edited again: the editor shows them, and emptying them removes them.
    page.goto(f"{stack.base_url}/app/invoices/{invoice_id}/edit")
    expect(page.locator("#lines-0-unit")).to_have_value("hours")
    expect(page.get_by_label("Amount", exact=True)).to_have_value(re.compile(r"^50(\.00)?$"))
    expect(page.get_by_label("Recipient name")).to_have_value("Eindhoven lab")
    page.get_by_label("Amount", exact=True).fill("")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    assert web_user.get(f"/invoices/{invoice_id}").json()["allowances"] == []


def test_the_total_stays_in_sight_while_typing_on_a_phone(signed_in, stack, web_user):
    page = signed_in
    page.set_viewport_size({"width": 390, "height": 844})
    _new_draft(page, stack, web_user)
    for _ in range(3):
        page.get_by_role("button", name="Add a line").click()
    last = page.locator("#lines-3-description")
    last.fill("Far down the form")
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()
    expect(page.locator("#totals [data-total]")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Save draft")).to_be_in_viewport()
