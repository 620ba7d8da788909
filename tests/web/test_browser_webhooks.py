"""The webhooks page in Chromium (issue 20): an owner adds an endpoint
(a private address is refused beside the field), sees its secret once,
reads the delivery log with every attempt, sends a delivery again, rotates
the secret and removes the endpoint. Every page is screenshot and checked."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
import standardwebhooks
from playwright.sync_api import expect

from ..conftest import accept_invitation, login, register
from ..webhook.conftest import serve_receiver
from .conftest import check_page, sign_in

pytestmark = pytest.mark.integration

LINES = [{"description": "Chai tea", "quantity": "2", "unit_price": "18.00", "tax_rate": "19"}]


def test_an_owner_manages_webhooks_and_reads_the_delivery_log(signed_in, stack, web_user):
    page = signed_in
    receiver = serve_receiver()
    receiver.script = [500]
    try:
        page.get_by_role("link", name="Organisation", exact=True).click()
        page.get_by_role("link", name="Manage webhooks").click()
        expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
        expect(page.get_by_text("No endpoints yet.")).to_be_visible()
        check_page(page, "webhooks")

        page.get_by_label("URL").fill("http://169.254.169.254/latest/meta-data")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.locator("#webhook-url-error")).to_contain_text("link-local")
        expect(page.get_by_label("URL")).to_have_attribute("aria-invalid", "true")

        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("Description").fill("ERP <script>")
        page.get_by_role("button", name="Add endpoint").click()
        secret = page.get_by_label("Secret", exact=True).input_value()
        assert secret.startswith("whsec_")
        expect(page.get_by_text("ERP <script>")).to_be_visible()  # user text shown as text
        check_page(page, "webhooks-secret")
        page.goto(f"{stack.base_url}/app/organisation/webhooks")
        expect(page.locator("tbody tr")).to_have_count(1)
        assert secret not in page.content(), "the secret is shown once"

        # An event: the owner issues an invoice through the API.
        headers = {"Authorization": f"Bearer {web_user.token}"}

        def api(method: str, path: str, **kwargs) -> dict:
            reply = requests.request(method, f"{stack.base_url}{path}", headers=headers, timeout=30, **kwargs)
            assert reply.status_code in (200, 201), reply.text
            return reply.json()

        api("PATCH", "/organisation", json={"name": "Nordwind Studio", "currency": "EUR"})
        client = api("POST", "/clients", json={"name": "Ada Lovelace"})
        draft = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES})
        api("POST", f"/invoices/{draft['id']}/issue")
        got = receiver.wait_for(2, timeout=60)
        standardwebhooks.Webhook(secret).verify(got[-1].body, got[-1].headers)

        page.get_by_role("link", name=receiver.url).click()
        expect(page.get_by_role("heading", name=re.compile("Deliveries to"))).to_be_visible()
        row = page.locator("tbody tr").first
        expect(row).to_contain_text("invoice.issued")
        expect(row).to_contain_text("Delivered")
        expect(row.locator("ol.attempts li")).to_have_count(2)
        expect(row.locator("ol.attempts li").first).to_contain_text("500")
        expect(row.locator("ol.attempts li").nth(1)).to_contain_text("200")
        check_page(page, "webhook-log")
        row.get_by_role("button", name="Send again").click()
        expect(page.get_by_text("The delivery will be sent again in a moment.")).to_be_visible()
        again = receiver.wait_for(3, timeout=30)[-1]
        assert again.headers["webhook-id"] == got[-1].headers["webhook-id"]

        page.get_by_role("link", name="Webhooks", exact=True).click()
        page.get_by_role("button", name="Rotate secret").click()
        rotated = page.get_by_label("Secret", exact=True).input_value()
        assert rotated.startswith("whsec_") and rotated != secret
        expect(page.get_by_text("The previous secret also signs until")).to_be_visible()
        page.get_by_role("button", name="Turn off").click()
        expect(page.get_by_text("Endpoint turned off.")).to_be_visible()
        expect(page.locator("tbody tr").first).to_contain_text("Off")
        page.get_by_role("button", name="Remove").click()
        expect(page.get_by_text("Endpoint removed.")).to_be_visible()
        expect(page.get_by_text("No endpoints yet.")).to_be_visible()
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def test_a_member_who_is_not_an_owner_gets_the_403_page(page, stack, web_user):
    email = f"accountant-{uuid.uuid4().hex[:10]}@example.com"
    invited = web_user.post("/organisation/members", json={"email": email, "role": "accountant"})
    assert invited.status_code == 201, invited.text
    register(stack.base_url, email, "accountant-password-123")
    accept_invitation(stack, email, login(stack.base_url, email, "accountant-password-123"))  # consent (issue 22)
    sign_in(page, stack.base_url, email, "accountant-password-123")
    reply = page.goto(f"{stack.base_url}/app/organisation/webhooks")
    assert reply is not None and reply.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
