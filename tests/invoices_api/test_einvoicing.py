"""E-invoices of issued records (issue 18): the client's choice, refused before
numbering when the records cannot meet it, Factur-X for an "auto" client whose
records are complete, the XML kept and served beside the PDF, and the identifiers
checked (VAT ID check digits, IBAN mod 97) with pointers."""

from __future__ import annotations

import uuid

import pytest

from invoicer.invoice.einvoice.validation import validate

from .conftest import BUYER, LINES, SELLER, assert_error, fetch_document, mails_to, new_client

#: A seller and buyer complete for EN 16931 (country codes, a valid VAT ID, an IBAN).
COMPLETE_SELLER = {
    **SELLER,
    "address": {"line1": "Hafenstr. 12", "city": "Hamburg", "postal_code": "20457", "country_code": "DE"},
    "vat_id": "DE123456788",
    "contact": {"name": "Ana Silva", "phone": "+49 40 123456", "email": "ana@northwind.example"},
    "electronic_address": {"scheme": "EM", "value": "billing@northwind.example"},
    "bank_account": {"iban": "DE02120300000000202051", "bic": "BYLADEM1001", "account_name": "Northwind Traders"},
}
GERMAN_ADDRESS = {"line1": "Obere Str. 57", "city": "Berlin", "postal_code": "12209", "country_code": "DE"}


def _seller(api) -> None:
    reply = api("PATCH", "/organisation", json=COMPLETE_SELLER)
    assert reply.status_code == 200, reply.get_json()


def test_a_client_asking_for_xrechnung_without_a_leitweg_id_is_refused_before_numbering(records_api):
    api = records_api()
    _seller(api)
    client = api("POST", "/clients", json={**BUYER, "address": GERMAN_ADDRESS, "e_invoice": "xrechnung-ubl"})
    assert client.status_code == 201, client.get_json()
    assert client.get_json()["e_invoice"] == "xrechnung-ubl"
    draft = api("POST", "/invoices", json={"client_id": client.get_json()["id"], "lines": LINES}).get_json()
    reply = api("POST", f"/invoices/{draft['id']}/issue")
    assert reply.status_code == 422, reply.get_json()
    error = reply.get_json()["error"]
    assert error["code"] == "e_invoice_incomplete"
    by_rule = {detail["code"]: detail for detail in error["details"]}
    assert by_rule["BR-DE-15"]["pointer"] == "/buyer_reference" and "BT-10" in by_rule["BR-DE-15"]["message"]
    assert "PEPPOL-EN16931-R010" in by_rule  # the buyer's electronic address
    again = api("GET", f"/invoices/{draft['id']}").get_json()
    assert again["status"] == "draft" and again["number"] is None  # nothing issued, no number used


def test_identifiers_are_checked_with_pointers(records_api):
    api = records_api()
    bad_vat = api("POST", "/clients", json={**BUYER, "vat_id": "DE123456789"})
    error = assert_json_error(bad_vat, 422, "invalid_party")
    assert [(d["pointer"], d["code"]) for d in error["details"]] == [("/vat_id", "invalid_vat_id")]
    bad_iban = api("PATCH", "/organisation", json={**SELLER, "bank_account": {"iban": "DE02120300000000202052"}})
    error = assert_json_error(bad_iban, 422, "invalid_party")
    assert [(d["pointer"], d["code"]) for d in error["details"]] == [("/bank_account/iban", "invalid_iban")]
    bad_locale = api("POST", "/clients", json={**BUYER, "locale": "zz_ZZ"})
    assert assert_json_error(bad_locale, 422)["details"][0]["pointer"] == "/locale"
    bad_choice = api("POST", "/clients", json={**BUYER, "e_invoice": "zugferd"})
    assert assert_json_error(bad_choice, 422)["details"][0]["pointer"] == "/e_invoice"


def assert_json_error(reply, status: int, code: str | None = None) -> dict:
    assert reply.status_code == status, reply.get_json()
    error = reply.get_json()["error"]
    if code is not None:
        assert error["code"] == code, error
    return error


