"""The words the pages use for the invoices service's codes, defined once:
statuses, sort keys and roles. Templates get them from the views (and the
``status_label`` filter), never spell them out themselves.

The codes are the service's (issue 10's HTTP API); only their labels are
the web app's.
"""

from __future__ import annotations

__all__ = ["DEFAULT_ROLE", "FALLBACK_ROLE", "ROLES", "ROLES_HELP", "SORT_LABELS", "STATUS_LABELS", "status_label"]

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
