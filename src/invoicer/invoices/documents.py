"""Checks of user input against the canonical invoice format, reusing the
loader and validation of :mod:`invoicer.invoice` (the only module of this
package that imports them).

The canonical schema already states what a line, a party, a currency, the
dates and the texts may hold; rather than repeat those rules, a draft, a
client or an organisation profile is checked by placing it into a small
canonical document and loading that. Problems come back as one
:class:`~invoicer.invoices.errors.Unprocessable` whose ``details`` carry a
JSON pointer into the caller's own body (``/lines/0/quantity``, ``/name``).
"""

from __future__ import annotations

from dataclasses import asdict, fields, is_dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from invoicer.invoice.einvoice.checks import party_problems
from invoicer.invoice.errors import InvalidInvoice, MalformedDocument
from invoicer.invoice.loader import load_invoice
from invoicer.invoice.model import (
    Address,
    BankAccount,
    Contact,
    ElectronicAddress,
    Invoice,
    Line,
    Party,
    Totals,
    compute_totals,
)
from invoicer.invoice.parsing import parse_document

from ._sql import jsonb
from .errors import BadRequest, Unprocessable

__all__ = [
    "check_lines_and_terms",
    "check_party",
    "due_after",
    "lines_from_json",
    "lines_to_json",
    "load_document",
    "party_from_json",
    "party_to_json",
    "structured_party",
]

_PLACEHOLDER_PARTY = {"name": "-"}
_PLACEHOLDER_LINE = {"description": "-", "quantity": "1", "unit_price": "0", "tax_rate": "0"}


def due_after(issue_date: date, days: int, pointer: str = "/issue_date") -> date:
    """``issue_date`` plus ``days`` of payment terms. Raises
    :class:`Unprocessable` (``invalid_date`` at ``pointer``) when that is
    past the last day Python's calendar has (9999-12-31)."""
    try:
        return issue_date + timedelta(days=days)
    except OverflowError:
        raise Unprocessable(
            f"{issue_date.isoformat()} plus {days} days of payment terms is beyond the calendar",
            code="invalid_date",
            pointer=pointer,
        ) from None


def _load(
    document: Any, *, code: str, message: str, moves: dict[str, str], max_lines: int, legacy_currency: str = "USD"
) -> Invoice:
    """Load ``document``; on problems raise Unprocessable with each pointer's
    prefix rewritten by ``moves`` (e.g. ``{"/buyer": ""}``)."""
    try:
        return load_invoice(document, max_lines=max_lines, legacy_currency=legacy_currency)
    except InvalidInvoice as exc:
        details = []
        for error in exc.errors:
            pointer = error.pointer
            for old, new in moves.items():
                if pointer == old or pointer.startswith(old + "/"):
                    pointer = new + pointer[len(old) :]
                    break
            details.append({"pointer": pointer, "code": error.code, "message": error.message})
        raise Unprocessable(message, code=code, details=details) from None


def line_to_json(line: Line) -> dict[str, Any]:
    """A model line as stored (the canonical input's line, amounts as strings)."""
    out: dict[str, Any] = {
        "description": line.description,
        "quantity": str(line.quantity),
        "unit_price": str(line.unit_price),
        "tax_rate": str(line.tax_rate),
    }
    for key in ("unit", "unit_code", "tax_category", "exemption_reason", "exemption_code"):
        value = getattr(line, key)
        if value is not None:
            out[key] = value
    return out


def lines_to_json(lines: tuple[Line, ...] | list[Line]) -> list[dict[str, Any]]:
    return [line_to_json(line) for line in lines]


def lines_from_json(lines: list[dict[str, Any]]) -> list[Line]:
    """Stored lines back into model lines (positions 1, 2, ...)."""
    return [
        Line(
            position=index + 1,
            description=line["description"],
            quantity=Decimal(line["quantity"]),
            unit_price=Decimal(line["unit_price"]),
            tax_rate=Decimal(line["tax_rate"]),
            unit=line.get("unit"),
            unit_code=line.get("unit_code"),
            tax_category=line.get("tax_category"),
            exemption_reason=line.get("exemption_reason"),
            exemption_code=line.get("exemption_code"),
        )
        for index, line in enumerate(lines)
    ]


