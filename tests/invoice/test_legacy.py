"""Invoices in the legacy flat format that users of the old tool still send."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from invoicer.invoice.errors import FieldError, InvalidInvoice
from invoicer.invoice.legacy import is_legacy, to_canonical
from invoicer.invoice.loader import load_invoice
from invoicer.invoice.model import Address
from invoicer.invoice.parsing import parse_document

LEGACY_EXAMPLE = Path(__file__).parents[2] / "examples/legacy_invoice_data.json"

# The shared legacy example, inline, so that these tests do not depend on shared/.
LEGACY_JSON = b"""{
  "company_name": "Northwind Traders Ltd",
  "company_address": "12 Harbour Road, Bristol BS1 4RW, United Kingdom",
  "company_phone": "+44 117 496 0123",
  "date": "2026-11-02",
  "invoice_no": "NW-2026-0142",
  "bill_to_name": "Maria Anders",
  "bill_to_company": "Alfreds Futterkiste",
  "bill_to_address": "Obere Str. 57, 12209 Berlin, Germany",
  "ship_to_name": "Maria Anders",
  "ship_to_company": "Alfreds Futterkiste (Warehouse)",
  "ship_to_address": "Lagerweg 3, 12209 Berlin, Germany",
  "items": [
    {"id": 1, "description": "Chai tea, 10 boxes x 20 bags", "qty": 12, "unit_price": 18.00, "total": 216.00},
    {"id": 2, "description": "Aniseed syrup, 12 x 550 ml bottles", "qty": 4, "unit_price": 10.00, "total": 40.00},
    {"id": 3, "description": "Chef Anton's Cajun seasoning, 48 x 6 oz jars",
     "qty": 2, "unit_price": 22.00, "total": 44.00}
  ],
  "subtotal": 300.00,
  "tax_rate": 19,
  "tax_amount": 57.00,
  "total_amount": 357.00
}"""


def legacy() -> dict[str, Any]:
    return parse_document(LEGACY_JSON)


def errors_of(document: Any, **kwargs: Any) -> list[FieldError]:
    with pytest.raises(InvalidInvoice) as caught:
        load_invoice(document, **kwargs)
    return caught.value.errors


def only_error(document: Any, **kwargs: Any) -> FieldError:
    errors = errors_of(document, **kwargs)
    assert len(errors) == 1, errors
    return errors[0]


def test_the_shared_legacy_example_loads() -> None:
    invoice = load_invoice(parse_document(LEGACY_EXAMPLE.read_bytes()))

    assert invoice.invoice_number == "NW-2026-0142"
    assert invoice.totals.as_strings() == {"currency": "USD", "net": "300.00", "tax": "57.00", "gross": "357.00"}


def test_legacy_fields_map_to_the_invoice() -> None:
    invoice = load_invoice(legacy())

    assert invoice.invoice_number == "NW-2026-0142"
    assert str(invoice.issue_date) == "2026-11-02" and invoice.due_date is None
    assert invoice.currency == "USD"
    assert invoice.seller.name == "Northwind Traders Ltd"
    assert invoice.seller.phone == "+44 117 496 0123"
    assert invoice.seller.address_lines == ["12 Harbour Road", "Bristol BS1 4RW", "United Kingdom"]
    assert invoice.buyer.name == "Maria Anders"
    assert invoice.buyer.company == "Alfreds Futterkiste"
    assert invoice.buyer.address == Address(
        line1="Obere Str. 57", city="Berlin", postal_code="12209", country_code="DE"
    )
    assert invoice.buyer.address_lines == ["Obere Str. 57", "12209 Berlin", "Germany"]
    assert invoice.ship_to is not None and invoice.ship_to.company == "Alfreds Futterkiste (Warehouse)"
    assert [(line.position, line.quantity, line.unit_price) for line in invoice.lines] == [
        (1, Decimal(12), Decimal("18.00")),
        (2, Decimal(4), Decimal("10.00")),
        (3, Decimal(2), Decimal("22.00")),
    ]
    assert invoice.lines[2].description == "Chef Anton's Cajun seasoning, 48 x 6 oz jars"
    assert all(line.tax_rate == Decimal(19) for line in invoice.lines)
    assert (invoice.totals.net, invoice.totals.tax, invoice.totals.gross) == (
        Decimal("300.00"),
        Decimal("57.00"),
        Decimal("357.00"),
    )


def test_currency_defaults_to_the_configured_one_and_the_document_may_name_its_own() -> None:
    assert load_invoice(legacy(), legacy_currency="EUR").currency == "EUR"
    document = legacy()
    document["currency"] = "GBP"
    assert load_invoice(document, legacy_currency="EUR").currency == "GBP"


def test_a_misconfigured_legacy_currency_is_a_server_error_not_the_users() -> None:
    with pytest.raises(ValueError, match="ISO 4217") as caught:
        load_invoice(legacy(), legacy_currency="DOLLAR")
    assert not isinstance(caught.value, InvalidInvoice)


def test_no_ship_to_without_ship_to_fields() -> None:
    document = legacy()
    for key in ("ship_to_name", "ship_to_company", "ship_to_address"):
        del document[key]

    assert load_invoice(document).ship_to is None


def test_format_detection() -> None:
    assert is_legacy(legacy())
    assert is_legacy({"invoice_no": "1"})
    assert not is_legacy({"invoice_number": "1", "items": []})
    assert not is_legacy({"lines": []})
    canonical = to_canonical(legacy(), currency="CHF")
    assert canonical["currency"] == "CHF" and canonical["lines"][0] == {
        "description": "Chai tea, 10 boxes x 20 bags",
        "quantity": 12,
        "unit_price": Decimal("18.00"),
        "tax_rate": 19,
    }


# --- the totals the old tool wrote are checked --------------------------------


def test_a_tampered_total_amount_is_refused_naming_both_values() -> None:
    document = legacy()
    document["total_amount"] = Decimal("358.00")

    error = only_error(document)

    assert (error.pointer, error.code) == ("/total_amount", "total_mismatch")
    assert error.message == "total_amount is 358.00 but the lines add up to 357.00"


@pytest.mark.parametrize(
    ("field", "value"),
    [("total_amount", "357.01"), ("total_amount", "356.99"), ("subtotal", "299.99"), ("tax_amount", "57.01")],
)
def test_one_minor_unit_of_difference_is_the_old_tools_rounding(field: str, value: str) -> None:
    document = legacy()
    document[field] = Decimal(value)

    assert load_invoice(document).totals.gross == Decimal("357.00")


@pytest.mark.parametrize(
    ("field", "value", "ours"),
    [("total_amount", "357.02", "357.00"), ("subtotal", "299.98", "300.00"), ("tax_amount", "56.98", "57.00")],
)
def test_two_minor_units_of_difference_are_a_mismatch(field: str, value: str, ours: str) -> None:
    document = legacy()
    document[field] = Decimal(value)

    error = only_error(document)

    assert (error.pointer, error.code) == (f"/{field}", "total_mismatch")
    assert value in error.message and ours in error.message and field in error.message


def test_the_tolerance_is_one_minor_unit_of_the_currency() -> None:
    document = legacy()
    document["currency"] = "JPY"
    document["total_amount"] = 358  # one yen off
    assert load_invoice(document).totals.gross == Decimal("357")

    document["total_amount"] = 359
    assert only_error(document).pointer == "/total_amount"


def test_a_wrong_item_total_points_at_that_item() -> None:
    document = legacy()
    document["items"][1]["total"] = Decimal("41.00")

    error = only_error(document)

    assert (error.pointer, error.code) == ("/items/1/total", "total_mismatch")
    assert "41.00" in error.message and "40.00" in error.message


def test_all_mismatches_are_reported_together() -> None:
    document = legacy()
    document["items"][0]["total"] = 200
    document["subtotal"] = "284"
    document["total_amount"] = "400.00"

    assert [(error.pointer, error.code) for error in errors_of(document)] == [
        ("/items/0/total", "total_mismatch"),
        ("/subtotal", "total_mismatch"),
        ("/total_amount", "total_mismatch"),
    ]


def test_totals_are_optional() -> None:
    document = legacy()
    for key in ("subtotal", "tax_amount", "total_amount"):
        del document[key]
    for item in document["items"]:
        del item["total"]

    assert load_invoice(document).totals.gross == Decimal("357.00")


# --- errors point into the legacy document -------------------------------------


@pytest.mark.parametrize(
    ("change", "pointer", "code"),
    [
        (lambda d: d["items"][2].update(qty="two"), "/items/2/qty", "pattern"),
        (lambda d: d["items"][1].update(qty=0), "/items/1/qty", "out_of_range"),
        (lambda d: d["items"][0].pop("unit_price"), "/items/0/unit_price", "required"),
        (lambda d: d["items"][0].update(description=""), "/items/0/description", "blank"),
        (lambda d: d["items"].append(3), "/items/3", "type"),
        (lambda d: d.update(items=[]), "/items", "min_items"),
        (lambda d: d.pop("items"), "/items", "required"),
        (lambda d: d.pop("invoice_no"), "/invoice_no", "required"),
        (lambda d: d.pop("company_name"), "/company_name", "required"),
        (lambda d: d.pop("bill_to_name"), "/bill_to_name", "required"),
        (lambda d: d.update(ship_to_name=" "), "/ship_to_name", "blank"),
        (lambda d: d.update(date="2026-11-31"), "/date", "invalid_date"),
        (lambda d: d.update(due_date="2026-10-01"), "/due_date", "due_before_issue"),
        (lambda d: d.update(currency="XYZ"), "/currency", "unknown_currency"),
        (lambda d: d.update(company_email="nope"), "/company_email", "invalid_email"),
        (lambda d: d.update(bill_to_address=["Obere Str. 57"]), "/bill_to_address", "type"),
        (lambda d: d.update(discount=5), "/discount", "unknown_field"),
        (lambda d: d["items"][1].update(sku="A-1"), "/items/1/sku", "unknown_field"),
        (lambda d: d.update(subtotal="300,00"), "/subtotal", "pattern"),
        (lambda d: d["items"][2].update(total=None), "/items/2/total", "type"),
        (lambda d: d.update(invoice_no="NW-2026\u20280142"), "/invoice_no", "control_character"),
        (lambda d: d["items"][0].update(qty=1, unit_price="9999999999999.99"), "/items", "amount_too_large"),
        (lambda d: d["items"][1].update(unit_price="1234567890123.456"), "/items/1/unit_price", "too_many_digits"),
        (lambda d: d.update(company_name="Northwind\u2029Traders"), "/company_name", "control_character"),
        (lambda d: d.update(bill_to_vat_id="DE\x85987"), "/bill_to_vat_id", "control_character"),
    ],
)
def test_errors_point_into_the_legacy_document(change: Any, pointer: str, code: str) -> None:
    document = legacy()
    change(document)

    error = only_error(document)

    assert (error.pointer, error.code) == (pointer, code)
    assert pointer.lstrip("/").split("/")[0] in error.message


def test_a_bad_tax_rate_is_reported_once_at_tax_rate() -> None:
    document = legacy()
    document["tax_rate"] = "19%"

    error = only_error(document)

    assert (error.pointer, error.code) == ("/tax_rate", "pattern")
    assert error.message.startswith("tax_rate ")


def test_a_missing_tax_rate_is_required() -> None:
    document = legacy()
    del document["tax_rate"]

    assert [(error.pointer, error.code) for error in errors_of(document)] == [("/tax_rate", "required")]


def test_legacy_messages_use_legacy_names() -> None:
    document = legacy()
    document["due_date"] = "2026-10-01"
    document["issue_date"] = "2026-11-02"
    document["items"][0]["quantity"] = 12

    messages = {error.pointer: error.message for error in errors_of(document)}

    assert messages["/due_date"] == "due_date 2026-10-01 is before date 2026-11-02"
    assert messages["/issue_date"] == "issue_date is not a known field; did you mean date?"
    assert messages["/items/0/quantity"] == "items/0/quantity is not a known field; did you mean qty?"


def test_too_many_items() -> None:
    document = legacy()
    document["items"] = [{"sku": "not even looked at"}] * 10_001

    assert [(error.pointer, error.code) for error in errors_of(document)] == [("/items", "too_many_lines")]
    assert [(e.pointer, e.code) for e in errors_of(legacy(), max_lines=2)] == [("/items", "too_many_lines")]
