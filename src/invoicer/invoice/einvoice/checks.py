"""Checks of the codes and identifiers an e-invoice carries, before one is written.

:func:`invoice_problems` checks a canonical invoice document's EN 16931 codes
and identifiers and returns :class:`~invoicer.invoice.errors.Problem` values
at their JSON pointers; the invoices service refuses a record with any (422,
nothing stored), while the render-only upload path reports them as warnings
on the job, so that documents made by other systems still render.

What is checked, and where each rule comes from:

* VAT identifiers (BT-31, BT-48): the country's format and check digits
  (python-stdnum's ``vatin``: EU member states, GB, CH, NO and others);
  ``invalid_vat_id``.
* IBAN (BT-84): ISO 13616 structure and the ISO 7064 mod 97-10 check
  (``invalid_iban``); BIC (BT-86): ISO 9362 (``invalid_bic``).
* Code lists, read from the official CEN EN 16931 v1.3.16 XSLT itself, so
  that they are the lists the validator applies: unit codes (BT-130, BR-CL-23,
  UN/ECE Rec. 20/21; ``unknown_unit_code``), VAT category codes (BT-151,
  BT-95, BT-102; BR-CL-17/18; ``unknown_tax_category``), VATEX exemption
  codes (BT-121, BR-CL-22; ``unknown_exemption_code``) and Electronic
  Address Scheme codes (BT-34, BT-49; BR-CL-25; ``unknown_scheme``).
* A category and its rate agree: ``S`` above 0 % (BR-S-05), ``Z``, ``E``,
  ``AE``, ``K``, ``G`` at 0 % (BR-Z-05, BR-E-05, BR-AE-05, BR-IC-05,
  BR-G-05); ``rate_category_mismatch``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from ..errors import JsonPath, Problem
from ..model import ZERO_RATE_CATEGORIES
from .validation import RULES_DIR

__all__ = ["code_list", "invoice_problems", "party_problems"]

_RULE_LISTS = {"units": "BR-CL-23", "categories": "BR-CL-17", "vatex": "BR-CL-22", "schemes": "BR-CL-25"}


@cache
def code_list(name: str) -> frozenset[str]:
    """The codes of one list of the CEN EN 16931 validation XSLT: ``units``
    (BR-CL-23), ``categories`` (BR-CL-17), ``vatex`` (BR-CL-22) or
    ``schemes`` (BR-CL-25), read from the ``contains(' … ', …)`` of the
    rule's assertion. Raises KeyError for another name, LookupError if the
    XSLT no longer holds the rule in that form."""
    rule = _RULE_LISTS[name]
    text = (RULES_DIR / "en16931" / "EN16931-UBL-validation.xslt").read_text(encoding="utf-8")
    at = text.find(f'<xsl:attribute name="id">{rule}</xsl:attribute>')
    if at < 0:
        raise LookupError(f"{rule} is not in the EN 16931 XSLT")
    test = text.rfind('test="', 0, at)
    found = re.search(r"contains\(\s*'([^']+)'", text[test:at])
    if found is None:
        raise LookupError(f"{rule}'s code list is not where it was")
    return frozenset(found.group(1).split())


def _vat_problem(value: str) -> str | None:
    from stdnum import vatin  # noqa: PLC0415
    from stdnum.exceptions import ValidationError  # noqa: PLC0415

    try:
        vatin.validate(value)
    except ValidationError as exc:
        return f"{value!r} is not a valid VAT identifier: {str(exc).rstrip('.').lower()}"
    return None


def _iban_problem(value: str) -> str | None:
    from stdnum import iban  # noqa: PLC0415
    from stdnum.exceptions import ValidationError  # noqa: PLC0415

    try:
        iban.validate(value)
    except ValidationError as exc:
        return f"{value!r} is not a valid IBAN: {str(exc).rstrip('.').lower()}"
    return None


def _bic_problem(value: str) -> str | None:
    from stdnum import bic  # noqa: PLC0415
    from stdnum.exceptions import ValidationError  # noqa: PLC0415

    try:
        bic.validate(value)
    except ValidationError:
        return f"{value!r} is not a BIC (ISO 9362: 8 or 11 letters and digits)"
    return None


def party_problems(party: Mapping[str, Any], base: JsonPath = ()) -> Iterator[Problem]:
    """Problems of one party object (seller, buyer, a client, the organisation)
    as the canonical format and the API write it: ``vat_id``,
    ``electronic_address.scheme``, ``bank_account.iban`` and ``.bic``."""
    vat_id = party.get("vat_id")
    if isinstance(vat_id, str) and vat_id.strip():
        problem = _vat_problem(vat_id.strip())
        if problem:
            yield Problem((*base, "vat_id"), "invalid_vat_id", problem)
    address = party.get("electronic_address")
    if isinstance(address, Mapping):
        scheme = address.get("scheme")
        if isinstance(scheme, str) and scheme.strip() and scheme.strip() not in code_list("schemes"):
            yield Problem(
                (*base, "electronic_address", "scheme"),
                "unknown_scheme",
                f"{scheme!r} is not an Electronic Address Scheme code (EAS list, BR-CL-25)",
            )
    account = party.get("bank_account")
    if isinstance(account, Mapping):
        for key, check, code in (("iban", _iban_problem, "invalid_iban"), ("bic", _bic_problem, "invalid_bic")):
            value = account.get(key)
            if isinstance(value, str) and value.strip():
                problem = check(value.strip())
                if problem:
                    yield Problem((*base, "bank_account", key), code, problem)


def _category_problems(item: Mapping[str, Any], base: JsonPath) -> Iterator[Problem]:
    category = item.get("tax_category")
    try:
        rate = Decimal(str(item.get("tax_rate")))
    except (InvalidOperation, ValueError):
        return
    if isinstance(category, str) and category.strip():
        category = category.strip()
        if category not in code_list("categories"):
            yield Problem(
                (*base, "tax_category"),
                "unknown_tax_category",
                f"{category!r} is not a VAT category code (S, Z, E, AE, K, G, O, L, M; BR-CL-17)",
            )
        elif category == "S" and rate <= 0:
            yield Problem((*base, "tax_rate"), "rate_category_mismatch", "category S needs a rate above 0 (BR-S-05)")
        elif category in ZERO_RATE_CATEGORIES and category != "O" and rate != 0:
            yield Problem(
                (*base, "tax_rate"),
                "rate_category_mismatch",
                f"category {category} is taxed at 0 %, not {rate} % (BR-{'IC' if category == 'K' else category}-05)",
            )


def invoice_problems(document: Mapping[str, Any]) -> list[Problem]:
    """Every problem of the codes and identifiers of a canonical invoice
    document (as parsed JSON, after it passed the schema), in document order:
    the parties (:func:`party_problems`), each line's ``unit_code``,
    ``tax_category`` against its rate and ``exemption_code``, and the
    allowances' and charges' categories. Empty when all is well."""
    found: list[Problem] = []
    for role in ("seller", "buyer", "ship_to"):
        party = document.get(role)
        if isinstance(party, Mapping):
            found += party_problems(party, (role,))
    for index, line in enumerate(document.get("lines") or []):
        if not isinstance(line, Mapping):
            continue
        base: JsonPath = ("lines", index)
        unit = line.get("unit_code")
        if isinstance(unit, str) and unit.strip() and unit.strip() not in code_list("units"):
            found.append(
                Problem(
                    (*base, "unit_code"),
                    "unknown_unit_code",
                    f"{unit!r} is not a UN/ECE Recommendation 20/21 unit code (e.g. C62, HUR, KGM; BR-CL-23)",
                )
            )
        found += _category_problems(line, base)
        code = line.get("exemption_code")
        if isinstance(code, str) and code.strip() and code.strip().upper() not in code_list("vatex"):
            found.append(
                Problem(
                    (*base, "exemption_code"),
                    "unknown_exemption_code",
                    f"{code!r} is not a VATEX exemption reason code (BR-CL-22)",
                )
            )
    for key in ("allowances", "charges"):
        for index, item in enumerate(document.get(key) or []):
            if isinstance(item, Mapping):
                found += _category_problems(item, (key, index))
    return found