@pytest.mark.integration
def test_an_auto_client_with_complete_records_gets_a_factur_x_pdf(seller):
    seller.ok("PATCH", "/organisation", json=COMPLETE_SELLER)
    client = new_client(seller, address=GERMAN_ADDRESS, locale="de_DE")
    draft = seller.ok("POST", "/invoices", 201, json={"client_id": client["id"], "lines": LINES})
    issued = seller.ok("POST", f"/invoices/{draft['id']}/issue")
    assert issued["e_invoice"] == {"profile": "factur-x", "warnings": []}
    assert [item["format"] for item in issued["files"]] == ["pdf", "xlsx", "cii"]
    pdf = fetch_document(seller, f"/invoices/{draft['id']}/pdf")
    assert pdf.headers["Content-Disposition"].endswith(f"{issued['number']}.pdf")
    report = validate(pdf.content)
    assert report.attachment == "factur-x.xml" and report.valid, [(f.rule, f.text) for f in report.fatal]
    cii = fetch_document(seller, f"/invoices/{draft['id']}/cii")
    assert validate(cii.content).valid
    assert f"<ram:GrandTotalAmount>{issued['totals']['gross']}</ram:GrandTotalAmount>" in cii.text


@pytest.mark.integration
def test_an_auto_client_with_incomplete_records_gets_the_pdf_and_the_missing_terms(seller):
    client = new_client(seller)  # free-text address: no country code
    draft = seller.ok("POST", "/invoices", 201, json={"client_id": client["id"], "lines": LINES})
    issued = seller.ok("POST", f"/invoices/{draft['id']}/issue")
    assert issued["e_invoice"]["profile"] is None
    warnings = {(item["term"], item["rule"]) for item in issued["e_invoice"]["warnings"]}
    assert ("BT-55", "BR-11") in warnings  # the buyer's country
    assert [item["format"] for item in issued["files"]] == ["pdf", "xlsx"]
    assert_error(seller("GET", f"/invoices/{draft['id']}/cii"), 404)


@pytest.mark.integration
@pytest.mark.parametrize(("choice", "xml"), [("factur-x", None), ("xrechnung-ubl", "ubl.xml")])
def test_sending_attaches_what_the_client_takes(stack, seller, choice, xml):
    seller.ok("PATCH", "/organisation", json=COMPLETE_SELLER)
    address = f"ap-{uuid.uuid4().hex[:10]}@example.com"
    client = new_client(
        seller,
        email=address,
        address=GERMAN_ADDRESS,
        e_invoice=choice,
        buyer_reference="04011000-12345-34",
        electronic_address={"scheme": "EM", "value": address},
    )
    draft = seller.ok("POST", "/invoices", 201, json={"client_id": client["id"], "lines": LINES})
    issued = seller.ok("POST", f"/invoices/{draft['id']}/issue")
    assert issued["e_invoice"]["profile"] == choice
    seller.ok("POST", f"/invoices/{draft['id']}/send")
    (mail,) = mails_to(stack, address)
    files = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
    pdf = files.pop(f"{issued['number']}.pdf")
    if xml is None:  # Factur-X: the XML travels inside the PDF/A-3
        assert files == {}
        assert validate(pdf).attachment == "factur-x.xml"
    else:  # XRechnung: the XML beside the PDF
        (name,) = files
        assert name == f"{issued['number']}.{xml}"
        report = validate(files[name])
        assert report.valid and "xrechnung" in report.specification, [(f.rule, f.text) for f in report.fatal]


