"""invoice.schema.json: generated from the input models, and telling clients what the server accepts."""

from __future__ import annotations

import ast
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from invoicer.invoice.errors import InvalidInvoice
from invoicer.invoice.loader import invoice_json_schema, load_invoice, schema_text

PACKAGE = Path(__file__).parents[2] / "src/invoicer/invoice"
SCHEMA_FILE = PACKAGE / "invoice.schema.json"
SHARED = Path(__file__).parents[2] / "examples"


def valid_document() -> dict[str, Any]:
    return {
        "invoice_number": "INV-1",
        "issue_date": "2026-11-02",
        "currency": "EUR",
        "seller": {"name": "Northwind", "address": "12 Harbour Road\nBristol", "email": "a@b.example"},
        "buyer": {"name": "Maria Anders"},
        "lines": [{"description": "Chai", "quantity": "12", "unit_price": "18.00", "tax_rate": "19"}],
    }


def schema_validator() -> Draft202012Validator:
    return Draft202012Validator(
        json.loads(SCHEMA_FILE.read_text("utf-8")), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def test_the_committed_schema_is_the_models_output() -> None:
    assert SCHEMA_FILE.read_text("utf-8") == schema_text(), "invoice.schema.json is stale: run `make schema`"


def test_the_schema_is_json_schema_2020_12() -> None:
    schema = invoice_json_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Invoice" and schema["additionalProperties"] is False
    assert {"Party", "Line", "LegacyInvoice", "LegacyItem"} <= set(schema["$defs"])


def test_the_shared_examples_are_valid_against_the_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text("utf-8"))
    legacy = {**schema, "$ref": "#/$defs/LegacyInvoice"}
    for key in ("properties", "required", "additionalProperties", "type", "title", "description"):
        legacy.pop(key, None)
    schema_validator().validate(json.loads((SHARED / "invoice.json").read_text("utf-8")))
    Draft202012Validator(legacy).validate(json.loads((SHARED / "legacy_invoice_data.json").read_text("utf-8")))


# Rules stated in both the models and the schema: the two must agree.
ACCEPTED = [
    lambda d: d["lines"][0].update(quantity="0.0000000001"),
    lambda d: d["lines"][0].update(quantity="007"),
    lambda d: d["lines"][0].update(quantity=1.5),
    lambda d: d["lines"][0].update(unit_price=18.99),  # a float-based multipleOf check would refuse it
    lambda d: d["lines"][0].update(unit_price="0"),
    lambda d: d["lines"][0].update(unit_price="-0.00"),
    lambda d: d["lines"][0].update(quantity="1", unit_price="9999999999999.99", tax_rate="0"),
    lambda d: d["lines"][0].update(quantity="1", unit_price="000999999999.999000"),
    lambda d: d["lines"][0].update(quantity="10000.0000000000"),
    lambda d: d["lines"][0].update(tax_rate="100"),
    lambda d: d["lines"][0].update(tax_rate="100.0000000000"),
    lambda d: d["lines"][0].update(tax_rate="0"),
    lambda d: d["lines"][0].update(tax_rate="099.5"),
    lambda d: d["lines"][0].update(tax_rate=7),
    lambda d: d["lines"][0].update(description="Chai\ttea\n10 boxes"),
    lambda d: d.update(issue_date="2028-02-29", currency="JPY"),
    lambda d: d["seller"].update(email="", phone=""),
    lambda d: d.update(notes="   "),
]
REJECTED = [
    lambda d: d["lines"][0].update(quantity="0"),
    lambda d: d["lines"][0].update(quantity="0.000"),
    lambda d: d["lines"][0].update(quantity="-1"),
    lambda d: d["lines"][0].update(quantity=0),
    lambda d: d["lines"][0].update(quantity="1e3"),
    lambda d: d["lines"][0].update(quantity="1" * 16),
    lambda d: d["lines"][0].update(quantity="1." + "1" * 11),
    lambda d: d["lines"][0].update(quantity=10**15),
    lambda d: d["lines"][0].update(unit_price="-0.01"),
    lambda d: d["lines"][0].update(quantity="1", unit_price="999999999999999.9999999999"),
    lambda d: d["lines"][0].update(quantity="1", unit_price="999999999999999.99"),
    lambda d: d["lines"][0].update(quantity="1000000000000.001"),
    lambda d: d["lines"][0].update(tax_rate="10.0000000000001"),
    lambda d: d["lines"][0].update(unit_price=-1),
    lambda d: d["lines"][0].update(tax_rate="100.01"),
    lambda d: d["lines"][0].update(tax_rate="101"),
    lambda d: d["lines"][0].update(tax_rate="-1"),
    lambda d: d["lines"][0].update(tax_rate=100.5),
    lambda d: d["lines"][0].update(tax_rate=True),
    lambda d: d.update(currency="ABC"),
    lambda d: d.update(currency="eur"),
    lambda d: d.update(issue_date="2026-02-30"),
    lambda d: d.update(issue_date="2026-2-3"),
    lambda d: d["seller"].update(name="   "),
    lambda d: d["seller"].update(name="Maria\nAnders"),
    lambda d: d["seller"].update(name="x" * 201),
    lambda d: d["seller"].update(email="billing at northwind"),
    lambda d: d["seller"].update(email="a\u0000@b.example"),
    lambda d: d["lines"][0].update(description="\n"),
    lambda d: d["lines"][0].update(description="Chai\u0000"),
    lambda d: d.update(invoice_number="INV\u20281"),
    lambda d: d.update(invoice_number="INV\u20291"),
    lambda d: d["seller"].update(name="Northwind\x85Traders"),
    lambda d: d["seller"].update(vat_id="GB\x9b123"),
    lambda d: d["seller"].update(email="a\u2028@b.example"),
    lambda d: d["seller"].update(email="a\x80@b.example"),
    lambda d: d["seller"].update(address="12 Harbour Road\u2028Bristol"),
    lambda d: d.update(notes="Thanks\x9b"),
    lambda d: d["lines"][0].update(colour="red"),
    lambda d: d["seller"].update(phone=None),
    lambda d: d.update(lines=[]),
]


