"""Structured postal addresses (EN 16931 BG-5 / BG-8 / BG-15): the splitter of
free text, the input schema taking text or the object, and the PDF and XLSX
printing the address lines."""

from __future__ import annotations

import dataclasses
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from invoicer.invoice.errors import InvalidInvoice
from invoicer.invoice.legacy import legacy_address
from invoicer.invoice.loader import load_invoice
from invoicer.invoice.model import Address, Party, address_from_text, country_code_of, known_countries
from invoicer.invoice.render_pdf import render_pdf
from invoicer.invoice.render_xlsx import render_xlsx
from invoicer.invoice.schema import PartyDocument, json_schema

from .conftest import example_invoice


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Obere Str. 57\n12209 Berlin\nGermany",
            Address(line1="Obere Str. 57", postal_code="12209", city="Berlin", country_code="DE"),
        ),
        ("12 Harbour Road\nBristol BS1 4XX", Address(line1="12 Harbour Road", city="Bristol", postal_code="BS1 4XX")),
        (
            "Galeries Lafayette\n40 boulevard Haussmann\n75009 Paris\nFrance",
            Address(
                line1="Galeries Lafayette",
                line2="40 boulevard Haussmann",
                postal_code="75009",
                city="Paris",
                country_code="FR",
            ),
        ),
        (
            "350 Fifth Avenue\nNew York, NY 10001\nUSA",
            Address(line1="350 Fifth Avenue", city="New York", region="NY", postal_code="10001", country_code="US"),
        ),
        ("New York, NY 10001", Address(city="New York", region="NY", postal_code="10001")),
        (
            "Kerkstraat 1\n1011 AB Amsterdam\nNiederlande",
            Address(line1="Kerkstraat 1", postal_code="1011 AB", city="Amsterdam", country_code="NL"),
        ),
        (
            "ul. Marszałkowska 1\n00-950 Warszawa\nPologne",
            Address(line1="ul. Marszałkowska 1", postal_code="00-950", city="Warszawa", country_code="PL"),
        ),
        ("  Hof 3 \n\n Hinterhaus\r\nBerlin  ", Address(line1="Hof 3", line2="Hinterhaus\nBerlin")),
        ("Obere Str. 57\nDE", Address(line1="Obere Str. 57", country_code="DE")),
        ("4-5-6 Umeda\nOsaka 530-0001", Address(line1="4-5-6 Umeda", line2="Osaka 530-0001")),
    ],
)
def test_address_from_text_splits_what_it_recognises(text: str, expected: Address) -> None:
    assert address_from_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Obere Str. 57\n12209 Berlin\nGermany",
        "12 Harbour Road\nBristol BS1 4RW\nUnited Kingdom",
        "350 Fifth Avenue\nNew York, NY 10001",
        "Łódź\nul. Piotrkowska 1\nPolska",  # no country name CLDR gives in en/de/fr: kept as typed
        "1-2-3 Marunouchi\nChiyoda-ku, Tokyo 100-0005\nJapan",
        "\n".join(f"Obere Str. {i}" for i in range(1, 40)),
    ],
)
def test_a_text_address_prints_as_typed(text: str) -> None:
    address = address_from_text(text)
    assert address is not None and address.lines == text.splitlines()


def test_a_country_is_printed_by_its_english_name() -> None:
    address = address_from_text("Hauptstr. 1\n80331 München\nDeutschland")
    assert address == Address(line1="Hauptstr. 1", postal_code="80331", city="München", country_code="DE")
    assert address.lines == ["Hauptstr. 1", "80331 München", "Germany"]


def test_blank_text_is_no_address() -> None:
    assert address_from_text(" \n\t\n") is None
    assert Party(name="x", address="  ").address is None  # type: ignore[arg-type]


def test_printed_lines_follow_the_country() -> None:
    berlin = Address(line1="Obere Str. 57", line2="Hinterhaus", postal_code="12209", city="Berlin", region="Berlin")
    assert dataclasses.replace(berlin, country_code="DE").lines == [
        "Obere Str. 57",
        "Hinterhaus",
        "12209 Berlin",
        "Germany",
    ]
    potsdam = dataclasses.replace(berlin, postal_code="14467", city="Potsdam", region="Brandenburg", country_code="DE")
    assert potsdam.lines == ["Obere Str. 57", "Hinterhaus", "14467 Potsdam", "Brandenburg", "Germany"]
    bristol = Address(line1="12 Harbour Road", city="Bristol", postal_code="BS1 4RW", country_code="GB")
    assert bristol.lines == ["12 Harbour Road", "Bristol BS1 4RW", "United Kingdom"]
    us = Address(line1="1 Main St", city="Springfield", region="IL", postal_code="62701", country_code="US")
    assert us.lines == ["1 Main St", "Springfield, IL 62701", "United States"]


