"""Issue 22 item 6: a credit note after a payment leaves money owed to the
client. The invoice says "refund due" until refunds settle it, the refund is
recorded (never more than is due) and the dashboard counts what is due."""

from __future__ import annotations

from .conftest import BUYER, LINES, LINES_GROSS, SELLER


def _paid_then_credited(api) -> dict:
    assert api("PATCH", "/organisation", json=SELLER).status_code == 200
    client = api("POST", "/clients", json=BUYER).get_json()
    draft = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES}).get_json()
    invoice = api("POST", f"/invoices/{draft['id']}/issue").get_json()
    assert api("POST", f"/invoices/{invoice['id']}/payments", json={"amount": LINES_GROSS}).status_code == 201
    # 2 of the 12 boxes of chai credited: 2 x 18.00 + 19 % VAT = 42.84 back to the client
    reply = api("POST", f"/invoices/{invoice['id']}/credit-notes", json={"lines": [{"position": 1, "quantity": "2"}]})
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()["invoice"]


def test_a_credit_note_after_payment_shows_a_refund_due_not_a_negative_balance(billing_api):
    api = billing_api()
    invoice = _paid_then_credited(api)
    totals = invoice["totals"]
    assert totals["balance_due"] == "0.00", "nothing is left to pay; the balance is never negative"
    assert (totals["refunded"], totals["refund_due"]) == ("0.00", "42.84")
    assert "refund" in invoice["actions"]
    figures = api("GET", "/dashboard").get_json()["currencies"]["EUR"]
    assert figures["refunds_due"] == "42.84"


def test_refunds_settle_what_is_due_and_never_more(billing_api):
    api = billing_api()
    invoice = _paid_then_credited(api)
    path = f"/invoices/{invoice['id']}/refunds"
    over = api("POST", path, json={"amount": "42.85"})
    assert over.status_code == 422 and over.get_json()["error"]["code"] == "over_refund"
    assert over.get_json()["error"]["details"][0]["pointer"] == "/amount"
    first = api("POST", path, json={"amount": "40.00", "method": "bank transfer", "reference": "RF-1"})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["refund"]["amount"] == "40.00"
    assert first.get_json()["invoice"]["totals"]["refund_due"] == "2.84"
    rest = api("POST", path, json={"amount": "2.84"}, headers={"Idempotency-Key": "refund-rest"})
    again = api("POST", path, json={"amount": "2.84"}, headers={"Idempotency-Key": "refund-rest"})
    assert rest.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    after = api("GET", f"/invoices/{invoice['id']}").get_json()
    assert (after["totals"]["refunded"], after["totals"]["refund_due"]) == ("42.84", "0.00")
    assert [refund["amount"] for refund in after["refunds"]] == ["40.00", "2.84"]
    assert "refund" not in after["actions"]
    assert api("GET", "/dashboard").get_json()["currencies"]["EUR"]["refunds_due"] == "0.00"
    nothing = api("POST", path, json={"amount": "0.01"})
    assert nothing.status_code == 422 and nothing.get_json()["error"]["code"] == "over_refund"
    events = [event["type"] for event in api("GET", f"/invoices/{invoice['id']}/events").get_json()["items"]]
    assert events.count("refund.recorded") == 2


def test_an_invoice_with_nothing_to_refund_refuses_a_refund(billing_api):
    api = billing_api()
    assert api("PATCH", "/organisation", json=SELLER).status_code == 200
    client = api("POST", "/clients", json=BUYER).get_json()
    draft = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES}).get_json()
    invoice = api("POST", f"/invoices/{draft['id']}/issue").get_json()
    reply = api("POST", f"/invoices/{invoice['id']}/refunds", json={"amount": "1.00"})
    assert reply.status_code == 422 and reply.get_json()["error"]["code"] == "over_refund"
    dated = api("POST", f"/invoices/{invoice['id']}/refunds", json={"amount": "1.00", "date": "1900-01-01"})
    assert dated.status_code == 422


def test_the_credit_can_be_kept_for_the_clients_next_invoice(billing_api):
    api = billing_api()
    invoice = _paid_then_credited(api)
    draft = api("POST", "/invoices", json={"client_id": invoice["client_id"], "lines": LINES}).get_json()
    following = api("POST", f"/invoices/{draft['id']}/issue").get_json()
    applied = api("POST", f"/invoices/{invoice['id']}/refunds", json={"amount": "42.84", "applied_to": following["id"]})
    assert applied.status_code == 201, applied.get_json()
    assert applied.get_json()["invoice"]["totals"]["refund_due"] == "0.00"
    assert following["number"] in applied.get_json()["refund"]["method"]
    after = api("GET", f"/invoices/{following['id']}").get_json()
    assert after["status"] == "partially_paid" and after["totals"]["paid"] == "42.84"
    assert invoice["number"] in after["payments"][0]["method"]
    assert after["totals"]["balance_due"] == f"{float(LINES_GROSS) - 42.84:.2f}"


def test_the_credit_goes_only_to_an_open_invoice_of_the_same_client(billing_api):
    api = billing_api()
    invoice = _paid_then_credited(api)
    other = api("POST", "/clients", json={**BUYER, "name": "Thomas Hardy"}).get_json()
    draft = api("POST", "/invoices", json={"client_id": other["id"], "lines": LINES}).get_json()
    foreign = api("POST", f"/invoices/{draft['id']}/issue").get_json()
    for target in (foreign["id"], invoice["id"]):
        reply = api("POST", f"/invoices/{invoice['id']}/refunds", json={"amount": "1.00", "applied_to": target})
        assert reply.status_code == 422, reply.get_json()
        assert reply.get_json()["error"]["details"][0]["pointer"] == "/applied_to"
    assert api("GET", f"/invoices/{invoice['id']}").get_json()["totals"]["refund_due"] == "42.84"
