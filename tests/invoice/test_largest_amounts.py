"""The largest invoice we accept shows the same amounts, to the minor unit, in
the API, the XLSX and the PDF; one minor unit more is refused.

Excel keeps a number as an IEEE 754 double and shows 15 significant digits, so
every amount is bounded to 15 significant digits down to the currency's minor
unit (EUR 9 999 999 999 999.99, JPY 999 999 999 999 999, KWD 999 999 999 999.999).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from invoicer.invoice.errors import InvalidInvoice
from invoicer.invoice.loader import load_invoice
from invoicer.invoice.model import Invoice, largest_amount, minor_unit
from invoicer.invoice.presentation import Formatter, parse_locale
from invoicer.invoice.render_pdf import render_pdf
from invoicer.invoice.render_xlsx import render_xlsx

CURRENCIES = ["EUR", "JPY", "KWD"]
QUANTITY = "12345.6789012345"  # 15 significant digits


def largest_document(currency: str, extra_minor_units: int = 0) -> dict[str, Any]:
    """Gross exactly ``largest_amount(currency)`` (plus ``extra_minor_units``), with VAT at 25 %
    on four tenths of it and a quantity of 15 significant digits."""
    unit = Decimal(1).scaleb(-minor_unit(currency))
    scale = largest_amount(currency) + unit  # 10 ** (15 - minor unit)
    taxed = (scale * Decimal("0.4")).quantize(unit)  # + 25 % VAT = half the scale
    untaxed = scale / 2 - unit + extra_minor_units * unit
    return {
        "invoice_number": "MAX-1",
        "issue_date": "2026-11-02",
        "currency": currency,
        "seller": {"name": "Northwind Traders Ltd"},
        "buyer": {"name": "Maria Anders"},
        "lines": [
            {"description": "Taxed", "quantity": "1", "unit_price": str(taxed), "tax_rate": "25"},
            {"description": "Untaxed", "quantity": "1", "unit_price": str(untaxed), "tax_rate": "0"},
            {"description": "Counted", "quantity": QUANTITY, "unit_price": "0", "tax_rate": "0"},
        ],
    }


def quantised(value: float, currency: str) -> str:
    return str(Decimal(repr(value)).quantize(Decimal(1).scaleb(-minor_unit(currency))))


@pytest.fixture(params=CURRENCIES)
def largest(request: pytest.FixtureRequest) -> Invoice:
    invoice = load_invoice(largest_document(request.param))
    assert invoice.totals.gross == largest_amount(request.param)
    return invoice


def test_the_api_shows_the_largest_total(largest: Invoice) -> None:
    # What POST /upload stores and GET /jobs/{id} shows (gateway: totals.as_strings()).
    assert largest.totals.as_strings()["gross"] == str(largest_amount(largest.currency))


def test_every_xlsx_amount_reads_back_as_the_apis(largest: Invoice) -> None:
    ws = load_workbook(io.BytesIO(render_xlsx(largest))).active
    totals = largest.totals
    numbers = [cell.value for (cell,) in ws.iter_rows(min_col=7, max_col=7) if isinstance(cell.value, float | int)]

    vat = [vat.tax_amount for vat in totals.vat_breakdown]
    expected = [*totals.line_nets, totals.net, *vat, totals.tax, totals.gross]  # two rates: a Total VAT row
    assert [quantised(n, largest.currency) for n in numbers[-len(expected) :]] == [str(a) for a in expected]
    prices = [cell.value for (cell,) in ws.iter_rows(min_col=5, max_col=5) if isinstance(cell.value, float | int)]
    assert [Decimal(repr(p)) for p in prices] == [line.unit_price for line in largest.lines]
    quantities = [cell.value for (cell,) in ws.iter_rows(min_col=3, max_col=3) if isinstance(cell.value, float | int)]
    assert Decimal(repr(quantities[-1])) == Decimal(QUANTITY)


def test_the_pdf_shows_every_amount(largest: Invoice) -> None:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(largest))).pages)
    fmt = Formatter(largest.currency, parse_locale("en_GB"))
    totals = largest.totals
    for amount in (*totals.line_nets, totals.net, totals.tax, totals.gross):
        assert fmt.money(amount) in text
    assert fmt.number(Decimal(QUANTITY)) in text


@pytest.mark.parametrize("currency", CURRENCIES)
def test_one_minor_unit_more_is_refused_naming_the_total(currency: str) -> None:
    with pytest.raises(InvalidInvoice) as caught:
        load_invoice(largest_document(currency, extra_minor_units=1))

    [error] = caught.value.errors
    assert (error.pointer, error.code) == ("/lines", "amount_too_large")
    over = largest_amount(currency) + Decimal(1).scaleb(-minor_unit(currency))
    assert f"(gross) would be {over}" in error.message
    assert f"at most {largest_amount(currency)}" in error.message


def test_the_amount_the_issue_found_rounded_in_the_xlsx_is_refused() -> None:
    # 999999999999999.99 became 1000000000000000 in the workbook while the API and PDF said ...999.99.
    document = largest_document("EUR")
    document["lines"] = [{"description": "x", "quantity": "1", "unit_price": "999999999999999.99", "tax_rate": "0"}]

    with pytest.raises(InvalidInvoice) as caught:
        load_invoice(document)

    assert [(e.pointer, e.code) for e in caught.value.errors] == [("/lines/0/unit_price", "too_many_digits")]
