"""The expenses service's OpenAPI fragment, generated from :mod:`.models` and the route
table below; the gateway merges it into ``/openapi.json`` through the component registry
(``contract=``), without importing Flask or a database."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..common.contracts import ERROR_SCHEMA
from . import models as m

__all__ = ["openapi_fragment"]

_ID = {"name": "expense_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": 'The ETag of the expense ("v<n>")',
}
_FILTERS = [
    {"name": "status", "in": "query", "schema": {"enum": list(m.EXPENSE_STATUSES)}},
    {"name": "supplier", "in": "query", "schema": {"type": "string"}, "description": "Part of the supplier's name"},
    {
        "name": "q",
        "in": "query",
        "schema": {"type": "string"},
        "description": "Part of the supplier's name or the invoice number",
    },
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
]
_PAGE = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
]
_UPLOAD: dict[str, Any] = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {
                    "type": "string",
                    "format": "binary",
                    "description": "PDF, PNG, JPEG, TIFF or CII/UBL XML; at most 10 MB",
                }
            },
        }
    }
}

#: (method, path, operationId, summary, body model, answer status, answer model, parameters)
_OPERATIONS: list[tuple[str, str, str, str, type[BaseModel] | None, str, type[BaseModel] | None, list[Any]]] = [
    (
        "post",
        "/expenses",
        "createExpense",
        "Upload a received invoice or receipt (multipart, 202) or type one in (JSON, 201)",
        m.ExpenseCreate,
        "201",
        m.ExpenseRead,
        [],
    ),
    (
        "get",
        "/expenses",
        "listExpenses",
        "The organisation's expenses, newest first",
        None,
        "200",
        m.ExpensePage,
        [*_FILTERS, *_PAGE],
    ),
    ("get", "/expenses.csv", "exportExpenses", "The expenses as CSV for the accountant", None, "200", None, _FILTERS),
    ("get", "/expenses/categories", "getExpenseCategories", "The expense categories", None, "200", None, []),
    (
        "put",
        "/expenses/categories",
        "setExpenseCategories",
        "Replace the expense categories",
        m.ExpenseCategories,
        "200",
        None,
        [],
    ),
    (
        "get",
        "/expenses/{expense_id}",
        "getExpense",
        "An expense with its fields, checks and warnings",
        None,
        "200",
        m.ExpenseRead,
        [_ID],
    ),
    (
        "patch",
        "/expenses/{expense_id}",
        "correctExpense",
        "Correct fields (source person), category, notes",
        m.ExpenseUpdate,
        "200",
        m.ExpenseRead,
        [_ID, _IF_MATCH],
    ),
    (
        "get",
        "/expenses/{expense_id}/document",
        "getExpenseDocument",
        "The document as uploaded",
        None,
        "200",
        None,
        [_ID],
    ),
    (
        "post",
        "/expenses/{expense_id}/submit",
        "submitExpense",
        "Submit for approval (confirming warnings)",
        m.ExpenseSubmit,
        "200",
        m.ExpenseRead,
        [_ID],
    ),
    (
        "post",
        "/expenses/{expense_id}/approve",
        "approveExpense",
        "Approve (not what you submitted)",
        None,
        "200",
        m.ExpenseRead,
        [_ID],
    ),
    (
        "post",
        "/expenses/{expense_id}/reject",
        "rejectExpense",
        "Reject, with a reason",
        m.ExpenseReject,
        "200",
        m.ExpenseRead,
        [_ID],
    ),
    (
        "post",
        "/expenses/{expense_id}/payments",
        "payExpense",
        "Record a payment to the supplier",
        m.ExpensePaymentCreate,
        "201",
        m.ExpenseRead,
        [_ID],
    ),
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


@lru_cache(maxsize=1)
def _schemas() -> dict[str, Any]:
    used = {model for op in _OPERATIONS for model in (op[4], op[6]) if model is not None}
    models = sorted(used, key=lambda model: model.__name__)
    _, definitions = models_json_schema(
        [(model, "validation" if issubclass(model, m.InputModel) else "serialization") for model in models],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    return schemas


def openapi_fragment() -> dict[str, Any]:
    """``{"paths", "components": {"schemas"}}`` of every route of the expenses service."""
    paths: dict[str, Any] = {}
    for method, path, operation_id, summary, body, status, answer, parameters in _OPERATIONS:
        responses: dict[str, Any] = {
            status: {"description": summary}
            if answer is None
            else {"description": summary, "content": {"application/json": {"schema": _ref(answer.__name__)}}},
            "401": _error("Missing, invalid or expired token"),
            "404": _error("No such expense in your organisation"),
            "503": _error("The expenses service or its database is down"),
        }
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["expenses"],
            "security": [{"bearerAuth": []}],
            "responses": responses,
        }
        if parameters:
            operation["parameters"] = parameters
            if any(p["in"] == "query" for p in parameters):
                responses["400"] = _error("Bad query parameter")
        if body is not None:
            content: dict[str, Any] = {"application/json": {"schema": _ref(body.__name__)}}
            if operation_id == "createExpense":
                content = {**_UPLOAD, **content}
                responses["202"] = {
                    "description": "The document is stored and being read",
                    "content": {"application/json": {"schema": _ref("ExpenseRead")}},
                }
                responses["413"] = _error("The document is larger than 10 MB")
                responses["415"] = _error(
                    "Not a PDF, an image or an e-invoice XML, or a body neither JSON nor multipart"
                )
            operation["requestBody"] = {"required": operation_id != "submitExpense", "content": content}
        if body is not None:
            responses.setdefault("400", _error("Malformed JSON (or, for a document, no multipart field 'file')"))
            responses.setdefault("415", _error("The body is neither JSON nor, for a document, multipart"))
        if method == "patch":
            responses["412"] = _error("If-Match names another version: reload the expense")
            responses["428"] = _error("If-Match is missing")
        if method != "get":
            responses["403"] = _error("Your role cannot do this (viewers read; nobody approves their own)")
            responses["409"] = _error("Not in a state that allows this, or warnings to confirm")
            responses["422"] = _error("The body breaks a rule: details point into it")
        paths.setdefault(path, {})[method] = operation
    fragment: dict[str, Any] = json.loads(
        json.dumps({"paths": paths, "components": {"schemas": {**_schemas(), "Error": ERROR_SCHEMA}}})
    )
    return fragment
