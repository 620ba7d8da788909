"""The expenses service's request and answer shapes (pydantic), one per
resource and action; :mod:`.contract` publishes them as OpenAPI.

Money is a decimal string with ASCII digits and at most two decimals
(``"1234.50"``, signed as printed: a credit is negative); dates are ISO 8601
(``YYYY-MM-DD``); currencies ISO 4217 codes. Unknown keys are refused
(``extra="forbid"``), so a misspelt field is a 422 naming it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "EXPENSE_STATUSES",
    "WARNINGS",
    "ExpenseCategories",
    "ExpenseCreate",
    "ExpensePaymentCreate",
    "ExpenseRead",
    "ExpenseReject",
    "ExpenseSubmit",
    "ExpenseUpdate",
    "InputModel",
]

#: The lifecycle (issue 19): processing -> needs_review | submitted -> approved | rejected -> paid; failed.
EXPENSE_STATUSES = ("processing", "needs_review", "submitted", "approved", "rejected", "paid", "failed")
#: Checks that stop a submission until a person confirms them.
WARNINGS = ("duplicate", "bank_details_changed")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _printable(value: str) -> str:
    """Refuse control characters and lone surrogates (PostgreSQL cannot store U+0000; the
    others would be frozen into records and documents)."""
    if _CONTROL.search(value):
        raise ValueError("must not hold control characters")
    return value


_Printable = AfterValidator(_printable)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), _Printable]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), _Printable]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), _Printable]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), _Printable]
Money = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$")]
PositiveMoney = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class InputModel(BaseModel):
    """A request body: unknown keys refused."""

    model_config = ConfigDict(extra="forbid")


class _ExpenseFields(InputModel):
    """The fields of an expense as a person states them (issue 19's pinned names)."""

    supplier_name: Name | None = None
    supplier_vat_id: ShortText | None = None
    supplier_address: LongText | None = None
    iban: ShortText | None = None
    invoice_number: ShortText | None = None
    issue_date: date | None = None
    due_date: date | None = None
    currency: Currency | None = None
    total_net: Money | None = None
    total_tax: Money | None = None
    total_gross: Money | None = None
    category: ShortText | None = None
    notes: LongText | None = None


class ExpenseCreate(_ExpenseFields):
    """``POST /expenses`` with a JSON body: an expense without a document (a
    taxi receipt lost, a bank fee). It starts in ``needs_review``."""


class ExpenseUpdate(_ExpenseFields):
    """``PATCH /expenses/{id}``: corrected fields (each then has source
    ``person`` and confidence 1.0; ``null`` clears one), ``category``, ``notes``."""


class ExpenseSubmit(InputModel):
    """``POST /expenses/{id}/submit``: ``confirm`` lists the warnings
    (:data:`WARNINGS`) the submitter has seen and accepts."""

    confirm: list[Literal["duplicate", "bank_details_changed"]] = Field(default_factory=list)


class ExpenseReject(InputModel):
    """``POST /expenses/{id}/reject``: why (shown to the submitter)."""

    reason: Reason


class ExpensePaymentCreate(InputModel):
    """``POST /expenses/{id}/payments``: money paid to the supplier."""

    amount: PositiveMoney
    paid_on: date
    method: ShortText | None = None
    reference: ShortText | None = None


class ExpenseCategories(InputModel):
    """``PUT /expenses/categories``: the organisation's whole list."""

    categories: list[ShortText] = Field(min_length=1, max_length=100)


# --- answers -------------------------------------------------------------------------


class ExpenseFieldRead(BaseModel):
    """One field: ``value``, ``confidence`` 0-1, ``source`` (xml, text, ocr, person),
    ``page`` (1-based) and ``bbox`` (x0, top, x1, bottom as fractions of the page) when read
    from a page."""

    value: str
    confidence: float
    source: Literal["xml", "text", "ocr", "person"]
    page: int | None = None
    bbox: list[float] | None = None


class ExpenseCheckRead(BaseModel):
    """A check on the fields: ``ok`` True/False, or None when what it needs is missing."""

    name: str
    ok: bool | None
    detail: str


class ExpensePaymentRead(BaseModel):
    id: str
    amount: str
    paid_on: date
    method: str | None
    reference: str | None


class ExpenseRead(BaseModel):
    """An expense: its status, the fields read or corrected (:data:`FIELD_NAMES`), the
    checks, ``warnings`` that need a confirmation before submitting, the document's
    link, payments and balance; ``actions`` what the caller may do with it now (their
    role, its status and the own-submission rule: :func:`invoicer.expenses.records.actions`)."""

    id: str
    status: Literal["processing", "needs_review", "submitted", "approved", "rejected", "paid", "failed"]
    version: int
    fields: dict[str, ExpenseFieldRead]
    lines: list[dict[str, Any]]
    checks: list[ExpenseCheckRead]
    warnings: list[str]
    confirmed: list[str]
    duplicate_of: str | None
    supplier_id: str | None
    category: str | None
    notes: str | None
    kind: str | None
    pages: int
    failure_reason: str | None
    rejection_reason: str | None
    document: dict[str, Any] | None
    created_by: str
    submitted_by: str | None
    decided_by: str | None
    payments: list[ExpensePaymentRead]
    paid: str | None
    balance: str | None
    actions: list[Literal["correct", "submit", "approve", "reject", "pay"]]
    created_at: str
    updated_at: str


class ExpensePage(BaseModel):
    """A page of expenses, newest first."""

    items: list[ExpenseRead]
    page: int
    per_page: int
    total: int
