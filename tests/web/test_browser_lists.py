"""The lists in a real browser (issue 22, "Lists"): the invoice and client
lists on a phone, amounts as the organisation's locale writes them, credit
notes labelled and signed, the client search."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from .conftest import check_page

pytestmark = pytest.mark.integration


def _downloaded_rows(page, link_name: str) -> tuple[str, list[dict[str, str]]]:
    """Click the link ``link_name``; the downloaded CSV's file name and rows."""
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    download = info.value
    text = Path(download.path()).read_bytes().decode("utf-8-sig")
    return download.suggested_filename, list(csv.DictReader(io.StringIO(text, newline="")))


def _set_organisation(stack, web_user, **profile: str) -> None:
    answer = requests.patch(f"{stack.base_url}/organisation", json=profile, headers=web_user.headers, timeout=30)
    assert answer.status_code == 200, answer.text


def _issued(web_user, client_id: str, unit_price: str) -> dict:
    lines = [{"description": "Consulting", "quantity": "1", "unit_price": unit_price, "tax_rate": "10"}]
    draft = web_user.post("/invoices", json={"client_id": client_id, "lines": lines})
    assert draft.status_code == 201, draft.text
    issued = web_user.post(f"/invoices/{draft.json()['id']}/issue")
    assert issued.status_code == 200, issued.text
    return issued.json()


def test_the_invoice_list_on_a_phone_with_amounts_in_the_locale_and_signed_credit_notes(signed_in, stack, web_user):
    page = signed_in
    _set_organisation(stack, web_user, name="Kaizen Works", locale="en_US")
    client = web_user.post("/clients", json={"name": "Yukihiro Matsumoto", "currency": "JPY"}).json()
    invoice = _issued(web_user, client["id"], "150000")  # + 10 % VAT = ¥165,000
    credited = web_user.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Cancelled"})
    assert credited.status_code in (200, 201), credited.text
    note_number = credited.json()["credit_note"]["number"]

    page.goto(f"{stack.base_url}/app/invoices")
    invoice_row = page.get_by_role("row").filter(has_text=invoice["number"])
    note_row = page.get_by_role("row").filter(has_text=note_number)
    # JPY has no minor unit; en_US groups by thousands and writes the yen sign first.
    expect(invoice_row.locator("td[data-label=Total]")).to_have_text("¥165,000")
    expect(note_row.locator("td[data-label=Number]")).to_contain_text("Credit note")
    expect(note_row.locator("td[data-label=Total]")).to_have_text("-¥165,000")
    check_page(page, "invoices-list")

    # At 390 px every row is a card: status, total and balance are in sight without scrolling sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    for label in ("Status", "Total", "Balance"):
        cell = invoice_row.locator(f"td[data-label={label}]")
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (label, box)
        assert cell.evaluate("el => el.closest('.table-wrap').scrollWidth <= el.closest('.table-wrap').clientWidth")

    # The list as CSV, with the list's filters: issued and not credited is the credit note only.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{stack.base_url}/app/invoices?status=issued")
    name, rows = _downloaded_rows(page, "Download these as CSV")
    assert name == "invoices.csv"
    assert [(row["number"], row["gross"]) for row in rows] == [(note_number, "-165000")]

    # Another locale writes the same amount its own way.
    _set_organisation(stack, web_user, locale="de_DE")
    page.goto(f"{stack.base_url}/app/invoices")
    expect(invoice_row.locator("td[data-label=Total]")).to_have_text("165.000\u00a0¥")


