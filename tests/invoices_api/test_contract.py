"""The invoices service's contract: models and the generated OpenAPI fragment (no stack)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest
from pydantic import BaseModel

from invoicer.common import contracts
from invoicer.gateway.openapi import openapi_document
from invoicer.invoices import models
from invoicer.invoices.contract import OPERATIONS, openapi_fragment


def _input_models() -> list[type[BaseModel]]:
    found = [value for value in vars(models).values() if isinstance(value, type) and issubclass(value, BaseModel)]
    return [model for model in found if issubclass(model, models.InputModel) and model is not models.InputModel]


def test_every_input_model_refuses_unknown_fields():
    inputs = _input_models()
    assert {"ClientCreate", "InvoiceCreate", "PaymentCreate", "OrderCreate", "CreditNoteCreate"} <= {
        model.__name__ for model in inputs
    }
    for model in inputs:
        assert model.model_config.get("extra") == "forbid", model


def test_the_fragment_is_built_without_flask_or_a_database():
    code = (
        "import sys; from invoicer.invoices.contract import openapi_fragment; openapi_fragment();"
        " bad = [m for m in ('flask', 'psycopg2', 'invoicer.invoices.routes') if m in sys.modules];"
        " sys.exit(str(bad) if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_every_array_says_what_its_items_are():
    def arrays(node):
        if isinstance(node, dict):
            if node.get("type") == "array" or (isinstance(node.get("type"), list) and "array" in node["type"]):
                yield node
            for value in node.values():
                yield from arrays(value)
        elif isinstance(node, list):
            for value in node:
                yield from arrays(value)

    document = openapi_document("http://gateway.example")
    assert all("items" in array for array in arrays(document))
    lines = document["components"]["schemas"]["CreditNoteRef"]["properties"]["lines"]
    assert lines["items"] == {"$ref": "#/components/schemas/CreditLineRead"}


def test_operations_keep_their_ids_and_bodies_their_models():
    fragment = openapi_fragment()
    ids = {op["operationId"] for ops in fragment["paths"].values() for op in ops.values()}
    assert {"createDraft", "updateDraft", "issueInvoice", "recordPayment", "issueCreditNote", "getDashboard"} <= ids
    assert len(ids) == len(OPERATIONS)
    draft = fragment["paths"]["/invoices"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert draft == {"$ref": "#/components/schemas/DraftInput"}
    schema = fragment["components"]["schemas"]["DraftInput"]
    assert schema["additionalProperties"] is False and schema["required"] == ["client_id"]
    invoice = fragment["components"]["schemas"]["InvoiceRecord"]["properties"]
    assert invoice["actions"]["items"] == {
        "type": "string",
        "enum": ["edit", "delete", "issue", "send", "record_payment", "credit", "refund"],
    }
    assert "role" in invoice["actions"]["description"]


def test_the_party_and_line_of_the_fragment_are_the_uploads():
    fragment = openapi_fragment()["components"]["schemas"]
    document = openapi_document("http://gateway.example")["components"]["schemas"]
    assert fragment["Party"] == document["Party"] and fragment["Line"] == document["Line"]
    client = fragment["ClientCreate"]["properties"]
    assert set(fragment["Party"]["properties"]) <= set(client)


def test_merging_refuses_a_second_definition():
    document = {"paths": {"/a": {}}, "components": {"schemas": {"Error": contracts.ERROR_SCHEMA}}}
    contracts.merge_into(document, {"components": {"schemas": {"Error": contracts.ERROR_SCHEMA}}})
    with pytest.raises(ValueError, match="/a"):
        contracts.merge_into(document, {"paths": {"/a": {}}})
    with pytest.raises(ValueError, match="Error"):
        contracts.merge_into(document, {"components": {"schemas": {"Error": {"type": "string"}}}})


def test_read_models_answer_the_json_the_api_always_answered():
    from datetime import UTC, date, datetime

    line = models.LineRead.model_validate(
        {"description": "Tea", "quantity": "12", "unit_price": "18.00", "tax_rate": "19"}
    )
    assert line.model_dump(mode="json") == {
        "description": "Tea",
        "quantity": "12",
        "unit_price": "18.00",
        "tax_rate": "19",
    }
    payment = models.PaymentRead.model_validate(
        {
            "id": "00000000-0000-0000-0000-000000000001",
            "amount": Decimal("10.50"),
            "date": date(2026, 11, 2),
            "created_at": datetime(2026, 11, 2, 9, 30, 1, 123456, tzinfo=UTC),
        }
    )
    assert json.loads(payment.model_dump_json()) == {
        "id": "00000000-0000-0000-0000-000000000001",
        "amount": "10.50",
        "date": "2026-11-02",
        "method": None,
        "reference": None,
        "created_at": "2026-11-02T09:30:01.123Z",
    }
