"""The invoices service's OpenAPI fragment, generated from its models
(:mod:`invoicer.invoices.models`) and the route table below (issue 17).

:func:`openapi_fragment` returns ``{"paths", "components": {"schemas"}}``;
the gateway merges it into ``/openapi.json`` through the registry of
:mod:`invoicer.common.contracts`, without importing this package. Importing
this module needs neither Flask nor a database.

Every operation has the ``operationId`` clients were generated with before
(``createDraft``, ``issueInvoice`` ...), a summary, its request body schema
(a Create/Update model) and its answers (Read models). Component schemas are
named after the models, except where a name was published before
(:data:`COMPONENT_NAMES`: ``InvoiceRecord`` is :class:`~.models.InvoiceRead`);
the canonical invoice's models are named as in ``invoice.schema.json``
(``Party``, ``Line``), so the gateway finds them equal to the upload's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

from invoicer.common.contracts import ERROR_SCHEMA
from invoicer.invoice import formats as output_formats

from . import models as m

__all__ = ["COMPONENT_NAMES", "OPERATIONS", "Operation", "openapi_fragment"]

#: Component names published before the models existed (clients were generated with them).
COMPONENT_NAMES: dict[type[BaseModel], str] = {
    m.OrganisationRead: "Organisation",
    m.OrganisationUpdate: "OrganisationChanges",
    m.MemberRead: "Member",
    m.MemberCreate: "Invitation",
    m.Page[m.MemberRead]: "MemberPage",
    m.Page[m.OrganisationMembership]: "OrganisationMembershipPage",
    m.Page[m.InvitationRead]: "InvitationPage",
    m.ClientRead: "Client",
    m.Page[m.ClientRead]: "ClientPage",
    m.LineRead: "RecordLine",
    m.TotalsRead: "RecordTotals",
    m.PaymentRead: "Payment",
    m.PaymentCreate: "PaymentInput",
    m.InvoiceCreate: "DraftInput",
    m.InvoiceUpdate: "DraftChanges",
    m.IssueRequest: "IssueInput",
    m.InvoiceSummary: "InvoiceRecordSummary",
    m.InvoiceRead: "InvoiceRecord",
    m.InvoicePage: "InvoiceRecordPage",
    m.CreditNoteCreate: "CreditNoteInput",
    m.EventRead: "Event",
    m.Page[m.EventRead]: "EventPage",
    m.OrderCreate: "OrderInput",
    m.OrderRead: "Order",
    m.Page[m.OrderRead]: "OrderPage",
    m.DashboardRead: "Dashboard",
    m.FileRead: "RecordFile",
}

_STATUSES = list(m.STATUSES)


@dataclass(frozen=True)
class Operation:
    """One route of the service as the contract states it.

    ``answers`` maps a status to ``(model or None, description)``: a model
    is the JSON answer's schema; ``None`` an answer without a body, or the
    JSON error body for a 4xx/5xx. ``body`` is the request body's model.
    ``write`` adds the answers of a change (403, 422, 400), ``creates`` the
    ``Idempotency-Key`` header and its 409, ``etag`` the answer's ``ETag``,
    ``location`` the ``Location`` of a 201."""

    method: str
    path: str
    operation_id: str
    summary: str
    answers: dict[str, tuple[type[BaseModel] | None, str]]
    body: type[BaseModel] | None = None
    body_required: bool = True
    parameters: tuple[dict[str, Any], ...] = ()
    write: bool = False
    creates: bool = False
    etag: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_SERIES = {
    "name": "series",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": ["invoices", "credit_notes"]},
}

_PAGE = (
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
)
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the record",
    "schema": {"type": "string"},
}
_INVOICE_ID, _CLIENT_ID, _ORDER_ID = _path_id("invoice_id"), _path_id("client_id"), _path_id("order_id")
_WEBHOOK_ID = _path_id("webhook_id")
_LIST_FILTERS = (
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
    {
        "name": "cursor",
        "in": "query",
        "description": "The next or prev of a page: the page after or before it, stable under inserts",
        "schema": {"type": "string"},
    },
    *_PAGE,
)
_STALE = (None, "Stale If-Match")

#: The routes of :mod:`invoicer.invoices.routes`, as the contract states them.
_LOGO_IMAGE = {"schema": {"type": "string", "format": "binary"}}
_LOGO_BODY: dict[str, Any] = {
    "image/png": _LOGO_IMAGE,
    "image/jpeg": _LOGO_IMAGE,
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary", "description": "The PNG or JPEG"}},
        }
    },
}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get", "/organisation", "getOrganisation", "Your organisation (the seller profile)",
        {"200": (m.OrganisationRead, "OK")}, etag=True,
    ),
    Operation(
        "patch", "/organisation", "updateOrganisation", "Change the seller profile (owner only)",
        {"200": (m.OrganisationRead, "OK"), "412": _STALE},
        body=m.OrganisationUpdate, parameters=(_IF_MATCH,), write=True, etag=True,
    ),
    Operation(
        "put", "/organisation/logo", "putOrganisationLogo",
        "Set the logo (owner only): PNG or JPEG, at most 1 MB and 4000x4000 px, stored as re-encoded",
        {
            "200": (m.OrganisationRead, "OK: the organisation, has_logo true"),
            "413": (None, "invalid_logo: more than 1 MB"),
            "422": (None, "invalid_logo: not a PNG or JPEG, or more than 4000 px on a side (details say why)"),
        },
        write=True, etag=True, extra={"requestBody": {"required": True, "content": _LOGO_BODY}},
    ),
    Operation(
        "get", "/organisation/logo", "getOrganisationLogo", "The logo as stored (404 when there is none)",
        {"404": (None, "no_logo: the organisation has no logo")},
    ),
    Operation(
        "delete", "/organisation/logo", "deleteOrganisationLogo", "Remove the logo (owner only)",
        {"204": (None, "Removed (or there was none)")}, write=True,
    ),
    Operation(
        "get", "/organisation/numbering", "listNumbering",
        "How each series (invoices, credit_notes) numbers its documents, and the number it gives next",
        {"200": (m.NumberingList, "OK")},
    ),
    Operation(
        "get", "/organisation/numbering/{series}", "getNumbering", "One series' numbering",
        {"200": (m.NumberingRead, "OK"), "404": (None, "series_not_found: not invoices or credit_notes")},
        parameters=(_SERIES,),
    ),
    Operation(
        "put", "/organisation/numbering/{series}", "setNumbering",
        "Set a series' prefix and format (owner only); never to numbers the organisation already has",
        {
            "200": (m.NumberingRead, "OK: the series and the number it gives next"),
            "404": (None, "series_not_found: not invoices or credit_notes"),
            "409": (
                None,
                "number_taken: the series would issue a number the organisation already has (any case); "
                "series_overlap: another series writes numbers of this shape; "
                "sequence_started: next_number changed after the series numbered documents this year",
            ),
            "422": (None, "invalid_numbering: a bad prefix, format or next_number (the pointer names it)"),
        },
        body=m.NumberingUpdate, parameters=(_SERIES,), write=True,
    ),
    Operation(
        "get", "/organisation/members", "listMembers", "Members and invitations",
        {"200": (m.Page[m.MemberRead], "OK")}, parameters=_PAGE,
    ),
    Operation(
        "post", "/organisation/members", "inviteMember",
        "Invite an e-mail with a role (owner only): pending, and mailed, until its person accepts",
        {"201": (m.MemberRead, "Created: the open invitation"), "409": (None, "already_member or already_invited")},
        body=m.MemberCreate, write=True, creates=True,
    ),
    Operation(
        "patch", "/organisation/members/{membership_id}", "changeMemberRole", "Change a member's role (owner only)",
        {"200": (m.MemberRead, "OK"), "404": (None, "member_not_found"), "409": (None, "last_owner")},
        body=m.MemberUpdate, parameters=(_path_id("membership_id"),), write=True,
    ),
    Operation(
        "delete", "/organisation/members/{membership_id}", "removeMember", "Remove a member (owner only)",
        {"204": (None, "Removed"), "404": (None, "member_not_found"), "409": (None, "last_owner")},
        parameters=(_path_id("membership_id"),), write=True,
    ),
    Operation(
        "delete", "/organisation/invitations/{invitation_id}", "revokeInvitation",
        "Withdraw an open invitation (owner only); its link stops working",
        {"204": (None, "Revoked"), "404": (None, "invitation_not_found")},
        parameters=(_path_id("invitation_id"),), write=True,
    ),
    Operation(
        "get", "/organisations", "listOrganisations",
        "The organisations you belong to (act for one with the X-Organisation header)",
        {"200": (m.Page[m.OrganisationMembership], "OK")}, parameters=_PAGE,
    ),
    Operation(
        "get", "/invitations", "listInvitations", "Open invitations to your (verified) address",
        {"200": (m.Page[m.InvitationRead], "OK"), "403": (None, "email_not_verified")}, parameters=_PAGE,
    ),
    *(
        Operation(
            "post", path, f"{verb}Invitation{suffix}", summary,
            {
                "200": (m.InvitationRead, "OK: the invitation, answered"),
                "403": (None, "email_not_verified, or invitation_for_another_address"),
                "404": (None, "invitation_not_found"),
                "409": (None, "invitation_closed: answered, revoked or expired"),
                **({"400": (None, "Malformed JSON"), "422": (None, "No token")} if body is not None else {}),
            },
            body=body, parameters=parameters,
        )
        for verb, path, suffix, summary, body, parameters in (
            ("preview", "/invitations/preview", "ByToken",
             "The invitation of a mailed link, to show before answering it (changes nothing)",
             m.InvitationAnswer, ()),
            ("accept", "/invitations/accept", "ByToken", "Accept the invitation of a mailed link",
             m.InvitationAnswer, ()),
            ("decline", "/invitations/decline", "ByToken", "Decline the invitation of a mailed link",
             m.InvitationAnswer, ()),
            ("accept", "/invitations/{invitation_id}/accept", "", "Accept an invitation to your address",
             None, (_path_id("invitation_id"),)),
            ("decline", "/invitations/{invitation_id}/decline", "", "Decline an invitation to your address",
             None, (_path_id("invitation_id"),)),
        )
    ),
    Operation(
        "get", "/clients", "listClients", "Clients by name",
        {"200": (m.Page[m.ClientRead], "OK")},
        parameters=(
            {"name": "q", "in": "query", "schema": {"type": "string"}},
            {"name": "archived", "in": "query", "schema": {"enum": ["true", "false"]}},
            *_PAGE,
        ),
    ),
    Operation(
        "get", "/clients.csv", "exportClients", "Every client the search finds, by name, as CSV",
        {"200": (None, "CSV")},
        parameters=(
            {"name": "q", "in": "query", "schema": {"type": "string"}},
            {"name": "archived", "in": "query", "schema": {"enum": ["true", "false"]}},
        ),
    ),
    Operation(
        "post", "/clients", "createClient", "A new client",
        {"201": (m.ClientRead, "Created")}, body=m.ClientCreate, write=True, creates=True,
    ),
    Operation(
        "get", "/clients/{client_id}", "getClient", "One client",
        {"200": (m.ClientRead, "OK")}, parameters=(_CLIENT_ID,), etag=True,
    ),
    Operation(
        "patch", "/clients/{client_id}", "updateClient", "Change a client",
        {"200": (m.ClientRead, "OK"), "409": (None, "Archived"), "412": _STALE},
        body=m.ClientUpdate, parameters=(_CLIENT_ID, _IF_MATCH), write=True, etag=True,
    ),
    Operation(
        "delete", "/clients/{client_id}", "archiveClient", "Archive a client (its invoices keep it)",
        {"200": (m.ClientRead, "OK")}, parameters=(_CLIENT_ID,), write=True, etag=True,
    ),
    Operation(
        "get", "/invoices", "listInvoices", "Invoices and credit notes, filtered and paginated",
        {"200": (m.InvoicePage, "OK"), "422": (None, "A filter or cursor that cannot be used: details point at it")},
        parameters=_LIST_FILTERS,
    ),
    Operation(
        "get", "/invoices.csv", "exportInvoices",
        "Every invoice and credit note the filters match, as CSV (streamed; credit notes negative)",
        {"200": (None, "CSV"), "400": (None, "Unknown filter value"), "422": (None, "Filter out of range")},
        parameters=tuple(p for p in _LIST_FILTERS if p["name"] not in ("cursor", "page", "per_page")),
    ),
    Operation(
        "post", "/invoices", "createDraft", "A new draft invoice",
        {"201": (m.InvoiceRead, "Created")}, body=m.InvoiceCreate, write=True, creates=True, etag=True,
    ),
    Operation(
        "post", "/invoices/import", "importInvoice",
        "Record a canonical or legacy invoice document as an issued invoice",
        {
            "201": (m.InvoiceRead, "Created"),
            "409": (None, "Number imported already"),
            "413": (None, "Over MAX_UPLOAD_BYTES"),
            "415": (None, "Not JSON"),
        },
        parameters=({"name": "client_id", "in": "query", "schema": {"type": "string"}},),
        write=True, creates=True,
        extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "description": "A canonical or legacy invoice, as /upload"}
                    },
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                            "required": ["file"],
                        }
                    },
                },
            }
        },
    ),
    Operation(
        "get", "/invoices/{invoice_id}", "getInvoice", "One invoice or credit note",
        {"200": (m.InvoiceRead, "OK")}, parameters=(_INVOICE_ID,), etag=True,
    ),
    Operation(
        "patch", "/invoices/{invoice_id}", "updateDraft", "Change a draft (If-Match required)",
        {
            "200": (m.InvoiceRead, "OK"),
            "409": (None, "Issued: never edited"),
            "412": _STALE,
            "428": (None, "If-Match missing"),
        },
        body=m.InvoiceUpdate, parameters=(_INVOICE_ID, {**_IF_MATCH, "required": True}), write=True, etag=True,
    ),
    Operation(
        "delete", "/invoices/{invoice_id}", "deleteDraft", "Delete a draft",
        {"204": (None, "Deleted"), "409": (None, "Issued: never deleted"), "412": _STALE},
        parameters=(_INVOICE_ID, _IF_MATCH), write=True,
    ),
    Operation(
        "post", "/invoices/{invoice_id}/issue", "issueInvoice",
        "Issue a draft: the next number of its series is assigned",
        {"200": (m.InvoiceRead, "OK"), "409": (None, "Not a draft"), "412": _STALE},
        body=m.IssueRequest, body_required=False, parameters=(_INVOICE_ID, _IF_MATCH), write=True, creates=True,
    ),
    Operation(
        "post", "/invoices/{invoice_id}/send", "sendInvoice", "Send an issued invoice to its client",
        {"200": (m.InvoiceRead, "OK"), "409": (None, "A draft")},
        parameters=(_INVOICE_ID,), write=True, creates=True,
    ),
    Operation(
        "post", "/invoices/{invoice_id}/payments", "recordPayment", "Record a payment (above the balance due: 422)",
        {"201": (m.PaymentRecorded, "Created"), "409": (None, "Not payable")},
        body=m.PaymentCreate, parameters=(_INVOICE_ID,), write=True, creates=True,
    ),
    Operation(
        "post", "/invoices/{invoice_id}/refunds", "recordRefund",
        "Record money paid back to the client (above the refund due: 422 over_refund)",
        {"201": (m.RefundRecorded, "Created"), "409": (None, "Not refundable")},
        body=m.RefundCreate, parameters=(_INVOICE_ID,), write=True, creates=True,
    ),
    Operation(
        "post", "/invoices/{invoice_id}/credit-notes", "issueCreditNote",
        "Correct an issued invoice with a credit note (all or some lines)",
        {"201": (m.CreditNoteIssued, "Created"), "409": (None, "Nothing left to credit")},
        body=m.CreditNoteCreate, body_required=False, parameters=(_INVOICE_ID,), write=True, creates=True,
    ),
    Operation(
        "get", "/invoices/{invoice_id}/{fmt}", "getInvoiceDocument",
        "A kept document (a format of the registry): the kept file once issued, a DRAFT preview before",
        {
            "409": (None, "A draft asked for an e-invoice (made when it is issued)"),
            "500": (None, "Rendering failed for good, or the kept file is gone"),
        },
        parameters=(
            _INVOICE_ID,
            {"name": "fmt", "in": "path", "required": True, "schema": {"enum": output_formats.kept_names()}},
        ),
    ),
    Operation(
        "get", "/invoices/{invoice_id}/events", "listInvoiceEvents", "The invoice's activity log, oldest first",
        {"200": (m.Page[m.EventRead], "OK")}, parameters=(_INVOICE_ID, *_PAGE),
    ),
    Operation(
        "get", "/orders", "listOrders", "Orders, newest first",
        {"200": (m.Page[m.OrderRead], "OK")},
        parameters=({"name": "status", "in": "query", "schema": {"enum": ["open", "invoiced"]}}, *_PAGE),
    ),
    Operation(
        "post", "/orders", "createOrder", "A new open order",
        {"201": (m.OrderRead, "Created")}, body=m.OrderCreate, write=True, creates=True,
    ),
    Operation(
        "get", "/orders/{order_id}", "getOrder", "One order", {"200": (m.OrderRead, "OK")}, parameters=(_ORDER_ID,)
    ),
    Operation(
        "post", "/orders/{order_id}/invoice", "invoiceOrder", "A draft invoice from an open order",
        {"201": (m.OrderInvoiced, "Created"), "409": (None, "Invoiced already")},
        parameters=(_ORDER_ID,), write=True, creates=True,
    ),
    Operation(
        "get", "/dashboard", "getDashboard", "Outstanding, overdue, paid, counts and ageing per currency",
        {"200": (m.DashboardRead, "OK")},
    ),
    Operation(
        "get", "/webhooks", "listWebhooks", "Webhook endpoints, without their secrets (owner only)",
        {"200": (m.Page[m.WebhookRead], "OK"), "403": (None, "owner_only")}, parameters=_PAGE,
    ),
    Operation(
        "post", "/webhooks", "createWebhook",
        "A webhook endpoint (owner only); its secret is answered this once",
        {"201": (m.WebhookCreated, "Created"), "422": (None, "invalid_url, webhook_address_refused, invalid_events")},
        body=m.WebhookCreate, write=True,
    ),
    Operation(
        "patch", "/webhooks/{webhook_id}", "updateWebhook", "Change an endpoint; enabled: true turns it on again",
        {"200": (m.WebhookRead, "OK")}, body=m.WebhookUpdate, parameters=(_WEBHOOK_ID,), write=True,
    ),
    Operation(
        "delete", "/webhooks/{webhook_id}", "deleteWebhook", "Remove an endpoint with its delivery log",
        {"204": (None, "Removed")}, parameters=(_WEBHOOK_ID,), write=True,
    ),
    Operation(
        "post", "/webhooks/{webhook_id}/rotate-secret", "rotateWebhookSecret",
        "A new secret, answered this once; the old one signs too during the grace period",
        {"200": (m.WebhookCreated, "OK")}, parameters=(_WEBHOOK_ID,), write=True,
    ),
    Operation(
        "get", "/webhooks/{webhook_id}/deliveries", "listWebhookDeliveries",
        "The endpoint's deliveries, newest first, each with its attempts",
        {"200": (m.Page[m.WebhookDeliveryRead], "OK")}, parameters=(_WEBHOOK_ID, *_PAGE),
    ),
    Operation(
        "post", "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", "retryWebhookDelivery",
        "Send a succeeded or dead delivery again, with the same webhook-id",
        {
            "202": (m.WebhookDeliveryRead, "Accepted: pending again"),
            "409": (None, "webhook_disabled, delivery_pending"),
        },
        parameters=(_WEBHOOK_ID, _path_id("delivery_id")), write=True,
    ),
)  # fmt: skip


class _Generator(GenerateJsonSchema):
    """OpenAPI 3.1 schemas (JSON Schema 2020-12) without pydantic's invented
    field titles and ``"default": null``."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> Any:
        if schema.get("default") is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def _mode(model: type[BaseModel]) -> JsonSchemaMode:
    return "validation" if issubclass(model, m.InputModel) else "serialization"