def test_the_client_list_is_searched_by_name_or_company_and_is_cards_on_a_phone(signed_in, stack, web_user):
    page = signed_in
    for name, company in (("Ada Lovelace", "Analytical Engines"), ("Grace Hopper", "Cobol Ltd"), ("Alan Kay", None)):
        body = {"name": name, "currency": "EUR", **({"company": company} if company else {})}
        assert web_user.post("/clients", json=body).status_code == 201
    page.get_by_role("link", name="Clients", exact=True).click()
    rows = page.locator("#client-rows tbody tr")
    expect(rows).to_have_count(3)

    page.get_by_label("Search clients").fill("cobol")  # the company finds the client
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Grace Hopper")
    expect(page).to_have_url(f"{stack.base_url}/app/clients?q=cobol")
    check_page(page, "clients-search")

    page.get_by_label("Search clients").fill("nobody")
    expect(page.get_by_text("No client matches “nobody”")).to_be_visible()
    page.goto(f"{stack.base_url}/app/clients?q=a")  # a link with a search shows it, searched
    expect(page.get_by_label("Search clients")).to_have_value("a")
    expect(rows).to_have_count(3)

    page.set_viewport_size({"width": 390, "height": 844})
    for label in ("Name", "E-mail", "Currency", "Terms"):
        box = rows.first.locator(f"td[data-label={label}]").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (label, box)

    page.set_viewport_size({"width": 1280, "height": 900})
    name, rows = _downloaded_rows(page, "Download these as CSV")
    assert name == "clients.csv"
    assert [row["name"] for row in rows] == ["Ada Lovelace", "Alan Kay", "Grace Hopper"]
    page.get_by_label("Search clients").fill("engines")
    expect(rows_shown := page.locator("#client-rows tbody tr")).to_have_count(1)
    expect(rows_shown.first).to_contain_text("Ada Lovelace")
    _, rows = _downloaded_rows(page, "Download these as CSV")
    assert [(row["name"], row["company"]) for row in rows] == [("Ada Lovelace", "Analytical Engines")]


def _wait_for_pdf(web_user, invoice_id: str) -> None:
    deadline = time.monotonic() + 60
    while web_user.get(f"/invoices/{invoice_id}/pdf").status_code != 200:
        assert time.monotonic() < deadline, f"the PDF of {invoice_id} was not rendered"
        time.sleep(0.5)


def test_several_invoices_are_downloaded_as_one_zip_and_sent_each_with_what_happened(
    signed_in, stack, web_user, make_client
):
    page = signed_in
    _set_organisation(stack, web_user, name="Kaizen Works", email="billing@kaizen.example")
    mailed = web_user.post("/clients", json={"name": "Barbara Liskov", "email": "b@clu.example", "currency": "EUR"})
    silent = web_user.post("/clients", json={"name": "Niklaus Wirth", "currency": "EUR"})
    first = _issued(web_user, mailed.json()["id"], "100")
    second = _issued(web_user, silent.json()["id"], "200")
    draft = web_user.post("/invoices", json={"client_id": mailed.json()["id"], "lines": []})
    assert draft.status_code == 201, draft.text
    for invoice in (first, second):
        _wait_for_pdf(web_user, invoice["id"])

    page.goto(f"{stack.base_url}/app/invoices")
    check_page(page, "invoices-bulk")
    page.get_by_role("button", name="Download PDFs as ZIP").click()
    expect(page.get_by_text("Tick at least one issued invoice first.")).to_be_visible()

    page.get_by_label(f"Select {first['number']}").check()
    page.get_by_label(f"Select {second['number']}").check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download PDFs as ZIP").click()
    archive = zipfile.ZipFile(Path(info.value.path()))
    names = sorted(archive.namelist())
    assert len(names) == 2 and all(name.endswith(".pdf") for name in names), names
    assert all(archive.read(name).startswith(b"%PDF") for name in names)
    assert any(first["number"] in name for name in names) and any(second["number"] in name for name in names)

    page.get_by_label(f"Select {first['number']}").check()
    page.get_by_label(f"Select {second['number']}").check()
    page.get_by_role("button", name="Send to their clients").click()
    expect(page.get_by_text(f"{first['number']}: sent to the client.")).to_be_visible()
    expect(page.get_by_text(f"{second['number']}: not sent.")).to_contain_text("no e-mail address")
    assert web_user.get(f"/invoices/{first['id']}").json()["status"] == "sent"
    assert web_user.get(f"/invoices/{second['id']}").json()["status"] == "issued"

    # Another organisation's invoice smuggled into the form is neither sent nor zipped.
    stranger = make_client()
    theirs = stranger.post("/clients", json={"name": "Someone Else", "currency": "EUR"}).json()
    their_draft = stranger.post("/invoices", json={"client_id": theirs["id"], "lines": []}).json()
    page.evaluate(
        """id => { const box = document.createElement('input'); box.type = 'checkbox';
                   box.name = 'invoice_id'; box.value = id; box.checked = true;
                   box.setAttribute('form', 'bulk'); document.body.append(box); }""",
        their_draft["id"],
    )
    page.get_by_role("button", name="Download PDFs as ZIP").click()
    expect(page.locator(".notice-error")).to_contain_text(their_draft["id"])
    assert stranger.get(f"/invoices/{their_draft['id']}").json()["status"] == "draft"
