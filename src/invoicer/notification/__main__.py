"""The notification process: ``invoicer notification`` or ``python -m invoicer.notification``.

One process consumes the notification service's queues, each with a
consumer (and connection) of its own on its own thread: ``invoice.ready``
(the uploader's "your invoice is ready" mail), ``invoice.mail`` (an issued
invoice mailed to its client with its PDF) and ``account.mail`` (a link of
an account: confirm the address, reset the password, answer an invitation) and
``expense.review`` (bound to the ``expense.submitted`` domain events: the
approvers of an expense told it waits for them). One process rather than a second
command: both need the same SMTP settings and secrets, and the service keeps
one Deployment, one set of probes and one place in the chart.
"""

from __future__ import annotations

from ..common.amqp import ACCOUNT_MAIL, MAIL, READY
from ..common.components import EXPENSE_REVIEW
from ..common.config import Settings
from ..common.consumer_main import run_consumers
from ..common.db import Database
from ..common.jobs import JobStore
from ..common.storage import BlobStore
from .account_mail import AccountMailHandler, AccountMailLog
from .expense_mail import ExpenseReviewMailHandler, ReviewMailLog
from .handler import NotificationHandler
from .invoice_mail import InvoiceMailHandler, MailLog


def main() -> None:
    """Consume ``invoice.ready``, ``invoice.mail``, ``account.mail`` and ``expense.review`` until SIGTERM/SIGINT."""

    def build_ready(settings: Settings) -> NotificationHandler:
        return NotificationHandler(JobStore(Database(settings.database_url, max_connections=2)), settings)

    def build_mail(settings: Settings) -> InvoiceMailHandler:
        blobs = BlobStore(settings.mongodb_uri, settings.mongodb_database)
        return InvoiceMailHandler(MailLog(Database(settings.database_url, max_connections=2)), blobs, settings)

    def build_account_mail(settings: Settings) -> AccountMailHandler:
        return AccountMailHandler(AccountMailLog(Database(settings.database_url, max_connections=2)), settings)

    def build_review_mail(settings: Settings) -> ExpenseReviewMailHandler:
        return ExpenseReviewMailHandler(ReviewMailLog(Database(settings.database_url, max_connections=2)), settings)

    run_consumers(
        "notification",
        {READY: build_ready, MAIL: build_mail, ACCOUNT_MAIL: build_account_mail, EXPENSE_REVIEW: build_review_mail},
        prefetch_setting="worker_prefetch",
    )


if __name__ == "__main__":
    main()
