"""The web app's client and organisation forms carry the e-invoicing fields
(issue 18): the e-invoice a client takes, its buyer reference (Leitweg-ID),
language and electronic address; the seller's bank account, payment reference,
tax number, contact and electronic address — sent to the invoices service as
the API's objects, and shown again with the service's errors."""

from __future__ import annotations

from invoicer.gateway.app import create_app
from invoicer.gateway.web import pages, session

from .test_app_inprocess import _csrf, _token


class _Records:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict]] = []

    def get(self, path: str, **params):
        if path == "/organisation/members":
            return {"items": []}
        if path == "/organisation":
            return {"name": "Northwind", "payment_reference": "invoice_number"}
        return {"items": [], "total": 0}

    def post(self, path: str, body: dict):
        self.sent.append(("POST", path, body))
        return {"id": "c1", "name": body.get("name", "")}

    def patch(self, path: str, body: dict):
        self.sent.append(("PATCH", path, body))
        return body


def _signed_in(app_client, monkeypatch):
    fake = _Records()
    monkeypatch.setattr(pages, "records", lambda: fake)
    client = app_client(create_app)
    token = _csrf(client)
    client.set_cookie(session.COOKIE, _token(), path="/app/")
    return client, token, fake


def test_a_client_is_saved_with_its_e_invoicing_fields(app_client, monkeypatch):
    client, token, fake = _signed_in(app_client, monkeypatch)
    page = client.get("/app/clients/new").get_data(as_text=True)
    for label in ("E-invoice the client takes", "Buyer reference", "Electronic address scheme"):
        assert label in page
    assert '<option value="xrechnung-ubl">XRechnung, UBL</option>' in page
    reply = client.post(
        "/app/clients/new",
        data={
            "csrf_token": token,
            "name": "Stadt Musterhausen",
            "e_invoice": "xrechnung-ubl",
            "buyer_reference": "04011000-12345-34",
            "locale": "de_DE",
            "electronic_address_scheme": "0204",
            "electronic_address_value": "04011000-12345-34",
        },
    )
    assert reply.status_code == 302
    ((method, path, body),) = fake.sent
    assert (method, path) == ("POST", "/clients")
    assert body["e_invoice"] == "xrechnung-ubl" and body["buyer_reference"] == "04011000-12345-34"
    assert body["locale"] == "de_DE"
    assert body["electronic_address"] == {"scheme": "0204", "value": "04011000-12345-34"}


def test_the_seller_profile_sends_its_bank_account_and_payment_reference(app_client, monkeypatch):
    client, token, fake = _signed_in(app_client, monkeypatch)
    page = client.get("/app/organisation").get_data(as_text=True)
    assert "What payers quote" in page and 'name="bank_account_iban"' in page
    reply = client.post(
        "/app/organisation",
        data={
            "csrf_token": token,
            "name": "Northwind",
            "bank_account_iban": "DE02 1203 0000 0000 2020 51",
            "bank_account_bic": "BYLADEM1001",
            "payment_reference": "rf",
            "contact_name": "Ana Silva",
            "tax_number": "22/815/08154",
        },
    )
    assert reply.status_code == 302
    ((method, path, body),) = fake.sent
    assert (method, path) == ("PATCH", "/organisation")
    assert body["bank_account"] == {"iban": "DE02 1203 0000 0000 2020 51", "bic": "BYLADEM1001"}
    assert body["payment_reference"] == "rf" and body["contact"] == {"name": "Ana Silva"}
    assert body["tax_number"] == "22/815/08154" and body["electronic_address"] is None
