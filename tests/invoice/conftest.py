"""Invoices for the renderer tests, built directly from the model's dataclasses
(no loading or validation module involved)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from invoicer.invoice.model import Invoice, Line, Party

MARKUP = "<font color=red>x</font> & <para>"

# User text that a spreadsheet would take for a formula, and markup that a
# ReportLab Paragraph would interpret.
HOSTILE = ["=1+1", "+SUM(A1)", "-2", "@cmd", MARKUP, '=HYPERLINK("http://evil.example","x")']


def example_invoice() -> Invoice:
    """/work/shared/examples/invoice.json, field for field."""
    return Invoice(
        invoice_number="INV-2026-0001",
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        currency="EUR",
        seller=Party(
            name="Northwind Traders Ltd",
            address="12 Harbour Road\nBristol BS1 4RW\nUnited Kingdom",
            phone="+44 117 496 0123",
            email="billing@northwind.example",
            vat_id="GB980780684",
        ),
        buyer=Party(
            name="Maria Anders",
            company="Alfreds Futterkiste",
            address="Obere Str. 57\n12209 Berlin\nGermany",
            email="maria.anders@alfreds.example",
            vat_id="DE987654328",
        ),
        ship_to=Party(
            name="Maria Anders",
            company="Alfreds Futterkiste (Warehouse)",
            address="Lagerweg 3\n12209 Berlin\nGermany",
        ),
        lines=(
            Line(1, "Chai tea, 10 boxes x 20 bags", Decimal("12"), Decimal("18.00"), Decimal("19"), "box"),
            Line(2, "Aniseed syrup, 12 x 550 ml bottles", Decimal("4"), Decimal("10.00"), Decimal("19"), "case"),
            Line(3, "Recipe book: Cajun cooking", Decimal("1"), Decimal("24.50"), Decimal("7"), "piece"),
        ),
        payment_terms="Net 30. Bank transfer to IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX.",
        notes="Thank you for your business.",
    )


def jpy_invoice() -> Invoice:
    return Invoice(
        invoice_number="JP-2026-042",
        issue_date=date(2026, 4, 1),
        due_date=date(2026, 4, 30),
        currency="JPY",
        seller=Party(name="Sakura Components KK", address="1-2-3 Marunouchi\nChiyoda-ku, Tokyo 100-0005\nJapan"),
        buyer=Party(name="Kenji Sato", company="Hikari Trading", address="4-5-6 Umeda\nOsaka 530-0001"),
        lines=(
            Line(1, "Ceramic capacitors, reel of 5000", Decimal("3"), Decimal("12500"), Decimal("10"), "reel"),
            Line(2, "Soldering service", Decimal("2.5"), Decimal("4999"), Decimal("10"), "hour"),
            Line(3, "Packaging", Decimal("1"), Decimal("333"), Decimal("8"), None),
        ),
        payment_terms="Payment within 30 days.",
    )


def long_invoice(n_lines: int = 65) -> Invoice:
    """A multi-page invoice, no Ship To, some long wrapping descriptions."""
    rates = [Decimal("19"), Decimal("7"), Decimal("0"), Decimal("7.5")]
    lines = tuple(
        Line(
            i,
            f"Item {i}: spare part" + (" with a long description that has to wrap onto several lines" * (i % 4)),
            Decimal(i % 7 + 1),
            Decimal("3.15") * i,
            rates[i % 4],
            "pcs",
        )
        for i in range(1, n_lines + 1)
    )
    base = example_invoice()
    return Invoice(
        invoice_number="INV-2026-0999",
        issue_date=date(2026, 1, 15),
        due_date=date(2026, 2, 14),
        currency="EUR",
        seller=base.seller,
        buyer=base.buyer,
        lines=lines,
        payment_terms="Net 30. " + "Late payments incur statutory interest. " * 8,
        notes="Delivery in two shipments.\nSecond shipment follows in March.",
    )


def hostile_invoice() -> Invoice:
    """Formula and markup text in every user field."""
    party = Party(
        name="=1+1",
        company="+SUM(A1)",
        address=f"-2\n@cmd\n{MARKUP}",
        phone="+44 20 7946 0000",
        email="@cmd",
        vat_id='=HYPERLINK("http://evil.example","x")',
    )
    return Invoice(
        invoice_number="=1+1",
        issue_date=date(2026, 3, 1),
        due_date=None,
        currency="GBP",
        seller=party,
        buyer=Party(name=MARKUP, company="-2", address="+SUM(A1)\n=1+1"),
        ship_to=Party(name="@cmd", address=MARKUP),
        lines=tuple(
            Line(i, text, Decimal("1"), Decimal("10.00"), Decimal("20"), unit=text)
            for i, text in enumerate(HOSTILE, start=1)
        ),
        payment_terms="=1+1",
        notes=MARKUP,
    )


def non_latin_invoice() -> Invoice:
    return Invoice(
        invoice_number="DK-2026-7",
        issue_date=date(2026, 6, 5),
        due_date=date(2026, 7, 5),
        currency="EUR",
        seller=Party(name="Søren Ølstad", address="Łódź\nul. Piotrkowska 1\nPolska", vat_id="PL1234567890"),
        buyer=Party(name="Αθήνα Παπαδοπούλου", company="Москва Торг", address="ул. Тверская 7\nМосква\nРоссия"),
        ship_to=Party(name="Αθήνα", address="Οδός Ερμού 10\nΑθήνα"),
        lines=(
            Line(
                1,
                "Smørrebrød — Łódź special, Αθήνα edition, Москва delivery",
                Decimal("2"),
                Decimal("45.00"),
                Decimal("25"),
                "stk",
            ),
            Line(
                2,
                "Consulting " + "(very long description, wrapping) " * 40 + "https://example.com/" + "x" * 150,
                Decimal("1.5"),
                Decimal("1200.00"),
                Decimal("25"),
                "hour",
            ),
        ),
        payment_terms="Betaling inden 14 dage. Оплата в течение 14 дней.",
        notes="Tak for handlen! Ευχαριστούμε! Спасибо!",
    )


@pytest.fixture
def example() -> Invoice:
    return example_invoice()


@pytest.fixture
def jpy() -> Invoice:
    return jpy_invoice()


@pytest.fixture
def long() -> Invoice:
    return long_invoice()


@pytest.fixture
def long_of():
    """``long_of(n)``: a long invoice with ``n`` lines."""
    return long_invoice


@pytest.fixture
def markup() -> str:
    return MARKUP


@pytest.fixture
def hostile() -> Invoice:
    return hostile_invoice()


@pytest.fixture
def non_latin() -> Invoice:
    return non_latin_invoice()
