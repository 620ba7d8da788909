"""The EN 16931 terms of the canonical input (issue 18, "The model") and the
checks of their codes and identifiers (VAT ID check digits, IBAN mod 97, the
official code lists read from the CEN XSLT)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from invoicer.invoice.einvoice.checks import code_list, invoice_problems
from invoicer.invoice.einvoice.validation import validate
from invoicer.invoice.einvoice.writer import missing_terms, to_xml
from invoicer.invoice.errors import InvalidInvoice
from invoicer.invoice.loader import load_invoice

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "invoice.json").read_text())
# Valid check digits (ISO 7064 mod 11,10 for DE; mod 97 for the IBAN).
SELLER_VAT, BUYER_VAT = "DE123456788", "DE987654328"


def _document(**changes) -> dict:
    document = copy.deepcopy(EXAMPLE)
    document["seller"].update(
        vat_id=SELLER_VAT,
        address={"line1": "Hafenstr. 12", "city": "Hamburg", "postal_code": "20457", "country_code": "DE"},
        contact={"name": "Ana Silva", "phone": "+49 40 123456", "email": "ana@northwind.example"},
        electronic_address={"scheme": "EM", "value": "billing@northwind.example"},
        bank_account={"iban": "DE02 1203 0000 0000 2020 51", "bic": "BYLADEM1001", "account_name": "Northwind"},
        tax_number="22/815/08154",
    )
    document["buyer"].update(vat_id=BUYER_VAT, electronic_address={"scheme": "EM", "value": "ap@alfreds.example"})
    document["lines"][0].update(unit_code="C62")
    document.update(changes)
    return document


def test_the_input_carries_every_term_an_e_invoice_needs():
    invoice = load_invoice(
        _document(
            buyer_reference="04011000-12345-34",
            order_reference="PO-4711",
            invoicing_period={"start": "2026-10-01", "end": "2026-10-31"},
            allowances=[{"amount": "10", "reason": "Loyalty", "tax_rate": "19"}],
            charges=[{"amount": "4.90", "reason": "Freight", "tax_rate": "19"}],
        )
    )
    assert invoice.buyer_reference == "04011000-12345-34" and invoice.order_reference == "PO-4711"
    assert invoice.payment is not None and invoice.payment.iban == "DE02 1203 0000 0000 2020 51"
    assert invoice.payment.reference == EXAMPLE["invoice_number"]  # BT-83 defaults to the number
    assert invoice.seller.contact is not None and invoice.seller.contact.name == "Ana Silva"
    assert invoice.lines[0].unit_code == "C62" and invoice.lines[0].category == "S"
    # 280.50 of lines - 10 + 4.90 = 275.40 net; VAT 19 % on 250.90 = 47.67, 7 % on 24.50 = 1.72
    assert invoice.totals.net == Decimal("275.40")
    assert invoice.totals.tax == Decimal("49.39") and invoice.totals.gross == Decimal("324.79")
    assert missing_terms(invoice, "xrechnung-ubl") == []
    assert validate(to_xml(invoice, "xrechnung-ubl")).valid


def test_the_shared_example_is_still_valid_and_its_totals_unchanged():
    invoice = load_invoice(EXAMPLE)
    assert (invoice.totals.net, invoice.totals.tax, invoice.totals.gross) == (
        Decimal("280.50"),
        Decimal("50.36"),
        Decimal("330.86"),
    )


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(InvalidInvoice) as refused:
        load_invoice(_document(invoicing_period={"start": "2026-10-31", "end": "2026-10-01"}))
    assert [(e.pointer, e.code) for e in refused.value.errors] == [("/invoicing_period", "end_before_start")]


def test_codes_and_identifiers_are_checked_with_pointers():
    document = _document()
    document["seller"]["vat_id"] = "DE123456789"  # wrong check digit
    document["seller"]["bank_account"]["iban"] = "DE02120300000000202052"  # fails mod 97
    document["buyer"]["electronic_address"]["scheme"] = "XX"
    document["lines"][0].update(unit_code="BOX")
    document["lines"][1].update(tax_rate="7", tax_category="Z")
    document["lines"].append(
        {
            "description": "Old stock",
            "quantity": "1",
            "unit_price": "5",
            "tax_rate": "0",
            "tax_category": "E",
            "exemption_code": "VATEX-XX-1",
        }
    )
    found = {("/" + "/".join(map(str, problem.path)), problem.code) for problem in invoice_problems(document)}
    assert found == {
        ("/seller/vat_id", "invalid_vat_id"),
        ("/seller/bank_account/iban", "invalid_iban"),
        ("/buyer/electronic_address/scheme", "unknown_scheme"),
        ("/lines/0/unit_code", "unknown_unit_code"),
        ("/lines/1/tax_rate", "rate_category_mismatch"),
        ("/lines/3/exemption_code", "unknown_exemption_code"),
    }
    assert invoice_problems(_document()) == []


def test_the_code_lists_are_the_official_ones():
    assert {"C62", "HUR", "KGM", "H87", "DAY"} <= code_list("units")
    assert code_list("categories") >= {"S", "Z", "E", "AE", "K", "G", "O", "L", "M"}
    assert {"VATEX-EU-AE", "VATEX-EU-IC", "VATEX-EU-G", "VATEX-EU-O"} <= code_list("vatex")
    assert {"EM", "9930", "0204", "0088"} <= code_list("schemes")
    assert "9958" not in code_list("schemes")  # removed in CEN 1.3.16 (RESEARCH.md)
