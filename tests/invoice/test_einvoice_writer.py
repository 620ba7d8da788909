"""Every e-invoice scenario of issue 18, written by :mod:`invoicer.invoice.einvoice.writer`
and judged by the official rules (CEN EN 16931 v1.3.16, KoSIT XRechnung 3.0.2 with
Peppol's merged, the CII D16B and UBL 2.1 schemas): XSD-valid and no fatal rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D  # noqa: N817 - amounts read better short here

import pytest

from invoicer.invoice.einvoice.validation import validate
from invoicer.invoice.einvoice.writer import PROFILES, missing_terms, to_xml
from invoicer.invoice.model import (
    CREDIT_NOTE,
    Address,
    AllowanceCharge,
    Contact,
    ElectronicAddress,
    Invoice,
    Line,
    Party,
    PaymentInstructions,
)

SELLER = Party(
    name="Northwind Traders GmbH",
    address=Address(line1="Hafenstr. 12", city="Hamburg", postal_code="20457", country_code="DE"),
    vat_id="DE123456789",
    phone="+49 40 123456",
    email="billing@northwind.example",
    contact=Contact(name="Ana Silva", phone="+49 40 123456", email="ana@northwind.example"),
    electronic_address=ElectronicAddress("EM", "billing@northwind.example"),
)
DOMESTIC_BUYER = Party(
    name="Maria Anders",
    company="Alfreds Futterkiste",
    address=Address(line1="Obere Str. 57", city="Berlin", postal_code="12209", country_code="DE"),
    vat_id="DE987654321",
    electronic_address=ElectronicAddress("EM", "ap@alfreds.example"),
)
FRENCH_BUYER = Party(
    name="Bon App'",
    address=Address(line1="12, rue des Bouchers", city="Marseille", postal_code="13008", country_code="FR"),
    vat_id="FR61954506077",
    electronic_address=ElectronicAddress("EM", "compta@bonapp.example"),
)
US_BUYER = Party(
    name="Great Lakes Food Market",
    address=Address(line1="2732 Baker Blvd.", city="Eugene", postal_code="97403", region="OR", country_code="US"),
    electronic_address=ElectronicAddress("EM", "ap@greatlakes.example"),
)
PAYMENT = PaymentInstructions(
    iban="DE02120300000000202051", bic="BYLADEM1001", account_name="Northwind Traders GmbH", reference="INV-2026-0001"
)


def _invoice(lines: list[Line], buyer: Party = DOMESTIC_BUYER, **extra) -> Invoice:
    fields = {
        "invoice_number": "INV-2026-0001",
        "issue_date": date(2026, 11, 2),
        "currency": "EUR",
        "seller": SELLER,
        "buyer": buyer,
        "lines": tuple(lines),
        "due_date": date(2026, 12, 2),
        "payment_terms": "30 days net",
        "payment": PAYMENT,
        **extra,
    }
    return Invoice(**fields)


def _line(position: int, rate: str, **extra) -> Line:
    return Line(position, f"Item {position}", D("2"), D("50.00"), D(rate), **{"unit_code": "C62", **extra})


SCENARIOS = {
    "domestic multi-rate": _invoice([_line(1, "19"), _line(2, "7"), _line(3, "19", unit_code="HUR")]),
    "zero rated and exempt": _invoice(
        [
            _line(1, "0", tax_category="Z"),
            _line(2, "0", tax_category="E", exemption_reason="Exempt: medical services", exemption_code="VATEX-EU-132"),
            _line(3, "19"),
        ]
    ),
    "intra-EU services, reverse charge": _invoice(
        [_line(1, "0", tax_category="AE", exemption_reason="Reverse charge", exemption_code="VATEX-EU-AE")],
        buyer=FRENCH_BUYER,
    ),
    "intra-EU goods": _invoice(
        [_line(1, "0", tax_category="K", exemption_reason="Intra-community supply", exemption_code="VATEX-EU-IC")],
        buyer=FRENCH_BUYER,
        delivery_date=date(2026, 10, 30),
    ),
    "export": _invoice(
        [_line(1, "0", tax_category="G", exemption_reason="Export outside the EU", exemption_code="VATEX-EU-G")],
        buyer=US_BUYER,
        currency="USD",
    ),
    "document allowance and charge": _invoice(
        [_line(1, "19"), _line(2, "7")],
        allowances=(AllowanceCharge(D("10.00"), "Loyalty discount", D("19")),),
        charges=(AllowanceCharge(D("4.90"), "Freight", D("19"), reason_code="FC"),),
        invoicing_period=(date(2026, 10, 1), date(2026, 10, 31)),
    ),
    "credit note": _invoice(
        [_line(1, "19")],
        invoice_number="CN-2026-0001",
        document_type=CREDIT_NOTE,
        preceding_invoice="INV-2026-0001",
        preceding_invoice_date=date(2026, 11, 2),
    ),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("profile", ["factur-x", "peppol-ubl"])
def test_every_scenario_passes_the_official_rules(scenario: str, profile: str) -> None:
    invoice = SCENARIOS[scenario]
    if profile == "peppol-ubl":
        invoice = replace(invoice, buyer_reference="PO-4711")
    assert missing_terms(invoice, profile) == []
    report = validate(to_xml(invoice, profile))
    assert report.syntax == PROFILES[profile].syntax
    assert report.specification == PROFILES[profile].specification
    assert report.valid, [(f.rule, f.text) for f in report.fatal]


@pytest.mark.parametrize("profile", ["xrechnung-cii", "xrechnung-ubl"])
@pytest.mark.parametrize("scenario", ["domestic multi-rate", "credit note", "document allowance and charge"])
def test_xrechnung_with_a_leitweg_id_passes_the_xrechnung_rules(profile: str, scenario: str) -> None:
    invoice = replace(SCENARIOS[scenario], buyer_reference="04011000-12345-34")
    assert missing_terms(invoice, profile) == []
    report = validate(to_xml(invoice, profile))
    assert "XRechnung" in report.rule_sets
    assert report.valid, [(f.rule, f.text) for f in report.fatal]


def test_the_xml_states_the_models_totals() -> None:
    invoice = SCENARIOS["document allowance and charge"]
    xml = to_xml(invoice, "factur-x").decode()
    totals = invoice.totals
    assert totals.line_total == D("200.00") and totals.allowance_total == D("10.00")
    assert totals.charge_total == D("4.90") and totals.net == D("194.90")
    for tag, amount in (
        ("LineTotalAmount", totals.line_total),
        ("AllowanceTotalAmount", totals.allowance_total),
        ("ChargeTotalAmount", totals.charge_total),
        ("TaxBasisTotalAmount", totals.net),
        ("GrandTotalAmount", totals.gross),
    ):
        assert f"<ram:{tag}>{amount}</ram:{tag}>" in xml


def test_missing_business_terms_are_named_with_their_rule() -> None:
    bare = Party(name="Someone")
    invoice = _invoice([_line(1, "0")], buyer=bare, seller=bare, payment=None)
    found = {(item.term, item.rule) for item in missing_terms(invoice, "xrechnung-ubl")}
    assert ("BT-10", "BR-DE-15") in found  # no Leitweg-ID
    assert ("BT-40", "BR-09") in found and ("BT-55", "BR-11") in found  # no country codes
    assert ("BT-151", "BR-CO-3") in found  # a 0 % line without category
    assert ("BT-84", "BR-DE-1") in found  # no bank account
    pointers = {item.pointer for item in missing_terms(invoice, "xrechnung-ubl")}
    assert "/lines/0/tax_category" in pointers and "/buyer_reference" in pointers


def test_a_reverse_charge_invoice_needs_both_vat_ids() -> None:
    buyer = replace(FRENCH_BUYER, vat_id=None)
    invoice = SCENARIOS["intra-EU services, reverse charge"]
    found = {(item.term, item.rule) for item in missing_terms(replace(invoice, buyer=buyer), "factur-x")}
    assert ("BT-48", "BR-AE-02") in found
