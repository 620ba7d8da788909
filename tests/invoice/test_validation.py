"""What a client is told when it sends an invoice: parse errors (400) and field errors (422)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from invoicer.invoice.errors import FieldError, InvalidInvoice, MalformedDocument
from invoicer.invoice.loader import load_invoice
from invoicer.invoice.parsing import parse_document

SHARED_EXAMPLE = Path(__file__).parents[2] / "examples/invoice.json"


def valid_document() -> dict[str, Any]:
    """A small valid canonical invoice, as parse_document returns it."""
    return {
        "invoice_number": "INV-1",
        "issue_date": "2026-11-02",
        "due_date": "2026-12-02",
        "currency": "EUR",
        "seller": {"name": "Northwind Traders Ltd", "address": "12 Harbour Road\nBristol", "email": "a@b.example"},
        "buyer": {"name": "Maria Anders", "company": "Alfreds Futterkiste"},
        "lines": [
            {"description": "Chai", "quantity": "12", "unit": "box", "unit_price": "18.00", "tax_rate": "19"},
            {"description": "Syrup", "quantity": 4, "unit_price": Decimal("10.00"), "tax_rate": 19},
        ],
    }


def errors_of(document: Any, **kwargs: Any) -> list[FieldError]:
    with pytest.raises(InvalidInvoice) as caught:
        load_invoice(document, **kwargs)
    return caught.value.errors


def pointers_and_codes(document: Any, **kwargs: Any) -> set[tuple[str, str]]:
    return {(error.pointer, error.code) for error in errors_of(document, **kwargs)}


def changed(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    document = valid_document()
    change(document)
    return document


# --- the happy path ---------------------------------------------------------


def test_shared_example_loads() -> None:
    invoice = load_invoice(parse_document(SHARED_EXAMPLE.read_bytes()))

    assert invoice.invoice_number == "INV-2026-0001"
    assert str(invoice.issue_date) == "2026-11-02" and str(invoice.due_date) == "2026-12-02"
    assert invoice.seller.address_lines == ["12 Harbour Road", "Bristol BS1 4RW", "United Kingdom"]
    assert invoice.buyer.company == "Alfreds Futterkiste"
    assert invoice.ship_to is not None and invoice.ship_to.company == "Alfreds Futterkiste (Warehouse)"
    assert [line.description for line in invoice.lines][2] == "Recipe book: Cajun cooking"
    assert [line.position for line in invoice.lines] == [1, 2, 3]
    assert invoice.lines[0].unit == "box"
    assert invoice.payment_terms is not None and invoice.payment_terms.startswith("Net 30.")
    assert invoice.totals.gross == Decimal("330.86")


def test_optional_fields_may_be_absent_or_blank() -> None:
    document = valid_document()
    del document["due_date"]
    document["seller"] = {"name": "  Northwind  ", "phone": "", "email": ""}
    document["notes"] = "   "

    invoice = load_invoice(document)

    assert invoice.due_date is None and invoice.ship_to is None and invoice.notes is None
    assert invoice.seller.name == "Northwind" and invoice.seller.phone is None and invoice.seller.email is None


def test_numbers_and_strings_are_both_exact_decimals() -> None:
    document = parse_document(
        b'{"invoice_number": "1", "issue_date": "2026-11-02", "currency": "EUR",'
        b' "seller": {"name": "S"}, "buyer": {"name": "B"}, "lines": ['
        b'{"description": "as numbers", "quantity": 3, "unit_price": 0.1, "tax_rate": 19},'
        b'{"description": "as strings", "quantity": "3", "unit_price": "0.1", "tax_rate": "19.00"}]}'
    )
    invoice = load_invoice(document)

    numbers, strings = invoice.lines
    assert numbers.unit_price == strings.unit_price == Decimal("0.1")
    assert isinstance(numbers.unit_price, Decimal) and isinstance(numbers.quantity, Decimal)
    assert str(numbers.unit_price) == "0.1"  # not 0.1000000000000000055...
    assert invoice.totals.line_nets == (Decimal("0.30"), Decimal("0.30"))
    assert strings.tax_rate == Decimal("19.00")


def test_a_json_number_with_an_exponent_is_written_out() -> None:
    document = valid_document()
    document["lines"][0]["quantity"] = parse_document(b"1e2")
    document["lines"][0]["unit_price"] = parse_document(b"-0.0")

    line = load_invoice(document).lines[0]

    assert str(line.quantity) == "100"  # not "1E+2" on the PDF
    assert str(line.unit_price) == "0.0"  # not "-0.0"


# --- one rule, one failing case ----------------------------------------------


@pytest.mark.parametrize(
    ("change", "pointer", "code"),
    [
        # required fields
        (lambda d: d.pop("invoice_number"), "/invoice_number", "required"),
        (lambda d: d.pop("issue_date"), "/issue_date", "required"),
        (lambda d: d.pop("currency"), "/currency", "required"),
        (lambda d: d.pop("buyer"), "/buyer", "required"),
        (lambda d: d.pop("lines"), "/lines", "required"),
        (lambda d: d["seller"].pop("name"), "/seller/name", "required"),
        (lambda d: d.update(ship_to={"company": "Warehouse"}), "/ship_to/name", "required"),
        (lambda d: d["lines"][1].pop("description"), "/lines/1/description", "required"),
        (lambda d: d["lines"][0].pop("unit_price"), "/lines/0/unit_price", "required"),
        (lambda d: d["lines"][1].pop("tax_rate"), "/lines/1/tax_rate", "required"),
        (lambda d: d.update(lines=[]), "/lines", "min_items"),
        # types
        (lambda d: d.update(buyer="Maria"), "/buyer", "type"),
        (lambda d: d.update(lines={"0": {}}), "/lines", "type"),
        (lambda d: d["lines"].append("a line"), "/lines/2", "type"),
        (lambda d: d["seller"].update(name=42), "/seller/name", "type"),
        (lambda d: d.update(notes=["a", "b"]), "/notes", "type"),
        # unknown fields
        (lambda d: d.update(due_dat="2026-12-01"), "/due_dat", "unknown_field"),
        (lambda d: d["buyer"].update(iban="DE89"), "/buyer/iban", "unknown_field"),
        (lambda d: d["lines"][1].update(price="1"), "/lines/1/price", "unknown_field"),
        (lambda d: d.update({"a/b~c": 1}), "/a~1b~0c", "unknown_field"),  # RFC 6901 escaping
        # strings
        (lambda d: d["seller"].update(name="   "), "/seller/name", "blank"),
        (lambda d: d.update(invoice_number=""), "/invoice_number", "blank"),
        (lambda d: d["lines"][0].update(description="\n"), "/lines/0/description", "blank"),
        (lambda d: d["seller"].update(name="x" * 201), "/seller/name", "too_long"),
        (lambda d: d.update(invoice_number="1" * 65), "/invoice_number", "too_long"),
        (lambda d: d["lines"][0].update(description="d" * 1001), "/lines/0/description", "too_long"),
        (lambda d: d["buyer"].update(address="a\n" * 501), "/buyer/address", "too_long"),
        (lambda d: d.update(notes="n" * 4001), "/notes", "too_long"),
        (lambda d: d["buyer"].update(name="Maria\nAnders"), "/buyer/name", "control_character"),
        (lambda d: d["lines"][0].update(description="Chai\u0000"), "/lines/0/description", "control_character"),
        (lambda d: d["seller"].update(email="billing at northwind"), "/seller/email", "invalid_email"),
        # amounts
        (lambda d: d["lines"][0].update(quantity="1e3"), "/lines/0/quantity", "pattern"),
        (lambda d: d["lines"][0].update(unit_price="1,000.00"), "/lines/0/unit_price", "pattern"),
        (lambda d: d["lines"][0].update(unit_price="18.00 "), "/lines/0/unit_price", "pattern"),
        (lambda d: d["lines"][0].update(unit_price="18.00\n"), "/lines/0/unit_price", "pattern"),
        (lambda d: d["lines"][0].update(quantity="1" * 16), "/lines/0/quantity", "pattern"),
        (lambda d: d["lines"][0].update(quantity="1." + "1" * 11), "/lines/0/quantity", "pattern"),
        (lambda d: d["lines"][0].update(quantity=True), "/lines/0/quantity", "type"),
        (lambda d: d["lines"][0].update(tax_rate=None), "/lines/0/tax_rate", "type"),
        (lambda d: d["lines"][0].update(quantity=10**15), "/lines/0/quantity", "too_many_digits"),
        (lambda d: d["lines"][0].update(unit_price=Decimal("0.12345678901")), "/lines/0/unit_price", "too_many_digits"),
        (lambda d: d["lines"][0].update(unit_price=Decimal("1E+20")), "/lines/0/unit_price", "too_many_digits"),
        (lambda d: d["lines"][0].update(unit_price="1234567890123.456"), "/lines/0/unit_price", "too_many_digits"),
        (lambda d: d["lines"][1].update(quantity=Decimal("1234567.123456789")), "/lines/1/quantity", "too_many_digits"),
        (lambda d: d["lines"][0].update(unit_price="9999999999999.99"), "/lines", "amount_too_large"),
        (lambda d: d["lines"][0].update(quantity="2", unit_price="5000000000000"), "/lines", "amount_too_large"),
        (lambda d: d["lines"][0].update(quantity="0"), "/lines/0/quantity", "out_of_range"),
        (lambda d: d["lines"][0].update(quantity=0), "/lines/0/quantity", "out_of_range"),
        (lambda d: d["lines"][1].update(quantity="-1.5"), "/lines/1/quantity", "out_of_range"),
        (lambda d: d["lines"][0].update(unit_price="-0.01"), "/lines/0/unit_price", "out_of_range"),
        (lambda d: d["lines"][0].update(unit_price=Decimal("-0.01")), "/lines/0/unit_price", "out_of_range"),
        (lambda d: d["lines"][0].update(tax_rate="100.01"), "/lines/0/tax_rate", "out_of_range"),
        (lambda d: d["lines"][0].update(tax_rate=-1), "/lines/0/tax_rate", "out_of_range"),
        (
            lambda d: d["lines"][0].update(quantity="999999999999999", unit_price="10"),
            "/lines/0",
            "amount_too_large",
        ),
        # currency
        (lambda d: d.update(currency="eur"), "/currency", "pattern"),
        (lambda d: d.update(currency="EURO"), "/currency", "pattern"),
        (lambda d: d.update(currency=978), "/currency", "type"),
        (lambda d: d.update(currency="ABC"), "/currency", "unknown_currency"),
        # dates
        (lambda d: d.update(issue_date="2026-02-30"), "/issue_date", "invalid_date"),
        (lambda d: d.update(issue_date="02/11/2026"), "/issue_date", "invalid_date"),
        (lambda d: d.update(due_date="2026-12-2"), "/due_date", "invalid_date"),
        (lambda d: d.update(due_date="2026-11-01"), "/due_date", "due_before_issue"),
    ],
)
def test_each_rule_reports_pointer_and_code(change: Callable[[dict[str, Any]], Any], pointer: str, code: str) -> None:
    errors = errors_of(changed(change))

    assert [(error.pointer, error.code) for error in errors] == [(pointer, code)]
    error = errors[0]
    assert error.message.strip()
    assert "Decimal(" not in error.message and "'" not in error.message  # no Python reprs


# Characters that cannot go into a mail header (the Subject names the invoice
# number) or a file name, nor be drawn: C0 and C1 controls, DEL, and the line
# and paragraph separators. Single-line texts refuse them all; multi-line texts
# keep tab and \n but refuse the rest.
LINE_BREAKERS = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1e", "\r", "\n", "\x00", "\x7f", "\x9b"]
SINGLE_LINE_FIELDS = [
    ("/invoice_number", lambda d, v: d.update(invoice_number=f"INV{v}1")),
    ("/seller/name", lambda d, v: d["seller"].update(name=f"Northwind{v}Traders")),
    ("/buyer/company", lambda d, v: d["buyer"].update(company=f"Alfreds{v}")),
    ("/seller/vat_id", lambda d, v: d["seller"].update(vat_id=f"GB{v}123")),
    ("/seller/phone", lambda d, v: d["seller"].update(phone=f"+44{v}117")),
    ("/seller/email", lambda d, v: d["seller"].update(email=f"a{v}@b.example")),
    ("/lines/1/unit", lambda d, v: d["lines"][1].update(unit=f"box{v}")),
]


@pytest.mark.parametrize("char", LINE_BREAKERS)
@pytest.mark.parametrize(("pointer", "change"), SINGLE_LINE_FIELDS)
def test_single_line_texts_refuse_line_separators_and_controls(pointer: str, change: Any, char: str) -> None:
    document = valid_document()
    change(document, char)

    [error] = errors_of(document)

    assert (error.pointer, error.code) == (pointer, "control_character")
    assert f"U+{ord(char):04X}" in error.message


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85", "\x0b", "\x9b"])
def test_multi_line_texts_refuse_other_line_separators(char: str) -> None:
    document = changed(lambda d: d["seller"].update(address=f"12 Harbour Road{char}Bristol"))

    assert pointers_and_codes(document) == {("/seller/address", "control_character")}


def test_multi_line_texts_keep_tab_and_line_breaks() -> None:
    document = changed(lambda d: d.update(notes="Paid\twith thanks.\r\nSee you\nsoon."))

    assert load_invoice(document).notes == "Paid\twith thanks.\r\nSee you\nsoon."


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["lines"][0].update(unit_price="0"),
        lambda d: d["lines"][0].update(tax_rate="0"),
        lambda d: d["lines"][0].update(tax_rate="100"),
        lambda d: d["lines"][0].update(quantity="0.0000000001"),
        lambda d: d.update(
            lines=[{**d["lines"][0], "quantity": "1", "unit_price": "9999999999999.99", "tax_rate": "0"}]
        ),
        lambda d: d["lines"][0].update(unit_price="0.123456789", quantity="123456"),
        lambda d: d["seller"].update(name="x" * 200),
        lambda d: d.update(due_date=d["issue_date"]),
        lambda d: d.update(issue_date="2028-02-29", due_date="2028-03-01"),
        lambda d: d.update(currency="JPY"),
        lambda d: d["lines"][0].update(description="Chai\ttea\n10 boxes"),
    ],
)
def test_values_at_the_edge_of_a_rule_are_accepted(change: Callable[[dict[str, Any]], Any]) -> None:
    load_invoice(changed(change))


def test_messages_name_the_field_and_explain() -> None:
    document = valid_document()
    document["seller"].pop("name")
    document["lines"][0]["quantity"] = "twelve"
    document["due_date"] = "2026-11-01"
    document["due_dat"] = "x"

    messages = {error.pointer: error.message for error in errors_of(document)}

    assert messages["/seller/name"] == "seller.name is required"
    assert messages["/lines/0/quantity"] == (
        'lines/0/quantity must be a decimal number such as "12" or "12.5", not "twelve"'
    )
    assert "2026-11-01" in messages["/due_date"] and "2026-11-02" in messages["/due_date"]
    assert "issue_date" in messages["/due_date"]
    assert "did you mean due_date?" in messages["/due_dat"]


def test_all_errors_are_reported_together() -> None:
    document = valid_document()
    document["currency"] = "XYZ"
    document["buyer"]["name"] = ""
    document["lines"][1]["quantity"] = "-2"
    document["lines"][0]["colour"] = "red"
    document["issue_date"] = "2026-13-01"

    assert pointers_and_codes(document) == {
        ("/currency", "unknown_currency"),
        ("/buyer/name", "blank"),
        ("/lines/1/quantity", "out_of_range"),
        ("/lines/0/colour", "unknown_field"),
        ("/issue_date", "invalid_date"),
    }


def test_errors_are_ordered_by_pointer_and_serialisable() -> None:
    document = valid_document()
    document["lines"][1]["quantity"] = "x"
    document["lines"][0]["quantity"] = "x"
    document["buyer"]["name"] = ""

    errors = errors_of(document)

    assert [error.pointer for error in errors] == ["/buyer/name", "/lines/0/quantity", "/lines/1/quantity"]
    assert errors[0].as_dict() == {"pointer": "/buyer/name", "code": "blank", "message": "buyer.name must not be blank"}
    json.dumps([error.as_dict() for error in errors])


@pytest.mark.parametrize("root", [[], "invoice", 42, None])
def test_a_document_that_is_not_an_object_is_rejected_at_the_root(root: Any) -> None:
    errors = errors_of(root)

    assert [(error.pointer, error.code) for error in errors] == [("", "type")]
    assert "JSON object" in errors[0].message


def test_too_many_lines_at_the_limit() -> None:
    document = valid_document()
    document["lines"].append(copy.deepcopy(document["lines"][0]))

    assert len(load_invoice(document, max_lines=3).lines) == 3
    assert pointers_and_codes(document, max_lines=2) == {("/lines", "too_many_lines")}


@pytest.mark.timeout(60)  # guards against a hang; the time itself is measured in bench/, not here
def test_too_many_lines_are_refused_without_checking_each_line() -> None:
    document = valid_document()
    # Every line is invalid: had they been checked, there would be 100 001 more errors.
    document["lines"] = [{"colour": "red"}] * 100_001
    document["currency"] = "usd"

    errors = errors_of(document)

    assert [(error.pointer, error.code) for error in errors] == [("/currency", "pattern"), ("/lines", "too_many_lines")]
    assert "100001" in errors[1].message and "10000" in errors[1].message


def test_too_many_lines_through_parse_document() -> None:
    line = b'{"description": "d", "quantity": "1", "unit_price": "1", "tax_rate": "0"}'
    raw = (
        b'{"invoice_number": "1", "issue_date": "2026-11-02", "currency": "EUR", "seller": {"name": "S"},'
        b' "buyer": {"name": "B"}, "lines": [' + b",".join([line] * 100_001) + b"]}"
    )

    assert pointers_and_codes(parse_document(raw)) == {("/lines", "too_many_lines")}


# --- parse_document ------------------------------------------------------------


def test_parse_keeps_ints_and_reads_other_numbers_as_decimal() -> None:
    document = parse_document(b'{"q": 3, "p": 0.1, "big": 1e2, "neg": -1.50}')

    assert document == {"q": 3, "p": Decimal("0.1"), "big": Decimal("1E+2"), "neg": Decimal("-1.50")}
    assert type(document["q"]) is int and type(document["p"]) is Decimal


def test_parse_tolerates_a_utf8_byte_order_mark_and_reads_utf8() -> None:
    assert parse_document('\ufeff{"name": "Ærøskøbing 東京"}'.encode()) == {"name": "Ærøskøbing 東京"}


def test_syntax_error_gives_line_and_column() -> None:
    with pytest.raises(MalformedDocument) as caught:
        parse_document(b'{\n  "invoice_number": "1",\n  "currency" "EUR"\n}')

    assert (caught.value.line, caught.value.column) == (3, 14)
    assert "line 3" in caught.value.message and "column 14" in caught.value.message


@pytest.mark.parametrize("raw", [b"", b"   ", b'{"a": 1', b'{"a": 1}}', b"{'a': 1}", b'{"a": 01}'])
def test_not_json_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedDocument) as caught:
        parse_document(raw)
    assert caught.value.line is not None and caught.value.column is not None


def test_invalid_utf8_is_malformed() -> None:
    with pytest.raises(MalformedDocument) as caught:
        parse_document(b'{"name":\n "Caf\xe9"}')  # Latin-1, not UTF-8

    assert "UTF-8" in caught.value.message
    assert (caught.value.line, caught.value.column) == (2, 6)


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}'])
def test_nan_and_infinity_are_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedDocument) as caught:
        parse_document(raw)
    assert caught.value.column == 7


def test_a_repeated_key_is_malformed() -> None:
    with pytest.raises(MalformedDocument, match='"currency"'):
        parse_document(b'{"currency": "EUR", "currency": "USD"}')


def test_an_unpaired_surrogate_escape_is_malformed_but_a_pair_is_fine() -> None:
    assert parse_document(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}
    with pytest.raises(MalformedDocument, match="surrogate"):
        parse_document(b'{"a": ["x", "\\ud800"]}')


@pytest.mark.timeout(60)  # guards against a hang; no timing is asserted
@pytest.mark.parametrize("raw", [b"[" * 100_000, b'{"a":' * 100_000, b"[" * 1_000_000 + b"]" * 1_000_000])
def test_deep_nesting_is_malformed_not_a_recursion_error(raw: bytes) -> None:
    with pytest.raises(MalformedDocument) as caught:
        parse_document(raw)
    assert "32" in caught.value.message


def test_nesting_limit_is_exact_and_brackets_in_strings_do_not_count() -> None:
    assert isinstance(parse_document(b"[" * 32 + b"]" * 32), list)
    with pytest.raises(MalformedDocument):
        parse_document(b"[" * 33 + b"]" * 33)
    assert parse_document(b'{"notes": "' + b"[{" * 1000 + b'"}') == {"notes": "[{" * 1000}
    assert parse_document(b"[" * 5 + b"]" * 5, max_depth=5) == [[[[[]]]]]