@pytest.mark.integration
def test_the_mail_speaks_the_clients_language(stack, seller):
    seller.ok("PATCH", "/organisation", json=COMPLETE_SELLER)
    address = f"de-{uuid.uuid4().hex[:10]}@example.com"
    client = new_client(seller, email=address, address=GERMAN_ADDRESS, locale="de_DE", e_invoice="none")
    draft = seller.ok("POST", "/invoices", 201, json={"client_id": client["id"], "lines": LINES})
    issued = seller.ok("POST", f"/invoices/{draft['id']}/issue")
    seller.ok("POST", f"/invoices/{draft['id']}/send")
    (mail,) = mails_to(stack, address)
    assert mail["Subject"] == f"Rechnung {issued['number']} von {COMPLETE_SELLER['name']}"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"hat Ihnen die Rechnung {issued['number']} gesendet" in text
    assert "Zahlbetrag: 330.86 EUR bis" in text


@pytest.mark.integration
def test_an_organisation_can_ask_payers_to_quote_an_rf_creditor_reference(seller):
    from stdnum import iso11649

    seller.ok("PATCH", "/organisation", json={**COMPLETE_SELLER, "payment_reference": "rf"})
    client = new_client(seller, address=GERMAN_ADDRESS)
    draft = seller.ok("POST", "/invoices", 201, json={"client_id": client["id"], "lines": LINES})
    issued = seller.ok("POST", f"/invoices/{draft['id']}/issue")
    reference = issued["payment_reference"]
    assert reference.startswith("RF") and iso11649.is_valid(reference)
    assert reference.endswith(issued["number"].replace("-", ""))
    cii = fetch_document(seller, f"/invoices/{draft['id']}/cii").text
    assert f"<ram:PaymentReference>{reference}</ram:PaymentReference>" in cii  # BT-83


@pytest.mark.integration
def test_allowances_charges_and_the_invoicing_period_are_in_the_totals_and_the_xml(seller):
    seller.ok("PATCH", "/organisation", json=COMPLETE_SELLER)
    client = new_client(seller, address=GERMAN_ADDRESS)
    draft = seller.ok(
        "POST",
        "/invoices",
        201,
        json={
            "client_id": client["id"],
            "lines": LINES,
            "allowances": [{"amount": "10.00", "reason": "Loyalty discount", "tax_rate": "19"}],
            "charges": [{"amount": "4.90", "reason": "Freight", "tax_rate": "19"}],
            "invoicing_period": {"start": "2026-10-01", "end": "2026-10-31"},
        },
    )
    # LINES: 256.00 at 19 % and 24.50 at 7 %; -10 + 4.90 at 19 % -> 250.90: VAT 47.67 + 1.72.
    assert draft["totals"]["net"] == "275.40" and draft["totals"]["gross"] == "324.79"
    assert draft["invoicing_period"] == {"start": "2026-10-01", "end": "2026-10-31"}
    issued = seller.ok("POST", f"/invoices/{draft['id']}/issue")
    assert issued["totals"]["gross"] == "324.79" and issued["e_invoice"]["profile"] == "factur-x"
    assert [item["reason"] for item in issued["allowances"]] == ["Loyalty discount"]
    cii = fetch_document(seller, f"/invoices/{draft['id']}/cii")
    report = validate(cii.content)
    assert report.valid, [(f.rule, f.text) for f in report.fatal]
    for tag, amount in (
        ("AllowanceTotalAmount", "10.00"),
        ("ChargeTotalAmount", "4.90"),
        ("GrandTotalAmount", "324.79"),
    ):
        assert f"<ram:{tag}>{amount}</ram:{tag}>" in cii.text
    assert "<ram:BillingSpecifiedPeriod>" in cii.text


def test_a_draft_has_no_e_invoice_yet(records_api):
    api = records_api()
    _seller(api)
    client = api("POST", "/clients", json={**BUYER, "address": GERMAN_ADDRESS}).get_json()
    draft = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES}).get_json()
    assert api("GET", f"/invoices/{draft['id']}/pdf").data.startswith(b"%PDF")
    for fmt in ("cii", "ubl", "facturx"):
        reply = api("GET", f"/invoices/{draft['id']}/{fmt}")
        assert reply.status_code == 409 and reply.get_json()["error"]["code"] == "not_issued", fmt
