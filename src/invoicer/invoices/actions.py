"""What a member may do with an invoice now: the ``actions`` of an invoice
as the API answers it, so that a client (the web app) offers exactly what
the service would accept instead of copying the lifecycle's rules.

The rules are the domain modules', read from the same view they check:

* ``edit``, ``delete``, ``issue``: a draft (:func:`invoicer.invoices.invoices.refuse_frozen`,
  :func:`~invoicer.invoices.invoices.issue`);
* ``send``: an issued invoice, not a credit note, whatever it has been paid
  or credited since (:func:`~invoicer.invoices.invoices.send`);
* ``record_payment``: an invoice open for payment (``issued``, ``sent``,
  ``partially_paid``: :data:`~invoicer.invoices.invoices.OPEN_STATUSES`)
  with a balance due above zero (:func:`invoicer.invoices.payments.record_payment`
  refuses more than the balance);
* ``credit``: an issued invoice, not a credit note, with something left to
  credit, i.e. not ``credited``
  (:func:`invoicer.invoices.credit_notes.issue_credit_note`);
* ``refund``: an issued invoice with a refund due, i.e. paid and credited
  beyond its gross (:func:`invoicer.invoices.refunds.record_refund`);
* none at all for a viewer (:meth:`~invoicer.invoices.principals.Member.require_write`)
  or for a credit note, which is final as issued.

What can still fail is what the view does not say: issuing a draft without
lines (422 ``no_lines``), sending to a client without an e-mail address
(422 ``no_recipient``), a payment above the balance (422). No Flask here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .invoices import OPEN_STATUSES
from .principals import Member
from .refunds import refund_due

__all__ = ["ACTIONS", "allowed_actions"]

#: Every action an invoice may allow, in the order :func:`allowed_actions` lists them.
ACTIONS = ("edit", "delete", "issue", "send", "record_payment", "credit", "refund")


def allowed_actions(view: dict[str, Any], member: Member) -> list[str]:
    """The actions ``member`` may take on the invoice ``view`` now, a sublist
    of :data:`ACTIONS` in its order, e.g. ``["edit", "delete", "issue"]`` for
    a draft and ``["send", "record_payment", "credit"]`` for an issued
    invoice with a balance due; ``[]`` for a viewer or a credit note.

    ``view`` is an invoice as :func:`invoicer.invoices.invoices.invoice_view`
    gives it (``kind``, ``status``, ``balance_due``: a Decimal or a decimal
    string). Raises ``KeyError`` if ``view`` lacks ``kind`` or ``status``."""
    if not member.can_write or view["kind"] != "invoice":
        return []
    status = view["status"]
    if status == "draft":
        return ["edit", "delete", "issue"]
    allowed = ["send"]
    if status in OPEN_STATUSES and Decimal(str(view.get("balance_due") or 0)) > 0:
        allowed.append("record_payment")
    if status != "credited":
        allowed.append("credit")
    if refund_due(view) > 0:
        allowed.append("refund")
    return allowed
