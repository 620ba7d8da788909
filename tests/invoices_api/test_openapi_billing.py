"""/openapi.json describes every billing route the invoices service serves (no stack)."""

from __future__ import annotations

import json
import re
from typing import Any

from invoicer.gateway.openapi import openapi_document
from invoicer.invoices.app import create_app


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def test_every_billing_route_is_documented_with_an_operation_id(offline_settings):
    document = openapi_document("http://gateway.example")
    served = set()
    for rule in create_app(offline_settings).url_map.iter_rules():
        if rule.endpoint.startswith("invoices."):
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert served and served <= documented, served - documented
    billing = [document["paths"][path][method] for path, method in served]
    assert all(op.get("operationId") for op in billing)
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values() if "operationId" in op]
    assert len(ids) == len(set(ids)), ids
    invoice = document["components"]["schemas"]["InvoiceRecord"]
    for field in (
        "id",
        "status",
        "number",
        "series",
        "client_id",
        "totals",
        "payments",
        "credit_notes",
        "files",
        "created_at",
        "issued_at",
        "lines",
        "buyer",
        "seller",
    ):
        assert field in invoice["properties"], field
    totals = document["components"]["schemas"]["RecordTotals"]["required"]
    assert totals == ["currency", "net", "tax", "gross", "paid", "credited", "balance_due"]
    for ref in _refs(document):
        assert ref.rsplit("/", 1)[1] in document["components"]["schemas"], ref
    patch = document["paths"]["/invoices/{invoice_id}"]["patch"]
    assert {"412", "428", "409"} <= set(patch["responses"])
    assert "Idempotency-Key" in json.dumps(document["paths"]["/invoices"]["post"]["parameters"])
