"""The billing part of the gateway's OpenAPI document: the routes the gateway
forwards to the invoices service (:mod:`invoicer.gateway.forward`), their
bodies and answers (the shapes of :mod:`invoicer.invoices.views`).

:func:`billing_paths` and :func:`billing_schemas` are merged into
:func:`invoicer.gateway.openapi.openapi_document`. Schema names are prefixed
where the upload's schemas could clash (``InvoiceRecord``, not ``Invoice``).
"""

from __future__ import annotations

from typing import Any

from ..invoice import formats as output_formats

__all__ = ["billing_paths", "billing_schemas"]

_MONEY = {"type": "string", "description": "Decimal string", "examples": ["12.50"]}
_DATE = {"type": ["string", "null"], "format": "date"}
_MOMENT = {"type": ["string", "null"], "format": "date-time"}
_ID = {"type": "string", "format": "uuid"}
_TEXT = {"type": ["string", "null"]}
_STATUSES = ["draft", "issued", "sent", "partially_paid", "paid", "credited"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


def _page_of(name: str) -> dict[str, Any]:
    return _object(
        {
            "items": {"type": "array", "items": _ref(name)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
        ["items", "page", "per_page", "total"],
    )


_PARTY_FIELDS: dict[str, Any] = {
    **dict.fromkeys(("name", "company", "email", "phone", "vat_id"), _TEXT),
    # Answers give the structured address; requests may still send today's free text.
    "address": {"anyOf": [{"$ref": "#/components/schemas/Address"}, {"type": "string"}, {"type": "null"}]},
}


def billing_schemas() -> dict[str, Any]:
    """The component schemas the billing paths refer to."""
    line = _object(
        {
            "description": {"type": "string"},
            "quantity": _MONEY,
            "unit": _TEXT,
            "unit_price": _MONEY,
            "tax_rate": {**_MONEY, "description": "VAT rate in percent"},
        },
        ["description", "quantity", "unit_price", "tax_rate"],
        description="An invoice line exactly as in the canonical upload (EN 16931 BG-25)",
    )
    totals = _object(
        dict.fromkeys(("net", "tax", "gross", "paid", "credited", "balance_due"), _MONEY)
        | {"currency": {"type": "string"}},
        ["currency", "net", "tax", "gross", "paid", "credited", "balance_due"],
        description="EN 16931 BT-109, BT-110, BT-112; balance_due = gross - paid - credited (BT-115)",
    )
    payment = _object(
        {"id": _ID, "amount": _MONEY, "date": _DATE, "method": _TEXT, "reference": _TEXT, "created_at": _MOMENT},
        ["id", "amount", "date"],
    )
    record_fields: dict[str, Any] = {
        "id": _ID,
        "kind": {"enum": ["invoice", "credit_note"]},
        "status": {"enum": _STATUSES},
        "overdue": {"type": "boolean", "description": "Open, balance due and due date before today (derived)"},
        "number": _TEXT,
        "series": _TEXT,
        "client_id": {"type": ["string", "null"], "format": "uuid"},
        "currency": {"type": "string"},
        "issue_date": _DATE,
        "due_date": _DATE,
        "totals": _ref("RecordTotals"),
        "created_at": _MOMENT,
        "issued_at": _MOMENT,
    }
    party = {"type": ["object", "null"], "properties": _PARTY_FIELDS}
    return {
        "Organisation": _object(
            {
                "id": _ID,
                **_PARTY_FIELDS,
                "bank_details": _TEXT,
                "currency": {"type": "string"},
                "locale": {"type": "string"},
                "payment_terms_days": {"type": "integer"},
                "version": {"type": "integer"},
                "created_at": _MOMENT,
                "updated_at": _MOMENT,
            },
            ["id", "name", "currency", "payment_terms_days", "version"],
        ),
        "OrganisationChanges": _object(
            {
                **_PARTY_FIELDS,
                "bank_details": _TEXT,
                "currency": {"type": "string"},
                "locale": {"type": "string"},
                "payment_terms_days": {"type": "integer", "minimum": 0, "maximum": 3650},
            },
            additionalProperties=False,
        ),
        "Member": _object(
            {
                "id": _ID,
                "email": {"type": "string"},
                "role": {"enum": ["owner", "accountant", "viewer"]},
                "user_id": {"type": ["string", "null"]},
                "status": {"enum": ["invited", "active"]},
                "created_at": _MOMENT,
                "joined_at": _MOMENT,
            },
            ["id", "email", "role", "status"],
        ),
        "Invitation": _object(
            {"email": {"type": "string", "format": "email"}, "role": {"enum": ["owner", "accountant", "viewer"]}},
            ["email", "role"],
        ),
        "MemberPage": _page_of("Member"),
        "ClientInput": _object(
            {
                **_PARTY_FIELDS,
                "currency": _TEXT,
                "payment_terms_days": {"type": ["integer", "null"], "minimum": 0, "maximum": 3650},
            },
            additionalProperties=False,
            description="The canonical buyer fields plus currency and payment terms (name required on create)",
        ),
        "Client": _object(
            {
                "id": _ID,
                **_PARTY_FIELDS,
                "currency": _TEXT,
                "payment_terms_days": {"type": ["integer", "null"]},
                "archived": {"type": "boolean"},
                "archived_at": _MOMENT,
                "version": {"type": "integer"},
                "created_at": _MOMENT,
                "updated_at": _MOMENT,
            },
            ["id", "name", "archived", "version"],
        ),
        "ClientPage": _page_of("Client"),
        "RecordLine": line,
        "RecordTotals": totals,
        "Payment": payment,
        "PaymentInput": _object(
            {"amount": _MONEY, "date": {"type": "string", "format": "date"}, "method": _TEXT, "reference": _TEXT},
            ["amount"],
            additionalProperties=False,
        ),
        "DraftInput": _object(
            {
                "client_id": _ID,
                "currency": {"type": "string"},
                "issue_date": _DATE,
                "due_date": _DATE,
                "lines": {"type": "array", "items": _ref("RecordLine")},
                "payment_terms": _TEXT,
                "notes": _TEXT,
                "ship_to": party,
            },
            additionalProperties=False,
            description="POST: client_id required; PATCH: any subset (null clears an optional field)",
        ),
        "IssueInput": _object(
            {"issue_date": _DATE}, additionalProperties=False, description="Default: the draft's issue date, else today"
        ),
        "InvoiceRecordSummary": _object({**record_fields, "client_name": _TEXT}, list(record_fields)),
        "InvoiceRecord": _object(
            {
                **record_fields,
                "seller": party,
                "buyer": party,
                "ship_to": party,
                "lines": {"type": "array", "items": _ref("RecordLine")},
                "payment_terms": _TEXT,
                "notes": _TEXT,
                "payments": {"type": "array", "items": _ref("Payment")},
                "credit_notes": {
                    "type": "array",
                    "items": _object(
                        {
                            "id": _ID,
                            "number": {"type": "string"},
                            "issue_date": _DATE,
                            "gross": _MONEY,
                            "reason": _TEXT,
                            "lines": {"type": "array"},
                            "issued_at": _MOMENT,
                        }
                    ),
                },
                "files": {
                    "type": "array",
                    "description": "The kept documents of an issued record (none for a draft)",
                    "items": _object(
                        {
                            "format": {"enum": ["pdf", "xlsx"]},
                            "media_type": {"type": "string"},
                            "status": {"enum": ["rendering", "ready", "failed"]},
                            "url": {"type": "string", "format": "uri"},
                        },
                        ["format", "media_type", "status", "url"],
                    ),
                },
                "corrects_invoice_id": {"type": ["string", "null"], "format": "uuid"},
                "reason": _TEXT,
                "version": {"type": "integer"},
                "updated_at": _MOMENT,
                "sent_at": _MOMENT,
            },
            [*record_fields, "lines", "payments", "credit_notes", "files", "version"],
            description="An invoice reads like the canonical upload plus its record fields",
        ),
        "InvoiceRecordPage": _page_of("InvoiceRecordSummary"),
        "CreditNoteInput": _object(
            {
                "lines": {
                    "type": "array",
                    "items": _object({"position": {"type": "integer", "minimum": 1}, "quantity": _MONEY}, ["position"]),
                },
                "reason": _TEXT,
                "issue_date": _DATE,
            },
            additionalProperties=False,
            description="No lines: credit everything not yet credited",
        ),
        "PaymentRecorded": _object(
            {"payment": _ref("Payment"), "invoice": _ref("InvoiceRecord")}, ["payment", "invoice"]
        ),
        "CreditNoteIssued": _object(
            {"credit_note": _ref("InvoiceRecord"), "invoice": _ref("InvoiceRecord")}, ["credit_note", "invoice"]
        ),
        "Event": _object(
            {
                "id": _ID,
                "type": {"type": "string", "examples": ["invoice.issued"]},
                "actor": _object({"id": {"type": ["string", "null"]}, "email": _TEXT}),
                "occurred_at": _MOMENT,
                "data": {"type": "object"},
            },
            ["id", "type", "actor", "occurred_at", "data"],
        ),
        "EventPage": _page_of("Event"),
        "OrderInput": _object(
            {
                "client_id": _ID,
                "lines": {"type": "array", "minItems": 1, "items": _ref("RecordLine")},
                "currency": {"type": "string"},
                "notes": _TEXT,
            },
            ["client_id", "lines"],
            additionalProperties=False,
        ),
        "Order": _object(
            {
                "id": _ID,
                "client_id": _ID,
                "currency": {"type": "string"},
                "lines": {"type": "array", "items": _ref("RecordLine")},
                "notes": _TEXT,
                "status": {"enum": ["open", "invoiced"]},
                "invoice_id": {"type": ["string", "null"]},
                "created_at": _MOMENT,
                "updated_at": _MOMENT,
            },
            ["id", "client_id", "currency", "lines", "status"],
        ),
        "OrderPage": _page_of("Order"),
        "OrderInvoiced": _object({"order": _ref("Order"), "invoice": _ref("InvoiceRecord")}, ["order", "invoice"]),
        "Dashboard": _object(
            {
                "today": {"type": "string", "format": "date"},
                "currencies": {
                    "type": "object",
                    "additionalProperties": _object(
                        {
                            "outstanding": _MONEY,
                            "overdue": _MONEY,
                            "paid_last_30_days": _MONEY,
                            "counts": {
                                "type": "object",
                                "additionalProperties": {"type": "integer"},
                                "description": "By status; an overdue invoice counts only as overdue",
                            },
                            "ageing": _object(dict.fromkeys(("not_due", "1_30", "31_60", "61_90", "over_90"), _MONEY)),
                        },
                        ["outstanding", "overdue", "paid_last_30_days", "counts", "ageing"],
                    ),
                },
            },
            ["today", "currencies"],
        ),
    }


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


_HEADER = {"schema": {"type": "string"}}
_ETAG_HEADER = {"ETag": {"description": 'The record\'s version, "v<n>", for If-Match', **_HEADER}}
_PAGE = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
]
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The same key and body replay the first answer; with another body 409",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the record",
    "schema": {"type": "string"},
}


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(schema)}}


