"""EN 16931 totals of invoices as loaded from users' documents.

The numbers are the ones a user sees on the PDF, the XLSX and in the API.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from invoicer.invoice.loader import load_invoice
from invoicer.invoice.model import Invoice
from invoicer.invoice.parsing import parse_document

SHARED_EXAMPLE = Path(__file__).parents[2] / "examples/invoice.json"


def invoice_with(lines: list[tuple[str, str, str]], currency: str = "EUR") -> Invoice:
    """An invoice in ``currency`` with (quantity, unit_price, tax_rate) lines, all strings."""
    document: dict[str, Any] = {
        "invoice_number": "T-1",
        "issue_date": "2026-11-02",
        "currency": currency,
        "seller": {"name": "Seller"},
        "buyer": {"name": "Buyer"},
        "lines": [
            {"description": f"item {n}", "quantity": q, "unit_price": p, "tax_rate": r}
            for n, (q, p, r) in enumerate(lines, start=1)
        ],
    }
    return load_invoice(document)


def test_shared_example_totals() -> None:
    invoice = load_invoice(parse_document(SHARED_EXAMPLE.read_bytes()))
    totals = invoice.totals

    assert totals.line_nets == (Decimal("216.00"), Decimal("40.00"), Decimal("24.50"))
    assert totals.net == Decimal("280.50")
    assert [(v.rate, v.taxable_amount, v.tax_amount) for v in totals.vat_breakdown] == [
        (Decimal("19"), Decimal("256.00"), Decimal("48.64")),
        (Decimal("7"), Decimal("24.50"), Decimal("1.72")),  # 1.715 rounded half up
    ]
    assert totals.tax == Decimal("50.36")
    assert totals.gross == Decimal("330.86")
    assert totals.as_strings() == {"currency": "EUR", "net": "280.50", "tax": "50.36", "gross": "330.86"}


def test_jpy_has_no_minor_unit_and_rounds_half_up() -> None:
    totals = invoice_with([("3", "333.5", "10")], currency="JPY").totals

    assert totals.line_nets == (Decimal("1001"),)  # 1000.5 -> 1001
    assert totals.tax == Decimal("100")  # 100.1 -> 100
    assert totals.gross == Decimal("1101")
    assert str(totals.gross) == "1101"


def test_kwd_has_three_decimals() -> None:
    totals = invoice_with([("1", "1.2345", "10")], currency="KWD").totals

    assert totals.line_nets == (Decimal("1.235"),)
    assert totals.tax == Decimal("0.124")  # 0.1235 -> 0.124
    assert str(totals.gross) == "1.359"


def test_several_vat_rates_each_get_a_breakdown_line() -> None:
    totals = invoice_with([("2", "50.00", "20"), ("1", "10.00", "5.5"), ("4", "2.50", "0"), ("1", "1.00", "20")]).totals

    assert [(v.rate, v.taxable_amount, v.tax_amount) for v in totals.vat_breakdown] == [
        (Decimal("20"), Decimal("101.00"), Decimal("20.20")),
        (Decimal("5.5"), Decimal("10.00"), Decimal("0.55")),
        (Decimal("0"), Decimal("10.00"), Decimal("0.00")),
    ]
    assert totals.net == Decimal("121.00")
    assert totals.tax == Decimal("20.75")
    assert totals.gross == Decimal("141.75")


def test_vat_is_rounded_once_per_rate_not_per_line() -> None:
    # Each line: 0.07 x 19 % = 0.0133, which would round to 0.01 per line (0.03 in all);
    # per rate (EN 16931 BR-CO-17): 0.21 x 19 % = 0.0399 -> 0.04.
    totals = invoice_with([("1", "0.07", "19")] * 3).totals

    assert totals.net == Decimal("0.21")
    assert totals.tax == Decimal("0.04")
    assert totals.gross == Decimal("0.25")


def test_rounding_is_half_up_not_bankers() -> None:
    # Banker's rounding would give 0.12 (line net) and 0.02 (VAT).
    line_totals = invoice_with([("1", "0.125", "0")]).totals
    vat_totals = invoice_with([("1", "0.50", "5")]).totals

    assert line_totals.line_nets == (Decimal("0.13"),)
    assert vat_totals.tax == Decimal("0.03")  # 0.025 -> 0.03


def test_equal_rates_written_differently_are_one_rate() -> None:
    totals = invoice_with([("1", "0.07", "19"), ("1", "0.07", "19.00"), ("1", "0.07", "19.0")]).totals

    assert len(totals.vat_breakdown) == 1
    assert totals.vat_breakdown[0].rate == Decimal("19")
    assert totals.vat_breakdown[0].taxable_amount == Decimal("0.21")
    assert totals.tax == Decimal("0.04")  # once on 0.21, not 0.01 three times


def test_json_numbers_and_strings_give_the_same_exact_totals() -> None:
    from_strings = invoice_with([("3", "0.1", "0")])
    from_numbers = load_invoice(
        parse_document(
            b'{"invoice_number": "T-2", "issue_date": "2026-11-02", "currency": "EUR",'
            b' "seller": {"name": "S"}, "buyer": {"name": "B"},'
            b' "lines": [{"description": "d", "quantity": 3, "unit_price": 0.1, "tax_rate": 0}]}'
        )
    )

    assert from_strings.totals.net == from_numbers.totals.net == Decimal("0.30")
    assert str(from_numbers.totals.gross) == "0.30"


def test_vat_rates_keep_plain_notation() -> None:
    totals = invoice_with([("1", "10", "20"), ("1", "10", "100"), ("1", "10", "7.50")]).totals

    assert [str(vat.rate) for vat in totals.vat_breakdown] == ["100", "20", "7.5"]
