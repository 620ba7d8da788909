"""Which e-invoice an issued invoice gets (issue 18): the client's choice
(``clients.e_invoice``) against what the records hold.

* ``factur-x``, ``xrechnung-cii``, ``xrechnung-ubl``, ``peppol-ubl``: that
  profile, or the issue is refused before a number is taken (422
  ``e_invoice_incomplete``) with every missing business term, its rule and
  where to fill it in (:func:`invoicer.invoice.einvoice.writer.missing_terms`).
* ``auto`` (the default): Factur-X when nothing EN 16931 needs is missing,
  else the plain PDF, with the missing terms kept on the invoice as warnings.
* ``none``: no e-invoice.
"""

from __future__ import annotations

from typing import Any

from invoicer.invoice.einvoice.writer import PROFILES, Missing, missing_terms

from .documents import load_document
from .errors import Unprocessable

__all__ = ["decide"]


def decide(document: dict[str, Any], choice: str) -> tuple[str | None, list[dict[str, str]]]:
    """``(profile, warnings)`` for the canonical ``document`` of the invoice
    about to be issued and the client's ``choice``: the profile to write
    (None for no e-invoice) and the missing terms of an ``auto`` client as
    ``[{"term", "rule", "message", "pointer"}]``. Raises
    :class:`Unprocessable` (``e_invoice_incomplete``, one detail per missing
    term: pointer, code = the rule id, message naming the term) when the
    client asks for a profile the records cannot meet."""
    if choice == "none":
        return None, []
    invoice = load_document(document)
    if choice == "auto":
        missing = missing_terms(invoice, "factur-x")
        return (None, [item.as_dict() for item in missing]) if missing else ("factur-x", [])
    profile = PROFILES[choice]
    missing = missing_terms(invoice, profile)
    if missing:
        raise Unprocessable(
            f"the client takes {choice} e-invoices, and the records lack {len(missing)} business term(s) for it: "
            + ", ".join(f"{item.term} ({item.rule})" for item in missing),
            code="e_invoice_incomplete",
            details=[_detail(item) for item in missing],
        )
    return profile.name, []


def _detail(item: Missing) -> dict[str, str]:
    return {"pointer": item.pointer, "code": item.rule, "message": f"{item.term}: {item.message}"}