def party_to_json(party: Party | None) -> dict[str, Any] | None:
    """A party as stored and answered: its fields, absent ones left out; the
    address as its object (``{"line1": ..., "postal_code": ..., "city": ...,
    "country_code": "DE"}``, :meth:`~invoicer.invoice.model.Address.to_json`)."""
    if party is None:
        return None
    out: dict[str, Any] = {}
    for item in fields(party):
        value = getattr(party, item.name)
        if isinstance(value, Address):
            value = value.to_json() or None
        elif is_dataclass(value) and not isinstance(value, type):
            # contact, electronic_address, bank_account: their set fields
            value = {key: part for key, part in asdict(value).items() if part is not None} or None
        if value is not None:
            out[item.name] = value
    return out


def structured_party(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored party (a client, the organisation, or the seller, buyer or
    ship-to copied into an invoice) with its address in the structured form:
    a free-text address, as records issued before addresses were structured
    hold it, is split by :func:`~invoicer.invoice.model.address_from_text`;
    the stored record itself is not changed (issued records are frozen).
    Other keys (the seller's ``bank_details``) are kept as they are."""
    if stored is None:
        return None
    address = stored.get("address")
    if not isinstance(address, str):
        return stored
    structured = Address.from_json(address)
    return {**stored, "address": structured.to_json() if structured is not None else None}


def party_from_json(stored: dict[str, Any] | None) -> Party:
    """A stored party as a domain :class:`~invoicer.invoice.model.Party`: its
    canonical fields (others ignored), empty texts as None, the address
    structured whether stored as an object or as free text; name ``""`` when absent."""
    stored = stored or {}
    texts = {
        key: stored.get(key) or None
        for key in ("company", "phone", "email", "vat_id", "tax_number", "legal_registration")
    }
    contact, electronic, account = (
        stored.get(key) or None for key in ("contact", "electronic_address", "bank_account")
    )
    return Party(
        name=stored.get("name") or "",
        address=Address.from_json(stored.get("address") or None),
        contact=Contact(**contact) if isinstance(contact, dict) else None,
        electronic_address=ElectronicAddress(**electronic) if isinstance(electronic, dict) else None,
        bank_account=BankAccount(**account) if isinstance(account, dict) else None,
        **texts,
    )


def check_lines_and_terms(
    *,
    currency: Any,
    lines: Any,
    issue_date: date | None = None,
    due_date: date | None = None,
    payment_terms: Any = None,
    notes: Any = None,
    ship_to: Any = None,
    max_lines: int = 10_000,
    allowances: Any = None,
    charges: Any = None,
    invoicing_period: Any = None,
) -> tuple[list[dict[str, Any]], Totals, dict[str, Any] | None]:
    """Check a draft's content with the canonical rules (currency ISO 4217,
    lines as BG-25 with quantity > 0, unit price >= 0, tax rate 0-100 %,
    exact decimals, dates with due not before issue, texts without control
    characters), and the document-level ``allowances`` and ``charges``
    (BG-20/21, in the totals: BR-CO-13) and ``invoicing_period`` (BG-14)
    when given. ``lines`` may be empty (a draft in progress).

    Returns ``(lines as stored, EN 16931 totals, ship_to as stored)``.
    Raises :class:`Unprocessable` (code ``invalid_invoice``) with pointers
    ``/currency``, ``/lines/<i>/<field>``, ``/due_date``, ...
    """
    if lines is None:
        lines = []
    if not isinstance(lines, list):
        raise Unprocessable(
            "lines must be a list",
            code="invalid_invoice",
            pointer="/lines",
            details=[{"pointer": "/lines", "code": "type", "message": "lines must be a list"}],
        )
    document: dict[str, Any] = {
        "invoice_number": "DRAFT",
        "issue_date": (issue_date or date(2000, 1, 1)).isoformat(),
        "currency": currency,
        "seller": _PLACEHOLDER_PARTY,
        "buyer": _PLACEHOLDER_PARTY,
        "lines": lines or [_PLACEHOLDER_LINE],
    }
    if due_date is not None:
        document["due_date"] = due_date.isoformat()
        if issue_date is None:  # nothing to compare the due date with yet
            document["issue_date"] = due_date.isoformat()
    for name, value in (
        ("payment_terms", payment_terms),
        ("notes", notes),
        ("ship_to", ship_to),
        ("allowances", allowances),
        ("charges", charges),
        ("invoicing_period", invoicing_period),
    ):
        if value is not None:
            document[name] = value
    invoice = _load(
        document, code="invalid_invoice", message="the invoice content is not valid", moves={}, max_lines=max_lines
    )
    model_lines = invoice.lines if lines else ()
    totals = compute_totals(model_lines, invoice.currency, allowances=invoice.allowances, charges=invoice.charges)
    return lines_to_json(model_lines), totals, party_to_json(invoice.ship_to)


#: The party fields a client and the organisation store (EN 16931 BG-4 / BG-7), one column each.
PARTY_FIELDS = (
    "name",
    "company",
    "address",
    "vat_id",
    "email",
    "phone",
    "tax_number",
    "legal_registration",
    "contact",
    "electronic_address",
    "bank_account",
)
#: Those stored as jsonb objects.
JSON_PARTY_FIELDS = frozenset({"address", "contact", "electronic_address", "bank_account"})


def party_columns(checked: dict[str, Any]) -> dict[str, Any]:
    """The column values of a checked party (:func:`check_party`): every one
    of :data:`PARTY_FIELDS`, None where unset, the objects adapted for jsonb."""
    return {
        key: (jsonb(checked[key]) if key in JSON_PARTY_FIELDS else checked[key])
        if checked.get(key) is not None
        else None
        for key in PARTY_FIELDS
    }


def check_locale(value: Any, pointer: str = "/locale") -> str:
    """A CLDR locale identifier Babel knows (``de_DE``, ``fr``; ``de-DE`` is
    taken as ``de_DE``), as Babel writes it; raises :class:`Unprocessable`
    (``invalid_locale``) for anything else, so that ``zz_ZZ`` is never stored
    and then frozen into documents."""
    from babel import Locale, UnknownLocaleError  # noqa: PLC0415

    if isinstance(value, str) and value.strip() and len(value) <= 35:
        try:
            return str(Locale.parse(value.strip().replace("-", "_")))
        except (UnknownLocaleError, ValueError, TypeError):
            pass
    raise Unprocessable(
        f"must be a locale such as de_DE or fr_FR, not {value!r}", code="invalid_locale", pointer=pointer
    )


def check_party(fields: dict[str, Any], *, currency: Any = None) -> tuple[dict[str, Any], str | None]:
    """Check a client's or an organisation's party fields (name, company,
    address, phone, email, vat_id, tax_number, legal_registration,
    electronic_address, contact, bank_account) with the schema's party rules,
    then the identifiers and codes an e-invoice carries
    (:func:`invoicer.invoice.einvoice.checks.party_problems`: VAT ID check
    digits, IBAN mod 97, BIC, the EAS scheme code), and ``currency`` when
    given. Pointers are relative to the caller's body (``/name``, ``/email``,
    ``/currency``, ``/bank_account/iban``).

    Returns ``(party as stored, currency)``; raises :class:`Unprocessable`
    (code ``invalid_party``).
    """
    document: dict[str, Any] = {
        "invoice_number": "DRAFT",
        "issue_date": "2000-01-01",
        "currency": currency if currency is not None else "EUR",
        "seller": _PLACEHOLDER_PARTY,
        "buyer": fields,
        "lines": [_PLACEHOLDER_LINE],
    }
    invoice = _load(
        document, code="invalid_party", message="the party details are not valid", moves={"/buyer": ""}, max_lines=1
    )
    problems = list(party_problems(fields))
    if problems:
        raise Unprocessable(
            "the party details are not valid",
            code="invalid_party",
            details=[
                {"pointer": "".join(f"/{part}" for part in problem.path), "code": problem.code, "message": problem.text}
                for problem in problems
            ],
        )
    return party_to_json(invoice.buyer) or {}, (invoice.currency if currency is not None else None)


def load_document(
    raw: bytes | str | dict[str, Any], *, max_lines: int = 10_000, legacy_currency: str = "USD"
) -> Invoice:
    """A canonical or legacy invoice document (raw JSON bytes/text, or already
    parsed) as a validated :class:`~invoicer.invoice.model.Invoice`.

    Raises :class:`BadRequest` (``malformed_json``) for text that is not sound
    JSON and :class:`Unprocessable` (``invalid_invoice``, one detail per
    problem) for a document that is not a valid invoice.
    """
    if isinstance(raw, (bytes, bytearray, str)):
        try:
            raw = parse_document(raw)
        except MalformedDocument as exc:
            raise BadRequest(exc.message, code="malformed_json") from None
    return _load(
        raw,
        code="invalid_invoice",
        message="the document is not a valid invoice",
        moves={},
        max_lines=max_lines,
        legacy_currency=legacy_currency,
    )
