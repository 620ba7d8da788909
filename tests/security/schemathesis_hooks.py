"""schemathesis hooks for the positive-data run on ``POST /upload`` (loaded through SCHEMATHESIS_HOOKS).

``invoice.schema.json`` states every rule of a single field (patterns, bounds,
lengths, the currency list, dates that exist). What it cannot state are the
rules that compare fields, which the server checks; :func:`map_case` adjusts a
generated document to those, and only those, so that every upload the schema
calls valid must get 202:

* ``due_date`` not before the issue date (``issue_date``; ``date`` in the legacy format);
* quantity x unit price below 10^15 (each is below 10^15 by the schema);
* every amount computed from the lines (line nets, VAT, totals) at most 15
  significant digits down to the minor unit (``model.largest_amount``): when
  twice the sum of quantity x unit price (VAT is at most 100 %) could pass
  the strictest currency's bound, 10^11, every line becomes 1 x 1;
* at most 10 digits after the point and 15 significant digits in a JSON
  number: JSON Schema's ``multipleOf`` could say the first, but is unreliable
  with binary floats, and no keyword says the second, so the schema says them
  in words and generated floats are rounded here (a positive one to at least 1e-10);
* no NaN or infinity in a value the schema leaves free (JSON cannot carry them);
* an invoicing period's end not before its start (``invoicing_period``);
* document allowances and charges within the same bound as the lines (each
  becomes 1 when their sum could pass it);
* no ``logo``: its content (a PNG or JPEG image, base64) is stated in words only;
* a legacy document's own totals (``items[].total``, ``subtotal``, ``tax_amount``,
  ``total_amount``) equal to the EN 16931 totals of its lines to one minor unit:
  they are optional, so they are dropped.

Multipart uploads are skipped: their ``file`` is a binary part whose content
the schema gives as ``contentSchema``, which schemathesis does not generate
from (it sends random bytes). ``formats`` is a free string in the OpenAPI
document; a generated value that is not a comma list of known formats is
dropped from the query.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import schemathesis

KNOWN_FORMATS = {"pdf", "xlsx"}
LIMIT = Decimal(10) ** 15
TOTAL_LIMIT = Decimal(10) ** 11  # largest_amount of a currency with 4 minor digits, plus one unit


def _amount(value: Any) -> Decimal:
    return Decimal(str(value))


def _round_floats(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):  # JSON cannot carry it: see schemathesis_json.py
            return None
        rounded = float(f"{round(value, 10):.15g}")
        if not math.isfinite(rounded):  # 15 digits of the largest floats round past the largest
            return value
        return 1e-10 if rounded == 0 and value > 0 else rounded
    if isinstance(value, dict):
        return {key: _round_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_round_floats(item) for item in value]
    return value


def _fix_invoice(document: Any) -> Any:
    if not isinstance(document, dict):
        return document
    document = _round_floats(document)
    legacy = "items" in document
    issue, lines, quantity = ("date", "items", "qty") if legacy else ("issue_date", "lines", "quantity")
    if "due_date" in document and issue in document and document["due_date"] < document[issue]:
        document["due_date"] = document[issue]  # ISO dates compare as strings
    for line in document.get(lines, []):
        if isinstance(line, dict) and abs(_amount(line[quantity]) * _amount(line["unit_price"])) >= LIMIT:
            line[quantity] = 1
        if legacy and isinstance(line, dict):
            line.pop("total", None)
    valid_lines = [line for line in document.get(lines, []) if isinstance(line, dict)]
    if 2 * sum(abs(_amount(line[quantity]) * _amount(line["unit_price"])) for line in valid_lines) >= TOTAL_LIMIT:
        for line in valid_lines:
            line[quantity], line["unit_price"] = 1, 1
    if legacy:
        for name in ("subtotal", "tax_amount", "total_amount"):
            document.pop(name, None)
    document.pop("logo", None)
    period = document.get("invoicing_period")
    if isinstance(period, dict) and "start" in period and "end" in period and period["end"] < period["start"]:
        period["end"] = period["start"]
    extras = [item for key in ("allowances", "charges") for item in document.get(key) or [] if isinstance(item, dict)]
    if 2 * sum(abs(_amount(item["amount"])) for item in extras if "amount" in item) >= TOTAL_LIMIT:
        for item in extras:
            item["amount"] = 1
    return document


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    return not (case.media_type or "").startswith("multipart/")


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    case.body = _fix_invoice(case.body)
    query = case.query
    if isinstance(query, dict) and "formats" in query:
        parts = [part.strip().lower() for part in str(query["formats"]).split(",") if part.strip()]
        if not parts or not set(parts) <= KNOWN_FORMATS:
            del query["formats"]
    return case
