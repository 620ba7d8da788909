"""The Organisation page shows how each series numbers its documents and lets
an owner change a series' prefix and format (issue 22), saying why a change
is refused."""

from __future__ import annotations

import json
from datetime import date

import pytest
from playwright.sync_api import expect

from .conftest import check_page

pytestmark = pytest.mark.integration

YEAR = date.today().year


def test_an_owner_sets_the_invoice_prefix_on_the_organisation_page(signed_in, stack, web_user, example_bytes):
    page = signed_in
    page.goto(f"{stack.base_url}/app/organisation")
    invoices = page.locator("tr[data-series=invoices]")
    expect(invoices).to_contain_text(f"INV-{YEAR}-0001")
    expect(page.locator("tr[data-series=credit_notes]")).to_contain_text(f"CN-{YEAR}-0001")

    page.get_by_label("Prefix of invoices").fill("ACME")
    page.get_by_label("Format of invoices").fill("{prefix}/{year}/{seq:05d}")
    page.get_by_role("button", name="Save invoices numbering").click()
    expect(page.get_by_text(f"next ACME/{YEAR}/00001")).to_be_visible()
    expect(invoices).to_contain_text(f"ACME/{YEAR}/00001")
    check_page(page, "organisation-numbering")

    page.get_by_label("Format of invoices").fill("{prefix}-{seq}")
    page.get_by_role("button", name="Save invoices numbering").click()
    expect(page.get_by_text("Numbering not saved: the format needs {year}")).to_be_visible()

    # A number the organisation already holds (imported, in another case) cannot come round again.
    document = {**json.loads(example_bytes), "invoice_number": f"nw-{YEAR}-0001"}
    assert web_user.post("/invoices/import", json=document).status_code == 201
    page.get_by_label("Prefix of credit notes").fill("NW")
    page.get_by_role("button", name="Save credit notes numbering").click()
    expect(page.get_by_text(f"Numbering not saved: the credit_notes series would issue NW-{YEAR}-0001")).to_be_visible()
    expect(page.locator("tr[data-series=credit_notes]")).to_contain_text(f"CN-{YEAR}-0001")