def changed(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    document = copy.deepcopy(valid_document())
    change(document)
    return document


@pytest.mark.parametrize("change", ACCEPTED)
def test_what_the_schema_accepts_the_server_accepts(change: Callable[[dict[str, Any]], Any]) -> None:
    document = changed(change)
    assert schema_validator().is_valid(document)
    load_invoice(document)


@pytest.mark.parametrize("change", REJECTED)
def test_what_the_server_rejects_the_schema_rejects(change: Callable[[dict[str, Any]], Any]) -> None:
    document = changed(change)
    assert not schema_validator().is_valid(document)
    with pytest.raises(InvalidInvoice):
        load_invoice(document)


# --- layers -------------------------------------------------------------------

LAYERS = ["errors", "parsing", "model", "logo", "schema", "legacy", "loader"]


def _imports(path: Path) -> set[str]:
    """Absolute names of the invoicer modules ``path`` imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = "invoicer.invoice" + (f".{base}" if base else "")
            if base == "invoicer.invoice":
                names.update(f"{base}.{alias.name}" for alias in node.names)
            else:
                names.add(base)
    return {name for name in names if name.split(".")[0] == "invoicer"}


def test_the_invoice_package_imports_nothing_else_of_ours() -> None:
    for path in PACKAGE.glob("*.py"):
        outside = {name for name in _imports(path) if not name.startswith("invoicer.invoice")}
        assert not outside, f"{path.name} imports {outside}"


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_import_only_the_layers_below(layer: str) -> None:
    allowed = {f"invoicer.invoice.{name}" for name in LAYERS[: LAYERS.index(layer)]}
    imported = _imports(PACKAGE / f"{layer}.py")
    assert imported <= allowed, f"{layer} imports {imported - allowed}"


# --- logo -----------------------------------------------------------------------


def _png_base64(width: int, height: int) -> str:
    import base64
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 80, 160)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def test_a_logo_in_base64_reaches_the_invoice() -> None:
    document = {**valid_document(), "logo": _png_base64(30, 10)}
    assert schema_validator().is_valid(document)
    invoice = load_invoice(document)
    assert invoice.logo is not None and invoice.logo.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "logo",
    [
        "not base64 at all!",
        "aGVsbG8gd29ybGQ=",  # base64 of text, not of an image
        pytest.param(None, id="null"),
        pytest.param("wide", id="5000x10"),
    ],
)
def test_a_logo_that_is_no_image_we_take_is_refused(logo: str | None) -> None:
    document = {**valid_document(), "logo": _png_base64(5000, 10) if logo == "wide" else logo}
    with pytest.raises(InvalidInvoice) as refused:
        load_invoice(document)
    assert [error.pointer for error in refused.value.errors] == ["/logo"]
    if logo not in (None,):
        assert refused.value.errors[0].code == "invalid_logo"