def _used_models() -> list[type[BaseModel]]:
    """The models of the operations, and those named in :data:`COMPONENT_NAMES` (nested ones too)."""
    seen: dict[type[BaseModel], None] = dict.fromkeys(COMPONENT_NAMES)
    for operation in OPERATIONS:
        for model in [operation.body, *(answer for answer, _ in operation.answers.values())]:
            if model is not None:
                seen[model] = None
    return list(seen)


@lru_cache(maxsize=1)
def _schemas() -> tuple[dict[str, Any], dict[type[BaseModel], str]]:
    """The component schemas of every model the operations use (and the models
    they refer to), and each used model's component name."""
    used = _used_models()
    refs, definitions = models_json_schema(
        [(model, _mode(model)) for model in used],
        ref_template="#/components/schemas/{model}",
        schema_generator=_Generator,
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    # The canonical invoice's models keep the names invoice.schema.json gives them (Party, Line):
    # the same schemas as the upload's, one definition in the merged document.
    renames = {name: name.removesuffix("Document") for name in schemas if name.endswith("Document")}
    names: dict[type[BaseModel], str] = {}
    for model in used:
        generated = refs[(model, _mode(model))]["$ref"].rsplit("/", 1)[-1]
        names[model] = COMPONENT_NAMES.get(model, generated)
        renames[generated] = names[model]
    text = json.dumps(schemas)
    for old, new in renames.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    renamed: dict[str, Any] = json.loads(text)
    return {renames.get(name, name): schema for name, schema in renamed.items()}, names


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


_HEADER = {"schema": {"type": "string"}}
_ETAG_HEADER = {"ETag": {"description": 'The record\'s version, "v<n>", for If-Match', **_HEADER}}
_LOCATION_HEADER = {"Location": {"description": "The new record (under PUBLIC_URL)", **_HEADER}}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The same key and body replay the first answer; with another body 409",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


_ORGANISATION = {
    "name": "X-Organisation",
    "in": "header",
    "required": False,
    "description": "The organisation the request acts for (an organisation_id of GET /organisations); "
    "checked against your memberships on every request, any other is 404 organisation_not_found. "
    "Without it: your oldest membership.",
    "schema": {"type": "string", "format": "uuid"},
}
#: Routes about the caller as a person, not acting for one organisation.
_PERSONAL = ("/invitations", "/organisations")


def _document_answer() -> dict[str, Any]:
    media_types = dict.fromkeys(output_formats.get(name).media_type for name in output_formats.kept_names())
    return {
        "description": "The file, as an attachment",
        "headers": {"Content-Disposition": {"description": "attachment; filename=...", **_HEADER}},
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in media_types},
    }


