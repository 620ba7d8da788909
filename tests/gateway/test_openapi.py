"""The OpenAPI document tells clients what an upload is (no stack needed)."""

from __future__ import annotations

import json
from typing import Any

from invoicer.gateway.openapi import openapi_document
from invoicer.invoice.loader import invoice_json_schema


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def test_every_operation_has_a_unique_operation_id():
    document = openapi_document("http://gateway.example")
    ids = [operation.get("operationId") for path in document["paths"].values() for operation in path.values()]
    assert all(ids) and len(set(ids)) == len(ids), ids
    assert document["paths"]["/upload"]["post"]["operationId"] == "uploadInvoice"


def test_the_invoice_schema_is_the_generated_one_with_component_references():
    document = openapi_document("http://gateway.example")
    schemas = document["components"]["schemas"]
    generated = invoice_json_schema()

    assert set(schemas["Invoice"]["properties"]) == set(generated["properties"])
    assert schemas["Invoice"]["required"] == generated["required"]
    assert schemas["Line"]["properties"]["quantity"] == generated["$defs"]["Line"]["properties"]["quantity"]
    assert "LegacyInvoice" in schemas and "LegacyItem" in schemas
    assert '"#/$defs/' not in json.dumps(document) and "$schema" not in schemas["Invoice"]
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref


def test_upload_accepts_either_format_as_json_body_or_multipart_file():
    upload = openapi_document("http://gateway.example")["paths"]["/upload"]["post"]["requestBody"]["content"]
    either = "#/components/schemas/UploadedInvoice"
    assert upload["application/json"]["schema"] == {"$ref": either}
    file = upload["multipart/form-data"]["schema"]["properties"]["file"]
    assert file["format"] == "binary" and file["contentSchema"] == {"$ref": either}
    assert upload["multipart/form-data"]["schema"]["required"] == ["file"]
    schemas = openapi_document("http://gateway.example")["components"]["schemas"]
    assert schemas["UploadedInvoice"]["anyOf"] == [
        {"$ref": "#/components/schemas/Invoice"}, {"$ref": "#/components/schemas/LegacyInvoice"}]