def _op(
    operation_id: str,
    summary: str,
    answers: dict[str, Any],
    *,
    body: str | None = None,
    body_required: bool = True,
    parameters: list[dict[str, Any]] | None = None,
    write: bool = False,
    creates: bool = False,
) -> dict[str, Any]:
    responses = {**answers, "401": _error("Missing, invalid or expired token")}
    responses.setdefault("404", _error("No such record in your organisation"))
    if write:
        responses.setdefault("403", _error("Your role cannot change records (viewer)"))
        responses.setdefault("422", _error("The body breaks a rule: details point into it"))
        responses.setdefault("400", _error("Malformed JSON"))
    responses["503"] = {
        **_error("The invoices service or its database is down"),
        "headers": {"Retry-After": {"description": "Seconds to wait", **_HEADER}},
    }
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["billing"],
        "security": [{"bearerAuth": []}],
        "responses": responses,
    }
    params = list(parameters or [])
    if any(param["in"] == "query" for param in params):
        responses.setdefault("400", _error("Bad query parameter"))
    if creates:
        params.append(_IDEMPOTENCY)
        responses.setdefault("409", _error("Idempotency-Key reused with another body, or the record's state"))
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": _json(body)}
    return operation


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _ok(
    schema: str, description: str = "OK", headers: dict[str, Any] | None = None, status: str = "200"
) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": _json(schema)}
    if headers:
        answer["headers"] = headers
    return {status: answer}