def test_countries_are_iso_3166_alpha_2_from_cldr() -> None:
    assert {"DE", "GB", "FR", "US", "JP"} <= known_countries()
    assert not {"EU", "UN", "ZZ", "XK", "001"} & known_countries()
    assert country_code_of("Allemagne") == country_code_of("GERMANY") == country_code_of("DE") == "DE"
    assert country_code_of("de") is None and country_code_of("Berlin") is None


def test_legacy_addresses_are_split_on_commas_then_structured() -> None:
    assert legacy_address("Obere Str. 57, 12209 Berlin, Germany") == Address(
        line1="Obere Str. 57", postal_code="12209", city="Berlin", country_code="DE"
    )
    assert legacy_address("12 Harbour Road, Bristol, UK") == Address(
        line1="12 Harbour Road", line2="Bristol", country_code="GB"
    )


def _document(address) -> dict:
    party = {"name": "Maria Anders", "address": address}
    line = {"description": "Tea", "quantity": "1", "unit_price": "1", "tax_rate": "19"}
    return {
        "invoice_number": "A-1",
        "issue_date": "2026-11-02",
        "currency": "EUR",
        "seller": {"name": "Northwind"},
        "buyer": party,
        "lines": [line],
    }


def test_the_input_takes_text_or_the_object() -> None:
    structured = {"line1": "Obere Str. 57", "postal_code": "12209", "city": "Berlin", "country_code": "DE"}
    from_text = load_invoice(_document("Obere Str. 57\n12209 Berlin\nGermany")).buyer.address
    from_object = load_invoice(_document(structured)).buyer.address
    assert from_text == from_object == Address(**structured)


@pytest.mark.parametrize(
    ("address", "pointer", "code"),
    [
        ({"country_code": "XX"}, "/buyer/address/country_code", "unknown_country"),
        ({"country_code": "Germany"}, "/buyer/address/country_code", "pattern"),
        ({"city": "Ber\nlin"}, "/buyer/address/city", "control_character"),
        ({"postal_code": "1" * 33}, "/buyer/address/postal_code", "too_long"),
        ({"town": "Berlin"}, "/buyer/address/town", "unknown_field"),
        (["Obere Str. 57"], "/buyer/address", "type"),
        (None, "/buyer/address", "type"),
        ("Obere Str. 57\u2028Berlin", "/buyer/address", "control_character"),
    ],
)
def test_invalid_addresses_point_at_the_field(address, pointer: str, code: str) -> None:
    with pytest.raises(InvalidInvoice) as raised:
        load_invoice(_document(address))
    assert [(error.pointer, error.code) for error in raised.value.errors] == [(pointer, code)]


def test_the_json_schema_shows_text_or_address() -> None:
    schema = json_schema(PartyDocument, description="party")
    options = schema["properties"]["address"]["anyOf"]
    assert options[0]["type"] == "string" and options[1] == {"$ref": "#/$defs/Address"}
    fields = schema["$defs"]["Address"]["properties"]
    assert list(fields) == ["line1", "line2", "city", "postal_code", "region", "country_code"]
    country = next(option for option in fields["country_code"]["anyOf"] if option.get("type") != "null")
    assert "DE" in country["enum"]
    assert {"type": "null"} in fields["country_code"]["anyOf"]  # null: no country, as absent


STRUCTURED_BUYER = Party(
    name="Maria Anders",
    address=Address(line1="Obere Str. 57", line2="Hinterhaus", postal_code="12209", city="Berlin", country_code="DE"),
)


def test_the_pdf_prints_the_address_lines() -> None:
    invoice = dataclasses.replace(example_invoice(), buyer=STRUCTURED_BUYER)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(invoice))).pages)
    block = text[text.index("Maria Anders") :]
    positions = [block.index(line) for line in ("Obere Str. 57", "Hinterhaus", "12209 Berlin", "Germany")]
    assert positions == sorted(positions)


def test_the_xlsx_prints_the_address_lines() -> None:
    invoice = dataclasses.replace(example_invoice(), buyer=STRUCTURED_BUYER)
    sheet = load_workbook(io.BytesIO(render_xlsx(invoice))).active
    values = [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    for line in ("Obere Str. 57", "Hinterhaus", "12209 Berlin", "Germany"):
        assert line in values
