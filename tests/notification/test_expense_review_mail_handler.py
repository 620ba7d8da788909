"""The expense.review handler alone, with stand-ins for its log (the expense, its
approvers, the mails recorded) and the SMTP delivery: each approver once, an address
refused does not keep the others from their mail, a retry mails only who is left.
The whole path (outbox, relay, events exchange, SMTP sink) is covered by
tests/expenses/test_review_mails.py."""

from __future__ import annotations

import smtplib

from invoicer.common.amqp import DeadLetter, Done, QueuePolicy, Retry, settle
from invoicer.common.config import Settings
from invoicer.common.messages import DomainEvent
from invoicer.notification.expense_mail import ExpenseReview, ExpenseReviewMailHandler
from invoicer.notification.mailer import PermanentMailError

EXPENSE_ID = "5b0e2a4c-1111-4c7e-9a55-2b1f3c9a7d10"
EVENT = DomainEvent(
    id="9a0e2a4c-2222-4c7e-9a55-2b1f3c9a7d10",
    type="expense.submitted",
    occurred_at="2026-12-08T10:00:00+00:00",
    organisation_id="7c0e2a4c-3333-4c7e-9a55-2b1f3c9a7d10",
    actor={"id": None, "email": None},
    data={"expense_id": EXPENSE_ID, "by": "intake"},
)
REVIEW = ExpenseReview(EXPENSE_ID, "<b>Acme</b>", "A-1", "119.00", "EUR", "clerk@example.com")


class Log:
    def __init__(self, recipients):
        self.recipients = recipients
        self.sent: set[tuple[str, str]] = set()

    def waiting(self, event):
        return (REVIEW, list(self.recipients)) if self.recipients is not None else None

    def was_sent(self, event_id, recipient):
        return (event_id, recipient) in self.sent

    def mark_sent(self, event_id, recipient, expense_id):
        if (event_id, recipient) in self.sent:
            return False
        self.sent.add((event_id, recipient))
        return True

    def unmark_sent(self, event_id, recipient):
        self.sent.discard((event_id, recipient))


def world(recipients, failing=None):
    """The handler and the list of mails accepted; ``failing`` maps an address to the
    exception its delivery raises (after the record, as a refusal at the terminator would)."""
    outbox = []
    failing = failing or {}

    def deliver(message, settings, before_commit=None):
        before_commit()
        error = failing.get(str(message["To"]))
        if error is not None:
            raise error
        outbox.append(message)

    settings = Settings(public_url="https://books.example/")
    return ExpenseReviewMailHandler(Log(recipients), settings, deliver=deliver), outbox


def test_each_approver_is_mailed_once_with_the_absolute_review_link():
    handler, outbox = world(["a@example.com", "b@example.com"])
    policy = QueuePolicy(max_retries=3)
    assert settle(handler, policy, EVENT.to_bytes(), 0) == Done()
    assert settle(handler, policy, EVENT.to_bytes(), 0) == Done()  # redelivered
    assert [str(m["To"]) for m in outbox] == ["a@example.com", "b@example.com"]
    body = outbox[0].get_body(preferencelist=("plain",)).get_content()
    assert f"https://books.example/app/expenses/{EXPENSE_ID}" in body.splitlines()
    assert outbox[0]["Subject"] == "An expense waits for your approval: <b>Acme</b> A-1"
    assert "Total: 119.00 EUR" in body and "clerk@example.com submitted" in body
    assert outbox[0]["Message-ID"] != outbox[1]["Message-ID"]


def test_other_events_and_expenses_no_longer_waiting_mail_nobody():
    decided, outbox = world(None)  # the expense was approved or rejected before the event came
    assert settle(decided, QueuePolicy(max_retries=3), EVENT.to_bytes(), 0) == Done()
    handler, outbox2 = world(["a@example.com"])
    other = EVENT.to_bytes().replace(b'"expense.submitted"', b'"expense.approved"')
    assert settle(handler, QueuePolicy(max_retries=3), other, 0) == Done()
    assert outbox == outbox2 == []
    malformed = settle(handler, QueuePolicy(max_retries=3), b'{"version": 1}', 0)
    assert isinstance(malformed, DeadLetter) and outbox2 == []


def test_a_refused_address_does_not_keep_the_others_from_their_mail():
    handler, outbox = world(
        ["a@example.com", "refused@example.com", "c@example.com"],
        {"refused@example.com": PermanentMailError("550 no such mailbox")},
    )
    outcome = settle(handler, QueuePolicy(max_retries=3), EVENT.to_bytes(), 0)
    assert isinstance(outcome, DeadLetter) and outcome.code == "mail_refused"
    assert "refused@example.com" in outcome.reason
    assert [str(m["To"]) for m in outbox] == ["a@example.com", "c@example.com"]
    assert (EVENT.id, "refused@example.com") not in handler.mails.sent


def test_a_retry_after_an_smtp_outage_mails_only_who_is_left():
    failing = {"b@example.com": smtplib.SMTPServerDisconnected("gone")}
    handler, outbox = world(["a@example.com", "b@example.com"], failing)
    policy = QueuePolicy(max_retries=3)
    assert isinstance(settle(handler, policy, EVENT.to_bytes(), 0), Retry)
    failing.clear()
    assert settle(handler, policy, EVENT.to_bytes(), 1) == Done()
    assert [str(m["To"]) for m in outbox] == ["a@example.com", "b@example.com"]
