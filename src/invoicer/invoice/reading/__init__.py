"""Reading received supplier invoices and receipts (issue 19): e-invoice XML, text PDFs, and
OCR of scans and photos, each field with a confidence and where it came from.

Pure: no Flask, no database, no broker. ``extract(data, filename) -> Extraction``
(:mod:`.extract`); the result types are in :mod:`.fields`. Importing this package loads
neither pdfplumber nor the OCR engine; they load on first use.
"""

from .extract import checks, extract
from .fields import CONFIDENT, FIELD_NAMES, Check, Extraction, Field, Line

__all__ = ["CONFIDENT", "FIELD_NAMES", "Check", "Extraction", "Field", "Line", "checks", "extract"]
