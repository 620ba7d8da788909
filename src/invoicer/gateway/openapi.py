"""The gateway's OpenAPI 3.1 document (served at ``GET /openapi.json``).

The upload body is the invoice schema generated from the input models
(``invoice.schema.json``, :func:`invoice_schemas`), so that generated clients
and schemathesis know what a valid upload is. Every operation has an
``operationId``.

The billing paths are not written here: each service publishes its own
fragment (the invoices service generates it from its pydantic models), and
this module merges every fragment registered in
:mod:`invoicer.common.contracts` (issue 17).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ..common import contracts
from ..common.jobs import KINDS, STATUSES
from ..common.web import Credentials
from ..invoice import formats as output_formats
from ..invoice.loader import committed_json_schema
from .models import component_schemas

__all__ = ["invoice_schemas", "openapi_document"]


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "string"}}}

_UNAVAILABLE = {**_error("A dependency (database, storage, broker, auth) is down"), "headers": _RETRY_AFTER}

_SCHEMAS: dict[str, Any] = {
    "Error": contracts.ERROR_SCHEMA,
}


@lru_cache(maxsize=1)
def invoice_schemas() -> dict[str, Any]:
    """``invoice.schema.json`` as OpenAPI component schemas.

    The root becomes ``Invoice`` and each ``$defs`` entry (``Party``, ``Line``,
    ``LegacyInvoice``, ``LegacyItem``) a schema of its own, with
    ``#/$defs/X`` references rewritten to ``#/components/schemas/X``.
    ``UploadedInvoice`` is what ``POST /upload`` accepts: either format.
    """
    schema = dict(committed_json_schema())
    schema.pop("$schema", None)
    definitions = schema.pop("$defs", {})
    text = json.dumps({"Invoice": schema, **definitions}).replace('"#/$defs/', '"#/components/schemas/')
    schemas: dict[str, Any] = json.loads(text)
    schemas["UploadedInvoice"] = {
        "description": "An invoice in the canonical format or in the legacy flat format of the old tool.",
        "anyOf": [{"$ref": "#/components/schemas/Invoice"}, {"$ref": "#/components/schemas/LegacyInvoice"}],
    }
    return schemas


_BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]

#: gunicorn answers a request line longer than 4094 bytes itself, before the
#: request reaches the app, with the same error body (invoicer.common.serving).
_URI_TOO_LONG = _error("Request line too long (answered by the HTTP server)")
_UNAUTHORIZED = _error("Missing, invalid or expired token")


def _json(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _account_paths() -> dict[str, Any]:
    """Sessions, e-mail verification and password reset (issue 22), all answered by auth."""
    session_ended = _error("Missing or invalid token, or its session ended (session_ended)")
    return {
        "/logout": {
            "post": {
                "operationId": "logout",
                "summary": "End this token's session: every token of it is refused from now on",
                "security": _BEARER,
                "responses": {"204": {"description": "Signed out"}, "401": session_ended, "503": _UNAVAILABLE},
            }
        },
        "/refresh": {
            "post": {
                "operationId": "refreshToken",
                "summary": "A fresh token of the same session (never past SESSION_MAX_SECONDS after sign-in)",
                "security": _BEARER,
                "responses": {"200": _json("Token", "Token"), "401": session_ended, "503": _UNAVAILABLE},
            }
        },
        "/me": {
            "get": {
                "operationId": "getMe",
                "summary": "The signed-in account, and whether its e-mail address is verified",
                "security": _BEARER,
                "responses": {"200": _json("Me", "OK"), "401": session_ended, "503": _UNAVAILABLE},
            }
        },
        "/verify-email": {
            "post": {
                "operationId": "verifyEmail",
                "summary": "Confirm an address with the token of its mailed link (single use, 48 h)",
                "requestBody": _body("LinkToken"),
                "responses": {
                    "200": _json("Verified", "Verified"),
                    "400": _error("Body is not a JSON object"),
                    "422": _error("invalid_token: unknown, used or expired"),
                    "503": _UNAVAILABLE,
                },
            }
        },
        "/verify-email/resend": {
            "post": {
                "operationId": "resendVerification",
                "summary": "Mail a new verification link to the signed-in account",
                "security": _BEARER,
                "responses": {
                    "202": _json("Status", "Sent"),
                    "401": session_ended,
                    "409": _error("already_verified"),
                    "429": {**_error("Too many mails asked for"), "headers": _RETRY_AFTER},
                    "503": _UNAVAILABLE,
                },
            }
        },
        "/password-reset": {
            "post": {
                "operationId": "requestPasswordReset",
                "summary": "Mail a reset link (single use, 1 h) if the address has an account; same answer either way",
                "requestBody": _body("ResetRequest"),
                "responses": {
                    "202": _json("Status", "Accepted (whether or not the address has an account)"),
                    "400": _error("Body is not a JSON object"),
                    "422": _error("Not an e-mail address"),
                    "429": {**_error("Too many requests for the address or from the client"), "headers": _RETRY_AFTER},
                    "503": _UNAVAILABLE,
                },
            }
        },
        "/password-reset/confirm": {
            "post": {
                "operationId": "confirmPasswordReset",
                "summary": "Set a new password with the link's token; every session of the account ends",
                "requestBody": _body("ResetConfirmation"),
                "responses": {
                    "204": {"description": "Password changed"},
                    "400": _error("Body is not a JSON object"),
                    "422": _error("invalid_token, or weak_password"),
                    "503": _UNAVAILABLE,
                },
            }
        },
    }


def openapi_document(server_url: str, password_min_length: int = 12) -> dict[str, Any]:
    """The OpenAPI 3.1 document with ``server_url`` as its only server."""
    schemas = {**_SCHEMAS, **component_schemas(password_min_length), **invoice_schemas()}
    schemas["Credentials"] = Credentials.model_json_schema()
    schemas["Format"] = {"enum": output_formats.names(), "description": "An output format"}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "invoicer gateway",
            "version": "1.0.0",
            "description": "Upload invoice JSON, get PDF and XLSX invoices back.",
        },
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": 'E-mail and password, encoded as UTF-8 (RFC 7617 charset="UTF-8")',
                },
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
            "schemas": schemas,
        },
        "paths": {
            "/login": {
                "post": {
                    "operationId": "login",
                    "summary": "Exchange e-mail and password (HTTP Basic or a JSON body) for a JWT",
                    "security": [{"basicAuth": []}, {}],
                    "requestBody": {
                        "required": False,
                        "description": "The credentials, when they are not sent with HTTP Basic",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Credentials"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "Token",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Token"}}},
                        },
                        "400": _error("Body is not a JSON object"),
                        "401": _error("Wrong e-mail or password"),
                        "422": _error("Body is not {email, password}"),
                        "429": {**_error("Too many failed logins"), "headers": _RETRY_AFTER},
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/register": {
                "post": {
                    "operationId": "register",
                    "summary": "Create an account",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Registration"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "Created",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Account"}}},
                        },
                        "400": _error("Body is not a JSON object"),
                        "403": _error("Registration is switched off"),
                        "409": _error("E-mail taken"),
                        "422": _error("E-mail or password unacceptable"),
                        "503": _UNAVAILABLE,
                    },
                }
            },
            **_account_paths(),
            "/upload": {
                "post": {
                    "operationId": "uploadInvoice",
                    "summary": "Upload an invoice; its rendering is queued",
                    "security": _BEARER,
                    "parameters": [
                        {
                            "name": "formats",
                            "in": "query",
                            "required": False,
                            "description": f"Comma list of {', '.join(output_formats.names())} (default pdf)",
                            "schema": {"type": "string", "examples": ["pdf,xlsx"]},
                        },
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "deprecated": True,
                            "description": f"Legacy: {' or '.join(output_formats.legacy_names())}",
                            "schema": {"enum": output_formats.legacy_names()},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/UploadedInvoice"}},
                            # A file part (with a filename, as curl -F file=@invoice.json sends it) whose
                            # content is the JSON invoice: binary for the transport, contentSchema for the content.
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {
                                        "file": {
                                            "type": "string",
                                            "format": "binary",
                                            "contentMediaType": "application/json",
                                            "contentSchema": {"$ref": "#/components/schemas/UploadedInvoice"},
                                        }
                                    },
                                }
                            },
                        },
                    },
                    "responses": {
                        "202": {
                            "description": "Queued",
                            "headers": {"Location": {"schema": {"type": "string"}}},
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}},
                        },
                        "400": _error("Malformed JSON or bad parameter"),
                        "401": _UNAUTHORIZED,
                        "413": _error("Upload over the size limit"),
                        "415": _error("Not JSON"),
                        "422": _error("Invalid invoice: details list each field error with its JSON pointer"),
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/jobs": {
                "get": {
                    "operationId": "listJobs",
                    "summary": "Your jobs, newest first",
                    "description": "Any query parameter not listed here, or one given twice, is 400.",
                    "security": _BEARER,
                    "parameters": [
                        {
                            "name": "page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1},
                        },
                        {
                            "name": "per_page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                        },
                        {
                            "name": "status",
                            "in": "query",
                            "description": "Only jobs with this status",
                            "schema": {"enum": list(STATUSES)},
                        },
                        {
                            "name": "kind",
                            "in": "query",
                            "description": "Only your uploads (upload) or only the documents of issued invoices "
                            "and credit notes (record)",
                            "schema": {"enum": list(KINDS)},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "description": "The next or prev of a page: the page after or before it, "
                            "stable under inserts",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of jobs",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobPage"}}},
                        },
                        "400": _error("Bad, unknown or repeated parameter (details name it)"),
                        "401": _UNAUTHORIZED,
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/jobs/{job_id}": {
                "get": {
                    "operationId": "getJob",
                    "summary": "One of your jobs",
                    "security": _BEARER,
                    "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {
                            "description": "The job",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}},
                        },
                        "401": _UNAUTHORIZED,
                        "404": _error("No such job of yours"),
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/download": {
                "get": {
                    "operationId": "downloadFile",
                    "summary": "Download one of your files",
                    "security": _BEARER,
                    "parameters": [
                        {
                            "name": "fid",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1, "pattern": "\\S"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The file, as an attachment",
                            "content": {
                                **{
                                    output_formats.get(name).media_type: {
                                        "schema": {"type": "string", "format": "binary"}
                                    }
                                    for name in output_formats.names()
                                },
                                "application/json": {"schema": {"type": "string", "format": "binary"}},
                            },
                        },
                        "400": _error("fid missing"),
                        "401": _UNAUTHORIZED,
                        "404": _error("No such file of yours"),
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/healthz": {
                "get": {"operationId": "healthz", "summary": "Alive", "responses": {"200": {"description": "Alive"}}}
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "summary": "Dependencies answer",
                    "responses": {"200": {"description": "Ready"}, "503": _UNAVAILABLE},
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenapi",
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1 document"}},
                }
            },
        },
    }
    for name, fragment in contracts.fragments():
        contracts.merge_into(document, fragment, source=f"the {name} service's contract")
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].setdefault("414", _URI_TOO_LONG)
    return document
