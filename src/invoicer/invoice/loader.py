"""Load an invoice: a parsed document in, a checked domain :class:`~invoicer.invoice.model.Invoice` out.

The top of :mod:`invoicer.invoice` (errors <- parsing <- model <- schema <-
legacy <- loader): :func:`load_invoice` detects the format, validates with
the pydantic model of that format and builds the Invoice, or raises
:class:`~invoicer.invoice.errors.InvalidInvoice` with every problem.
:func:`invoice_json_schema` is what ``make schema`` writes to
``invoice.schema.json``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from invoicer.invoice.errors import InvalidInvoice, Problem, describe, field_errors
from invoicer.invoice.legacy import LegacyInvoiceDocument, is_legacy
from invoicer.invoice.model import Invoice
from invoicer.invoice.schema import DEFAULT_MAX_LINES, InvoiceDocument, json_schema, known_currencies, problems

__all__ = [
    "SCHEMA_FILE",
    "committed_json_schema",
    "invoice_json_schema",
    "load_invoice",
    "schema_text",
    "write_json_schema",
]

M = TypeVar("M", bound=BaseModel)

#: Where ``make schema`` writes the schema, beside this module (package data).
SCHEMA_FILE = "invoice.schema.json"

_DESCRIPTION = (
    "The invoice a client submits (invoicer's canonical format); generated from "
    "invoicer.invoice.schema.InvoiceDocument by `make schema`, do not edit. Amounts are JSON numbers or plain "
    "decimal strings, read as exact decimals (send strings to keep them away from binary floats). Rules that "
    "JSON Schema cannot state are checked by the server: due_date not before issue_date; quantity x unit_price "
    "below 10^15; at most MAX_LINES lines. A document in the legacy flat format (the LegacyInvoice definition) is "
    "accepted too; its totals must agree with the computed ones to one minor unit."
)


def load_invoice(
    document: Any, *, max_lines: int = DEFAULT_MAX_LINES, legacy_currency: str = "USD"
) -> Invoice:
    """Validate a parsed document (from :func:`~invoicer.invoice.parsing.parse_document`) and build the Invoice.

    The format is detected (:func:`~invoicer.invoice.legacy.is_legacy`): a
    document with ``lines`` or ``invoice_number`` is canonical
    (:class:`~invoicer.invoice.schema.InvoiceDocument`); otherwise one with
    ``items``, ``invoice_no`` or ``company_name`` is the legacy flat format
    (:class:`~invoicer.invoice.legacy.LegacyInvoiceDocument`), whose amounts
    are in ``legacy_currency`` unless it names a ``currency`` and whose own
    totals must agree with ours (checked only once all else is valid).

    Rules: see :mod:`invoicer.invoice.schema`; at most ``max_lines`` lines,
    counted before any line is checked. Returns an Invoice whose totals
    follow EN 16931 (:func:`~invoicer.invoice.model.compute_totals`).

    Raises :class:`InvalidInvoice` with every problem found, ordered by
    pointer; a document that is not a JSON object gives one error with
    pointer ``""``. Raises ValueError if ``legacy_currency`` is needed and is
    not an ISO 4217 code (a server configuration error, not the user's).
    """
    if not isinstance(document, dict):
        raise InvalidInvoice(field_errors([Problem((), "type", f"must be a JSON object, not {describe(document)}")]))
    context = {"max_lines": max_lines}
    if not is_legacy(document):
        return _validate(InvoiceDocument, document, context).to_invoice()

    if legacy_currency not in known_currencies():
        raise ValueError(f"legacy currency {legacy_currency!r} is not an ISO 4217 code")
    legacy = _validate(LegacyInvoiceDocument, document, context)
    invoice = legacy.to_invoice(legacy_currency)
    mismatches = legacy.total_mismatches(invoice)
    if mismatches:
        raise InvalidInvoice(field_errors(mismatches))
    return invoice


def _validate(cls: type[M], document: dict[str, Any], context: dict[str, Any]) -> M:
    try:
        return cls.model_validate(document, context=context)
    except ValidationError as exc:
        raise InvalidInvoice(field_errors(problems(exc, cls))) from None


def invoice_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the canonical invoice, the legacy one under ``$defs/LegacyInvoice``."""
    return json_schema(InvoiceDocument, description=_DESCRIPTION, extra={"LegacyInvoice": LegacyInvoiceDocument})


@lru_cache(maxsize=1)
def committed_json_schema() -> dict[str, Any]:
    """``invoice.schema.json`` as shipped in the package (what ``/openapi.json`` embeds)."""
    return json.loads(resources.files("invoicer.invoice").joinpath(SCHEMA_FILE).read_text("utf-8"))


def schema_text() -> str:
    """:func:`invoice_json_schema` as the text of ``invoice.schema.json`` (2-space indent, final newline)."""
    return json.dumps(invoice_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_json_schema(path: Path | None = None) -> Path:
    """Write :func:`schema_text` to ``path`` (default: ``invoice.schema.json`` beside this module)."""
    target = path or Path(__file__).with_name(SCHEMA_FILE)
    target.write_text(schema_text(), encoding="utf-8")
    return target
