"""The records pages in a real browser, over the invoices service that the
test stack runs: a client, a draft with two VAT rates and its totals as the
server computes them, issue, payments, the dashboard, and isolation between
organisations. Every page is screenshot and checked (see check_page)."""

from __future__ import annotations

import io
import re
import time
import uuid
from datetime import date

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from ..conftest import accept_invitation, login, register
from .conftest import check_page, sign_in

pytestmark = pytest.mark.integration


def _framed_pdf_text(page, timeout: float = 60.0) -> str:
    """The text of the PDF the invoice page frames, once it is rendered
    (until then the frame's address answers a page that says it is coming)."""
    frame = page.locator("iframe[title^='PDF of']")
    expect(frame).to_be_visible()
    url = page.url.split("?")[0].rstrip("/") + "/pdf"
    assert frame.get_attribute("src").endswith("/pdf")
    deadline = time.monotonic() + timeout
    while True:
        reply = page.request.get(url)
        if reply.headers["content-type"] == "application/pdf":
            assert "inline" in reply.headers["content-disposition"]
            return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(reply.body())).pages)
        assert reply.status == 200 and "on its way" in reply.text()
        assert time.monotonic() < deadline, "the PDF was not rendered in time"
        time.sleep(0.5)


def test_client_draft_issue_payments_and_dashboard(signed_in, stack, web_user):
    page = signed_in

    # Empty states say what to do next.
    expect(page.get_by_text("No invoices yet")).to_be_visible()
    check_page(page, "dashboard-empty")
    page.get_by_role("link", name="Clients", exact=True).click()
    expect(page.get_by_text("No clients yet")).to_be_visible()
    check_page(page, "clients-empty")

    # The organisation's seller profile.
    page.get_by_role("link", name="Organisation", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Nordwind Studio")
    page.get_by_label("Address line 1").fill("Hafenstraße 1")
    page.get_by_label("Postal code").fill("20457")
    page.get_by_label("City").fill("Hamburg")
    page.get_by_label("Country code").fill("DE")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Organisation saved.")).to_be_visible()
    check_page(page, "organisation")

    # A client.
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("button", name="Add a client").click()
    page.get_by_label("Name", exact=True).fill("Ada <b>Lovelace</b>")  # user text is shown as text
    page.get_by_label("E-mail").fill("ada@example.com")
    page.get_by_label("Currency (ISO code)").fill("EUR")
    page.get_by_label("Payment terms (days)").fill("14")
    check_page(page, "client-form")
    page.get_by_role("button", name="Save client").click()
    expect(page.get_by_role("link", name="Ada <b>Lovelace</b>")).to_be_visible()
    check_page(page, "clients")

    # A draft with two VAT rates; the server recomputes the totals as we type.
    page.get_by_role("link", name="Invoices", exact=True).click()
    expect(page.get_by_text("No invoices yet")).to_be_visible()
    page.get_by_role("button", name="New invoice").click()
    page.get_by_label("Client", exact=True).select_option(label="Ada <b>Lovelace</b>")
    page.get_by_label("Currency").fill("EUR")
    page.locator("#lines-0-description").fill("Design work")
    page.locator("#lines-0-quantity").fill("2")
    page.locator("#lines-0-unit_price").fill("100.005")
    page.locator("#lines-0-tax_rate").fill("19")
    page.get_by_role("button", name="Add a line").click()
    page.locator("#lines-1-description").fill("Printing")
    page.locator("#lines-1-quantity").fill("1")
    page.locator("#lines-1-unit_price").fill("50")
    page.locator("#lines-1-tax_rate").fill("7")
    totals = page.locator("#totals")
    # EN 16931: line nets rounded (200.01), VAT once per rate: 38.00 + 3.50.
    expect(totals).to_contain_text("VAT 19% on €200.01")
    expect(totals).to_contain_text("VAT 7% on €50.00")
    expect(totals.locator("[data-total]")).to_have_text("€291.51")
    # A third line added and removed in place changes the totals and back.
    page.get_by_role("button", name="Add a line").click()
    page.locator("#lines-2-description").fill("Extra")
    page.locator("#lines-2-unit_price").fill("10")
    page.locator("#lines-2-tax_rate").fill("19")
    expect(totals.locator("[data-total]")).to_have_text("€303.41")
    check_page(page, "editor")
    page.get_by_role("button", name="Remove line 3").click()
    expect(totals.locator("[data-total]")).to_have_text("€291.51")
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.locator("[data-amount=gross]")).to_have_text("291.51 EUR")
    invoice_url = page.url
    assert "DRAFT" in _framed_pdf_text(page)  # a preview, rendered on the spot, without a number
    check_page(page, "invoice-draft")

    # Issue: a number from the series, frozen content, the PDF in the page.
    page.get_by_role("button", name="Issue", exact=True).click()
    year = date.today().year
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"INV-{year}-0001")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Issued")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    pdf = _framed_pdf_text(page)
    assert f"INV-{year}-0001" in pdf and "Lovelace" in pdf and "DRAFT" not in pdf
    page.reload()  # the frame shows the rendered PDF now
    check_page(page, "invoice-issued")

    # A partial payment, then the rest.
    page.get_by_label("Amount").fill("100.00")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text("Payment of 100.00 recorded.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Partly paid")
    expect(page.locator("[data-amount=balance]")).to_have_text("191.51 EUR")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("[data-figure=outstanding]")).to_contain_text("191.51")
    expect(page.locator("[data-figure=paid]")).to_contain_text("100.00")
    check_page(page, "dashboard")

    page.goto(invoice_url)
    expect(page.get_by_label("Amount")).to_have_value("191.51")  # the balance is offered
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
    expect(page.locator("[data-amount=balance]")).to_have_text("0.00 EUR")
    activity = page.get_by_role("region", name="Activity")
    expect(activity).to_contain_text(f"Issued as INV-{year}-0001 by {web_user.email}")
    expect(activity).to_contain_text(f"Payment of 191.51 EUR recorded by {web_user.email}")
    expect(activity).not_to_contain_text("payment.recorded")
    check_page(page, "invoice-paid")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("[data-figure=outstanding]")).to_contain_text("0.00")
    expect(page.locator("[data-figure=paid]")).to_contain_text("291.51")
    # The 12-month chart draws the service's series: this month invoiced 291.51 and paid 291.51.
    months = page.locator("figure[aria-labelledby='months-EUR-title'] tbody tr")
    expect(months).to_have_count(12)
    expect(months.last.locator("td.num")).to_have_text(["291.51", "291.51"])

    # The list: search, filters and badges.
    page.get_by_role("link", name="Invoices", exact=True).click()
    expect(page.locator("#invoice-rows")).to_contain_text(f"INV-{year}-0001")
    expect(page.locator("#invoice-rows .badge")).to_have_text("Paid")
    page.get_by_label("Status").select_option("overdue")
    expect(page.get_by_text("No invoice matches these filters")).to_be_visible()
    page.get_by_label("Status").select_option("")
    page.get_by_label("Search").fill("Lovelace")
    expect(page.locator("#invoice-rows")).to_contain_text(f"INV-{year}-0001")
    check_page(page, "invoices")

    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_text("No orders yet")).to_be_visible()
    check_page(page, "orders-empty")


