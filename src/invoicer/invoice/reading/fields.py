"""The result of reading a received invoice: fields with their confidence,
where each came from, and the checks run on them.

One definition per shape: :class:`Extraction` is what :func:`invoicer.invoice.reading.extract`
returns and what ``invoicer extract`` writes (:meth:`Extraction.to_json`).

Field names are pinned (issue 19): :data:`FIELD_NAMES`. Values are strings:
dates ISO 8601 (``2018-10-31``), currencies ISO 4217 (``EUR``), amounts
decimal strings with a point and the sign as printed (``-12.50``), never floats.

``confidence`` is 0-1 and means something: 0.9 or more only when something
checks the value (the e-invoice XML states it; net + tax = gross; a VAT ID's
or an IBAN's check digits; the same value found twice under its label); a
value found once by a keyword rule stays below 0.9.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CONFIDENT",
    "FIELD_NAMES",
    "Check",
    "Extraction",
    "Field",
    "Line",
    "Source",
]

Source = Literal["xml", "text", "ocr", "person"]
"""Where a value came from: the e-invoice XML, the PDF's text layer, OCR of a page image, or a person
(who corrected or typed it, in the expenses service)."""

FIELD_NAMES = (
    "supplier_name",
    "supplier_vat_id",
    "supplier_address",
    "iban",
    "invoice_number",
    "issue_date",
    "due_date",
    "currency",
    "total_net",
    "total_tax",
    "total_gross",
)

CONFIDENT = 0.9
"""From this confidence on a value has been checked by something (see the module docstring)."""

BBox = tuple[float, float, float, float]
"""``(x0, top, x1, bottom)`` as fractions (0-1) of the page's width and height, from its top-left
corner, whatever the page's size or the resolution it was rendered at."""


@dataclass(frozen=True)
class Field:
    """One value read from a document. ``page`` is 1-based; ``page`` and ``bbox``
    are None for what the XML states."""

    value: str
    confidence: float
    source: Source
    page: int | None = None
    bbox: BBox | None = None

    def with_confidence(self, confidence: float) -> Field:
        return Field(self.value, round(max(0.0, min(1.0, confidence)), 2), self.source, self.page, self.bbox)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "confidence": self.confidence, "source": self.source}
        if self.page is not None:
            out["page"] = self.page
        if self.bbox is not None:
            out["bbox"] = [round(v, 4) for v in self.bbox]
        return out


@dataclass(frozen=True)
class Line:
    """An invoice line where it could be read: amounts are decimal strings; any part may be None."""

    description: str
    quantity: str | None = None
    unit_price: str | None = None
    net_amount: str | None = None
    confidence: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "net_amount": self.net_amount,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class Check:
    """A check on the fields: ``name`` (``totals_add_up``, ``dates_plausible``,
    ``currency_known``, ``vat_id_valid``, ``iban_valid``), ``ok`` True/False, or None
    when the fields it needs are missing; ``detail`` says what was compared."""

    name: str
    ok: bool | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


Kind = Literal["einvoice_xml", "einvoice_pdf", "text_pdf", "scanned_pdf", "image", "unreadable"]


@dataclass
class Extraction:
    """What was read from one document.

    ``kind``: how it was read (``einvoice_xml`` a CII/UBL file, ``einvoice_pdf`` a PDF
    carrying one, ``text_pdf``, ``scanned_pdf`` image-only pages OCR'd, ``image``,
    ``unreadable``). ``error`` says why nothing (or not everything) could be read, e.g.
    an encrypted or broken PDF; it is None when reading worked. ``pages``: pages read.
    """

    file: str
    kind: Kind
    fields: dict[str, Field] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    pages: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        """The value of field ``name``, or None when it was not found."""
        found = self.fields.get(name)
        return found.value if found else None

    def to_json(self) -> dict[str, Any]:
        """The ``invoicer extract`` output: ``{"file", "kind", "pages", "error", "fields":
        {name: {"value", "confidence", "source", "page"?, "bbox"?}}, "lines", "checks", "notes"}``;
        the format ``score.py`` of the intake examples reads."""
        return {
            "file": self.file,
            "kind": self.kind,
            "pages": self.pages,
            "error": self.error,
            "fields": {name: self.fields[name].to_json() for name in FIELD_NAMES if name in self.fields},
            "lines": [line.to_json() for line in self.lines],
            "checks": [check.to_json() for check in self.checks],
            "notes": self.notes,
        }
