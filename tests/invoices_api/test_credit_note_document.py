"""What a credit note's own document (its PDF) says about why it credits."""

from __future__ import annotations

import pytest

from .conftest import fetch_document, issued, new_client, pdf_text

pytestmark = pytest.mark.integration


def test_the_credit_notes_reason_is_printed_on_its_pdf(seller):
    invoice = issued(seller, new_client(seller))
    reason = "Two boxes arrived damaged <b>&</b>"
    note = seller.ok(
        "POST",
        f"/invoices/{invoice['id']}/credit-notes",
        201,
        json={"lines": [{"position": 1, "quantity": "1"}], "reason": reason},
    )["credit_note"]
    reply = fetch_document(seller, f"/invoices/{note['id']}/pdf")
    assert reply.status_code == 200, reply.text
    text = pdf_text(reply.content)
    assert note["number"] in text
    assert f"Reason: {reason}" in text