def test_an_order_becomes_a_draft_in_one_click(signed_in, stack, web_user):
    client = web_user.post("/clients", json={"name": "Grace Hopper", "currency": "USD"}).json()
    line = {"description": "Compiler", "quantity": "1", "unit_price": "90", "tax_rate": "0"}
    order = web_user.post("/orders", json={"client_id": client["id"], "lines": [line]})
    assert order.status_code == 201, order.text
    signed_in.get_by_role("link", name="Orders", exact=True).click()
    check_page(signed_in, "orders")
    signed_in.get_by_role("button", name="Make invoice").click()
    expect(signed_in.get_by_role("heading", name="Edit draft")).to_be_visible()
    expect(signed_in.locator("#lines-0-description")).to_have_value("Compiler")
    expect(signed_in.locator("#totals [data-total]")).to_have_text("US$90.00")


def test_another_organisations_invoice_is_a_404_page(signed_in, stack, make_client):
    other = make_client()
    client = other.post("/clients", json={"name": "Someone Else", "currency": "EUR"}).json()
    line = {"description": "Secret", "quantity": "1", "unit_price": "10", "tax_rate": "0"}
    draft = other.post("/invoices", json={"client_id": client["id"], "lines": [line]})
    assert draft.status_code == 201, draft.text
    for path in (f"/app/invoices/{draft.json()['id']}", f"/app/invoices/{draft.json()['id']}/pdf"):
        reply = signed_in.goto(f"{stack.base_url}{path}")
        assert reply.status == 404, path
        expect(signed_in.get_by_role("heading", name="Page not found")).to_be_visible()
        expect(signed_in.get_by_text("Secret")).to_have_count(0)
    assert re.search(r"/app/invoices/", signed_in.url)


def test_a_viewers_write_is_a_403_page(page, stack, web_user, make_client):
    email = f"viewer-{uuid.uuid4().hex[:10]}@example.com"
    invited = web_user.post("/organisation/members", json={"email": email, "role": "viewer"})
    assert invited.status_code == 201, invited.text
    register(stack.base_url, email, "viewer-password-123")
    accept_invitation(stack, email, login(stack.base_url, email, "viewer-password-123"))  # consent (issue 22)
    sign_in(page, stack.base_url, email, "viewer-password-123")
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("button", name="Add a client").click()
    page.get_by_label("Name", exact=True).fill("Not allowed Ltd")
    page.get_by_role("button", name="Save client").click()
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    check_page(page, "error-403")
    page.get_by_role("link", name="Clients", exact=True).click()
    expect(page.get_by_text("Not allowed Ltd")).to_have_count(0)


def test_the_invoice_list_pages_by_cursor_and_keeps_its_place(signed_in, stack, web_user):
    client = web_user.post("/clients", json={"name": "Ada Pager", "currency": "EUR"}).json()
    line = {"description": "Hour", "quantity": "1", "unit_price": "10", "tax_rate": "0"}
    for _ in range(23):
        assert web_user.post("/invoices", json={"client_id": client["id"], "lines": [line]}).status_code == 201
    page = signed_in
    page.get_by_role("link", name="Invoices", exact=True).click()
    rows = page.locator("#invoice-rows tbody tr")
    expect(rows).to_have_count(20)
    expect(page.locator(".pager")).to_contain_text("23 in all")
    expect(page.get_by_role("link", name="Previous")).to_have_count(0)
    # A draft made meanwhile does not push an invoice of the first page onto the next one.
    web_user.post("/invoices", json={"client_id": client["id"], "lines": [line]})
    page.get_by_role("link", name="Next").click()
    expect(rows).to_have_count(3)
    expect(page.get_by_role("link", name="Next")).to_have_count(0)
    page.get_by_role("link", name="Previous").click()
    expect(rows).to_have_count(20)
    expect(page.locator(".pager")).to_contain_text("24 in all")