def _created(schema: str) -> dict[str, Any]:
    return _ok(
        schema, "Created", {"Location": {"description": "The new record (under PUBLIC_URL)", **_HEADER}}, status="201"
    )


def _document_op(invoice_id: dict[str, Any]) -> dict[str, Any]:
    media_types = [output_formats.get(name).media_type for name in ("pdf", "xlsx")]
    binary = {media: {"schema": {"type": "string", "format": "binary"}} for media in media_types}
    operation = _op(
        "getInvoiceDocument",
        "The PDF or XLSX: the kept file once issued, a DRAFT preview before",
        {
            "200": {
                "description": "The file, as an attachment",
                "headers": {"Content-Disposition": {"description": "attachment; filename=...", **_HEADER}},
                "content": binary,
            },
            "500": _error("Rendering failed for good, or the kept file is gone"),
        },
        parameters=[
            invoice_id,
            {"name": "fmt", "in": "path", "required": True, "schema": {"enum": ["pdf", "xlsx"]}},
        ],
    )
    operation["responses"]["503"]["description"] = "Still rendering (or a dependency is down): retry after Retry-After"
    return operation


def billing_paths() -> dict[str, Any]:
    """The billing paths, each operation with an ``operationId``."""
    invoice_id, client_id, order_id = _path_id("invoice_id"), _path_id("client_id"), _path_id("order_id")
    list_filters = [
        {"name": "status", "in": "query", "schema": {"enum": [*_STATUSES, "overdue"]}},
        {"name": "client_id", "in": "query", "schema": {"type": "string"}},
        {"name": "issued_from", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "issued_to", "in": "query", "schema": {"type": "string", "format": "date"}},
        {
            "name": "q",
            "in": "query",
            "description": "Substring of the number or the client's name",
            "schema": {"type": "string"},
        },
        {"name": "kind", "in": "query", "schema": {"enum": ["invoice", "credit_note"]}},
        {
            "name": "sort",
            "in": "query",
            "schema": {"enum": ["created_at", "issue_date", "due_date", "number", "gross"], "default": "created_at"},
        },
        {"name": "order", "in": "query", "schema": {"enum": ["asc", "desc"], "default": "desc"}},
        *_PAGE,
    ]
    bad_query = {"400": _error("Bad query parameter")}
    document_body = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "description": "A canonical or legacy invoice, as /upload"}
            },
            "multipart/form-data": {"schema": _object({"file": {"type": "string", "format": "binary"}}, ["file"])},
        },
    }
    import_op = _op(
        "importInvoice",
        "Record a canonical or legacy invoice document as an issued invoice",
        {
            **_created("InvoiceRecord"),
            "409": _error("Number imported already"),
            "413": _error("Over MAX_UPLOAD_BYTES"),
            "415": _error("Not JSON"),
        },
        parameters=[{"name": "client_id", "in": "query", "schema": {"type": "string"}}],
        write=True,
        creates=True,
    )
    import_op["requestBody"] = document_body
    return {
        "/organisation": {
            "get": _op(
                "getOrganisation", "Your organisation (the seller profile)", _ok("Organisation", headers=_ETAG_HEADER)
            ),
            "patch": _op(
                "updateOrganisation",
                "Change the seller profile (owner only)",
                {**_ok("Organisation", headers=_ETAG_HEADER), "412": _error("Stale If-Match")},
                body="OrganisationChanges",
                parameters=[_IF_MATCH],
                write=True,
            ),
        },
        "/organisation/members": {
            "get": _op("listMembers", "Members and invitations", _ok("MemberPage"), parameters=_PAGE),
            "post": _op(
                "inviteMember",
                "Invite an e-mail with a role (owner only)",
                _created("Member"),
                body="Invitation",
                write=True,
                creates=True,
            ),
        },
        "/clients": {
            "get": _op(
                "listClients",
                "Clients by name",
                {**_ok("ClientPage"), **bad_query},
                parameters=[
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "archived", "in": "query", "schema": {"enum": ["true", "false"]}},
                    *_PAGE,
                ],
            ),
            "post": _op(
                "createClient", "A new client", _created("Client"), body="ClientInput", write=True, creates=True
            ),
        },
        "/clients/{client_id}": {
            "get": _op("getClient", "One client", _ok("Client", headers=_ETAG_HEADER), parameters=[client_id]),
            "patch": _op(
                "updateClient",
                "Change a client",
                {**_ok("Client", headers=_ETAG_HEADER), "409": _error("Archived"), "412": _error("Stale If-Match")},
                body="ClientInput",
                parameters=[client_id, _IF_MATCH],
                write=True,
            ),
            "delete": _op(
                "archiveClient",
                "Archive a client (its invoices keep it)",
                _ok("Client"),
                parameters=[client_id],
                write=True,
            ),
        },
        "/invoices": {
            "get": _op(
                "listInvoices",
                "Invoices and credit notes, filtered and paginated",
                {**_ok("InvoiceRecordPage"), **bad_query},
                parameters=list_filters,
            ),
            "post": _op(
                "createDraft",
                "A new draft invoice",
                {**_created("InvoiceRecord")},
                body="DraftInput",
                write=True,
                creates=True,
            ),
        },
        "/invoices/import": {"post": import_op},
        "/invoices/{invoice_id}": {
            "get": _op(
                "getInvoice",
                "One invoice or credit note",
                _ok("InvoiceRecord", headers=_ETAG_HEADER),
                parameters=[invoice_id],
            ),
            "patch": _op(
                "updateDraft",
                "Change a draft (If-Match required)",
                {
                    **_ok("InvoiceRecord", headers=_ETAG_HEADER),
                    "409": _error("Issued: never edited"),
                    "412": _error("Stale If-Match"),
                    "428": _error("If-Match missing"),
                },
                body="DraftInput",
                parameters=[invoice_id, {**_IF_MATCH, "required": True}],
                write=True,
            ),
            "delete": _op(
                "deleteDraft",
                "Delete a draft",
                {
                    "204": {"description": "Deleted"},
                    "409": _error("Issued: never deleted"),
                    "412": _error("Stale If-Match"),
                },
                parameters=[invoice_id, _IF_MATCH],
                write=True,
            ),
        },
        "/invoices/{invoice_id}/issue": {
            "post": _op(
                "issueInvoice",
                "Issue a draft: the next number of its series is assigned",
                {**_ok("InvoiceRecord"), "409": _error("Not a draft"), "412": _error("Stale If-Match")},
                body="IssueInput",
                body_required=False,
                parameters=[invoice_id, _IF_MATCH],
                write=True,
                creates=True,
            )
        },
        "/invoices/{invoice_id}/send": {
            "post": _op(
                "sendInvoice",
                "Send an issued invoice to its client",
                {**_ok("InvoiceRecord"), "409": _error("A draft")},
                parameters=[invoice_id],
                write=True,
                creates=True,
            )
        },
        "/invoices/{invoice_id}/payments": {
            "post": _op(
                "recordPayment",
                "Record a payment (above the balance due: 422)",
                {**_created("PaymentRecorded"), "409": _error("Not payable")},
                body="PaymentInput",
                parameters=[invoice_id],
                write=True,
                creates=True,
            )
        },
        "/invoices/{invoice_id}/credit-notes": {
            "post": _op(
                "issueCreditNote",
                "Correct an issued invoice with a credit note (all or some lines)",
                {**_created("CreditNoteIssued"), "409": _error("Nothing left to credit")},
                body="CreditNoteInput",
                body_required=False,
                parameters=[invoice_id],
                write=True,
                creates=True,
            )
        },
        "/invoices/{invoice_id}/{fmt}": {"get": _document_op(invoice_id)},
        "/invoices/{invoice_id}/events": {
            "get": _op(
                "listInvoiceEvents",
                "The invoice's activity log, oldest first",
                _ok("EventPage"),
                parameters=[invoice_id, *_PAGE],
            )
        },
        "/orders": {
            "get": _op(
                "listOrders",
                "Orders, newest first",
                {**_ok("OrderPage"), **bad_query},
                parameters=[{"name": "status", "in": "query", "schema": {"enum": ["open", "invoiced"]}}, *_PAGE],
            ),
            "post": _op(
                "createOrder", "A new open order", _created("Order"), body="OrderInput", write=True, creates=True
            ),
        },
        "/orders/{order_id}": {"get": _op("getOrder", "One order", _ok("Order"), parameters=[order_id])},
        "/orders/{order_id}/invoice": {
            "post": _op(
                "invoiceOrder",
                "A draft invoice from an open order",
                {**_created("OrderInvoiced"), "409": _error("Invoiced already")},
                parameters=[order_id],
                write=True,
                creates=True,
            )
        },
        "/dashboard": {
            "get": _op("getDashboard", "Outstanding, overdue, paid, counts and ageing per currency", _ok("Dashboard"))
        },
    }
