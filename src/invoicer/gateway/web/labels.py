"""The words the pages use for the invoices service's codes, defined once:
statuses, sort keys and roles. Templates get them from the views (and the
``status_label`` filter), never spell them out themselves.

The codes are the service's (issue 10's HTTP API); only their labels are
the web app's.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DEFAULT_ROLE",
    "EVENT_SENTENCES",
    "FALLBACK_ROLE",
    "ROLES",
    "ROLES_HELP",
    "SORT_LABELS",
    "STATUS_LABELS",
    "event_sentence",
    "pointer_sentence",
    "status_label",
]

#: An invoice's status (``overdue`` is derived by the service) as the pages show it.
STATUS_LABELS = {
    "draft": "Draft",
    "issued": "Issued",
    "sent": "Sent",
    "partially_paid": "Partly paid",
    "paid": "Paid",
    "credited": "Credited",
    "overdue": "Overdue",
}

#: The invoice list's ``sort`` keys.
SORT_LABELS = {
    "created_at": "Newest",
    "issue_date": "Issue date",
    "due_date": "Due date",
    "number": "Number",
    "gross": "Amount",
}

#: A member's roles in the order they are offered: code -> label.
ROLES = {"owner": "Owner", "accountant": "Accountant", "viewer": "Viewer"}
#: What each role may do, under the role chooser.
ROLES_HELP = "Owners manage everything; accountants read and write; viewers only read."
#: The role an invitation offers first.
DEFAULT_ROLE = "accountant"
#: The role of an invitation that names none: the one that can change nothing.
FALLBACK_ROLE = "viewer"


def status_label(status: str) -> str:
    """The label of a status code (``"partially_paid"`` -> ``"Partly paid"``);
    an unknown code is shown readable (``"on_hold"`` -> ``"On hold"``)."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


#: An activity log entry in words, by the service's event type (its domain
#: events, invoicer.invoices.events); ``{name}`` is taken from the event's data.
EVENT_SENTENCES = {
    "invoice.created": "Draft created",
    "invoice.updated": "Draft changed",
    "invoice.deleted": "Draft deleted",
    "invoice.issued": "Issued as {number}",
    "invoice.sent": "Sent to the client",
    "invoice.paid": "Paid in full",
    "payment.recorded": "Payment of {amount} {currency} recorded",
    "credit_note.issued": "Credit note {number} issued for {gross} {currency}",
    "order.invoiced": "Made from an order",
}


def event_sentence(event: dict[str, Any]) -> str:
    """One activity log entry in words, with who did it: ``{"type":
    "invoice.issued", "data": {"number": "INV-2026-0001"}, "actor": {"email":
    "ana@example.com"}}`` -> ``"Issued as INV-2026-0001 by ana@example.com"``.
    An imported invoice reads "Imported as ..."; an unknown type, or data
    missing a field its sentence names, is shown readable from the type
    (``"client.archived"`` -> ``"Client archived"``)."""
    kind = str(event.get("type") or "")
    data = event.get("data") or {}
    template = EVENT_SENTENCES.get(kind)
    if kind == "invoice.issued" and data.get("imported"):
        template = "Imported as {number}"
    try:
        sentence = template.format_map(data) if template else ""
    except (KeyError, ValueError, IndexError):
        sentence = ""
    if not sentence:
        sentence = kind.replace(".", " ").replace("_", " ").capitalize()
    actor = event.get("actor")
    who = actor.get("email") if isinstance(actor, dict) else actor
    return f"{sentence} by {who}" if who else sentence


def pointer_sentence(pointer: str | None, message: str) -> str:
    """A problem at an RFC 6901 JSON pointer of an uploaded document, in
    words: ``("/lines/0/quantity", "must be a number")`` -> ``"Line 1:
    quantity must be a number"``, ``("/seller/vat_id", "…")`` -> ``"Seller
    vat id: …"``; without a pointer, the message alone."""
    # The service's messages may begin with the path itself ("lines/0/quantity must be ...").
    path = (pointer or "").lstrip("/")
    if path and message.startswith(path + " "):
        message = message[len(path) + 1 :]
    parts = [part.replace("~1", "/").replace("~0", "~") for part in (pointer or "").split("/")[1:]]
    where: list[str] = []
    prefix = ""
    for index, part in enumerate(parts):
        if part.isdigit() and index > 0 and not prefix and parts[index - 1] == "lines":
            where.pop()
            prefix = f"Line {int(part) + 1}"
        elif part.isdigit():
            where.append(f"{int(part) + 1}")
        else:
            where.append(part.replace("_", " "))
    words = " ".join(where)
    if prefix:
        return f"{prefix}: {words} {message}".replace(":  ", ": ").strip()
    return f"{words[:1].upper()}{words[1:]} {message}" if words else message