def _csv_answer() -> dict[str, Any]:
    """A CSV export (:mod:`invoicer.invoices.exports`): RFC 4180 with a header row, UTF-8 with a BOM."""
    return {
        "description": "RFC 4180 CSV with a header row (UTF-8 with a BOM), as an attachment; text cells that "
        "a spreadsheet would run as a formula start with '",
        "headers": {"Content-Disposition": {"description": "attachment; filename=...", **_HEADER}},
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }


def _operation(operation: Operation, names: dict[type[BaseModel], str]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, (model, description) in operation.answers.items():
        if model is not None:
            answer: dict[str, Any] = {
                "description": description,
                "content": {"application/json": {"schema": _ref(names[model])}},
            }
            headers = {**(_ETAG_HEADER if operation.etag else {}), **(_LOCATION_HEADER if status == "201" else {})}
            if headers:
                answer["headers"] = headers
            responses[status] = answer
        elif status.startswith(("4", "5")):
            responses[status] = _error(description)
        else:
            responses[status] = {"description": description}
    if operation.operation_id == "getInvoiceDocument":
        responses = {"200": _document_answer(), **responses}
    if operation.operation_id in ("exportInvoices", "exportClients"):
        responses["200"] = _csv_answer()
    if operation.operation_id == "getOrganisationLogo":
        responses = {
            "200": {"description": "The image", "content": {"image/png": _LOGO_IMAGE, "image/jpeg": _LOGO_IMAGE}},
            **responses,
        }
    responses["401"] = _error("Missing, invalid or expired token")
    responses.setdefault("404", _error("No such record in your organisation"))
    if operation.write:
        responses.setdefault("403", _error("Your role cannot change records (viewer)"))
        responses.setdefault("422", _error("The body breaks a rule: details point into it"))
        responses.setdefault("400", _error("Malformed JSON"))
    responses["503"] = {
        **_error(
            "Still rendering (or a dependency is down): retry after Retry-After"
            if operation.operation_id == "getInvoiceDocument"
            else "The invoices service or its database is down"
        ),
        "headers": {"Retry-After": {"description": "Seconds to wait", **_HEADER}},
    }
    result: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": ["billing"],
        "security": [{"bearerAuth": []}],
        "responses": responses,
    }
    parameters = list(operation.parameters)
    if not operation.path.startswith(_PERSONAL):
        parameters.append(_ORGANISATION)
    if any(parameter["in"] == "query" for parameter in parameters):
        responses.setdefault("400", _error("Bad query parameter"))
    if operation.creates:
        parameters.append(_IDEMPOTENCY)
        responses.setdefault("409", _error("Idempotency-Key reused with another body, or the record's state"))
    if parameters:
        result["parameters"] = parameters
    if operation.body is not None:
        result["requestBody"] = {
            "required": operation.body_required,
            "content": {"application/json": {"schema": _ref(names[operation.body])}},
        }
    result.update(operation.extra)
    return result


def openapi_fragment() -> dict[str, Any]:
    """``{"paths": {...}, "components": {"schemas": {...}}}``: every route of
    the invoices service with its ``operationId``, summary, parameters,
    request body and answers, and the schemas they refer to (``Error``, the
    common error body, included). A new dict on every call."""
    schemas, names = _schemas()
    paths: dict[str, Any] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation, names)
    fragment: dict[str, Any] = json.loads(
        json.dumps({"paths": paths, "components": {"schemas": {**schemas, "Error": ERROR_SCHEMA}}})
    )
    return fragment
