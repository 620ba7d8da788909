"""The legacy flat invoice format that users of the old tool still send.

A legacy document looks like ``/work/shared/examples/legacy_invoice_data.json``::

    {"company_name": ..., "company_address": "12 Harbour Road, Bristol, UK",
     "bill_to_name": ..., "invoice_no": "NW-2026-0142", "date": "2026-11-02",
     "items": [{"id": 1, "description": ..., "qty": 12, "unit_price": 18.00, "total": 216.00}],
     "subtotal": 300.00, "tax_rate": 19, "tax_amount": 57.00, "total_amount": 357.00}

It is mapped to the canonical shape (:func:`to_canonical`), checked and built
by :mod:`invoicer.invoice.validation` like any canonical invoice, and every
error is reported with a pointer into the legacy document (``/items/2/qty``,
``/invoice_no``). The totals the old tool wrote are not trusted: they are
compared with the EN 16931 totals computed from the lines.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from invoicer.invoice.model import Invoice, minor_unit
from invoicer.invoice.validation import (
    InvalidInvoice,
    JsonPath,
    _check_canonical,
    _field_errors,
    _known_currencies,
    _parse_amount,
    _plain,
    _Problem,
    _Ref,
    _unknown_field_text,
)

__all__ = ["is_legacy", "load_legacy_invoice", "to_canonical"]

# Legacy party field prefixes and the canonical party each fills.
_PARTIES = {
    "seller": ("company_", ("name", "address", "phone", "email", "vat_id")),
    "buyer": ("bill_to_", ("name", "company", "address", "phone", "email", "vat_id")),
    "ship_to": ("ship_to_", ("name", "company", "address", "phone", "email")),
}
# Legacy top-level field -> canonical top-level field.
_SCALARS = {
    "invoice_no": "invoice_number",
    "date": "issue_date",
    "due_date": "due_date",
    "currency": "currency",
    "payment_terms": "payment_terms",
    "notes": "notes",
}
_ITEM_FIELDS = {"description": "description", "qty": "quantity", "unit_price": "unit_price"}
_TOTALS = ("subtotal", "tax_amount", "total_amount")

_KNOWN_FIELDS = (
    [prefix + field for prefix, fields in _PARTIES.values() for field in fields]
    + list(_SCALARS)
    + ["items", "tax_rate", *_TOTALS]
)
_KNOWN_ITEM_FIELDS = ["id", *_ITEM_FIELDS, "total"]
# Canonical names a legacy user may type by mistake -> the legacy name.
_ALIASES = {canonical: legacy for legacy, canonical in _SCALARS.items() if canonical != legacy} | {"lines": "items"}
_ITEM_ALIASES = {canonical: legacy for legacy, canonical in _ITEM_FIELDS.items() if canonical != legacy}

# Canonical path -> legacy path, for the fields outside the lines.
_TO_LEGACY: dict[JsonPath, JsonPath] = {(canonical,): (legacy,) for legacy, canonical in _SCALARS.items()}
for _party, (_prefix, _fields) in _PARTIES.items():
    _TO_LEGACY.update({(_party, field): (_prefix + field,) for field in _fields})
_LINE_TO_ITEM = {canonical: legacy for legacy, canonical in _ITEM_FIELDS.items()}


def is_legacy(document: dict[str, Any]) -> bool:
    """True if ``document`` is in the legacy flat format.

    Canonical markers (``lines``, ``invoice_number``) win; otherwise any of
    ``items``, ``invoice_no`` or ``company_name`` marks a legacy document, so
    that a legacy document missing one of them is still told so in its own terms.
    """
    if "lines" in document or "invoice_number" in document:
        return False
    return any(key in document for key in ("items", "invoice_no", "company_name"))


def _address(value: Any) -> Any:
    """A comma-separated one-line address as lines: "a, b, c" -> "a\\nb\\nc"."""
    if not isinstance(value, str):
        return value  # the canonical check reports the type
    return "\n".join(part.strip() for part in value.split(",") if part.strip())


def to_canonical(document: dict[str, Any], *, currency: str = "USD", map_items: bool = True) -> dict[str, Any]:
    """Map a legacy document to the canonical shape, without checking it.

    ``company_*`` -> ``seller``, ``bill_to_*`` -> ``buyer``, ``ship_to_*`` ->
    ``ship_to`` (only if a ``ship_to_*`` field is present); addresses are
    split on commas into lines; ``invoice_no`` -> ``invoice_number``,
    ``date`` -> ``issue_date``; ``currency`` defaults to ``currency``;
    ``items[i]`` ``{description, qty, unit_price}`` -> ``lines[i]`` with the
    document's ``tax_rate`` (percent) on every line. ``id`` and the totals
    are not mapped; unknown fields are dropped (:func:`load_legacy_invoice`
    reports them). With ``map_items=False`` the items are passed on as they
    are (used when there are too many to look at).
    """
    canonical: dict[str, Any] = {}
    for legacy_name, canonical_name in _SCALARS.items():
        if legacy_name in document:
            canonical[canonical_name] = document[legacy_name]
    canonical.setdefault("currency", currency)
    for party, (prefix, fields) in _PARTIES.items():
        present = {field: document[prefix + field] for field in fields if prefix + field in document}
        if party == "ship_to" and not present:
            continue
        if "address" in present:
            present["address"] = _address(present["address"])
        canonical[party] = present
    if "items" in document:
        items = document["items"]
        if not (map_items and isinstance(items, list)):
            canonical["lines"] = items
        else:
            canonical["lines"] = [_line(item, document) for item in items]
    return canonical


def _line(item: Any, document: dict[str, Any]) -> Any:
    if not isinstance(item, dict):
        return item  # the canonical check reports the type
    line = {canonical: item[legacy] for legacy, canonical in _ITEM_FIELDS.items() if legacy in item}
    if "tax_rate" in document:
        line["tax_rate"] = document["tax_rate"]
    return line


def _to_legacy_path(path: JsonPath) -> JsonPath:
    """Where a problem found in the canonical mapping lies in the legacy document."""
    if path and path[0] == "lines":
        if len(path) >= 3 and path[2] == "tax_rate":
            return ("tax_rate",)  # one rate for all items
        if len(path) >= 3 and path[2] in _LINE_TO_ITEM:
            return ("items", path[1], _LINE_TO_ITEM[path[2]], *path[3:])
        return ("items", *path[1:])
    return _TO_LEGACY.get(path, path)


def _in_legacy_terms(problem: _Problem) -> _Problem:
    """A problem of the canonical mapping, moved to its place in the legacy document."""
    parts = tuple(_Ref(_to_legacy_path(part.path)) if isinstance(part, _Ref) else part for part in problem.parts)
    return _Problem(_to_legacy_path(problem.path), problem.code, parts)


def load_legacy_invoice(document: dict[str, Any], *, max_lines: int = 10_000, currency: str = "USD") -> Invoice:
    """Check a legacy document and build the Invoice through the canonical checks.

    ``currency`` (ISO 4217) applies when the document names none: the old tool
    printed "$" whatever the currency, so callers default it to USD. Unknown
    legacy fields are rejected (``unknown_field``). The totals the document
    carries, ``items[i].total``, ``subtotal``, ``tax_amount`` and
    ``total_amount``, must agree with the EN 16931 totals computed by
    :func:`~invoicer.invoice.model.compute_totals` (line net, net, VAT,
    gross) to within one minor unit of the currency, the old tool's rounding;
    a larger difference is a ``total_mismatch``.

    Raises :class:`~invoicer.invoice.validation.InvalidInvoice` with every
    problem, pointers into the legacy document; ValueError if ``currency``
    is not an ISO 4217 code.
    """
    if currency not in _known_currencies():
        raise ValueError(f"legacy currency {currency!r} is not an ISO 4217 code")
    problems: list[_Problem] = []
    for key in document:
        if key not in _KNOWN_FIELDS:
            problems.append(_Problem((key,), "unknown_field", (_unknown_field_text(key, _KNOWN_FIELDS, _ALIASES),)))

    items = document.get("items")
    too_many = isinstance(items, list) and len(items) > max_lines
    canonical = to_canonical(document, currency=currency, map_items=not too_many)
    found, invoice = _check_canonical(canonical, max_lines=max_lines)
    problems.extend(_in_legacy_terms(problem) for problem in found)

    # The totals the old tool wrote: their shape now, their values once we have ours.
    given: dict[JsonPath, Decimal] = {}
    if isinstance(items, list) and not too_many:
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            for key in item:
                if key not in _KNOWN_ITEM_FIELDS:
                    problems.append(
                        _Problem(
                            ("items", index, key),
                            "unknown_field",
                            (_unknown_field_text(key, _KNOWN_ITEM_FIELDS, _ITEM_ALIASES),),
                        )
                    )
            if "total" in item:
                amount, bad = _parse_amount(item["total"], ("items", index, "total"))
                problems.extend(bad)
                if amount is not None:
                    given[("items", index, "total")] = amount
    for name in _TOTALS:
        if name in document:
            amount, bad = _parse_amount(document[name], (name,))
            problems.extend(bad)
            if amount is not None:
                given[(name,)] = amount

    if not problems:
        assert invoice is not None
        problems.extend(_mismatches(invoice, given))
    if problems:
        raise InvalidInvoice(_field_errors(problems))
    assert invoice is not None
    return invoice


def _mismatches(invoice: Invoice, given: dict[JsonPath, Decimal]) -> list[_Problem]:
    """The legacy totals that differ from ours by more than one minor unit."""
    totals = invoice.totals
    tolerance = Decimal(1).scaleb(-minor_unit(invoice.currency))
    ours: dict[JsonPath, tuple[Decimal, str]] = {
        ("subtotal",): (totals.net, "the line totals add up to"),
        ("tax_amount",): (totals.tax, "the VAT computed from the lines is"),
        ("total_amount",): (totals.gross, "the lines add up to"),
    }
    for index, net in enumerate(totals.line_nets):
        ours[("items", index, "total")] = (net, "qty x unit_price is")
    problems = []
    for path, amount in given.items():
        expected, explanation = ours[path]
        if abs(amount - expected) > tolerance:
            problems.append(
                _Problem(
                    path,
                    "total_mismatch",
                    (f"is {_plain(amount)} but {explanation} {_plain(expected)}",),
                )
            )
    return problems
