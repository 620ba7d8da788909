"""The notification handler alone, with the ``invoice.ready`` queue's policy
applied by ``settle`` as the consumer does: retries, dead-lettering, the
failure recorded on the job, and the idempotency key, with an in-memory
record of sent mails and a stand-in SMTP delivery function. The real SMTP
path is covered in test_mail.py."""

from __future__ import annotations

import json
import smtplib

import pytest

from invoicer.common.amqp import DeadLetter, Done, QueuePolicy, Retry, settle
from invoicer.common.config import Settings
from invoicer.common.db import DatabaseUnavailable
from invoicer.notification.handler import NotificationHandler as _NotificationHandler
from invoicer.notification.mailer import PermanentMailError

EVENT = {
    "version": 1,
    "job_id": "6a1c5d0e-5bb8-4d0e-9d7e-3d8f6f1a2b3c",
    "recipient": "maria@example.com",
    "invoice_number": "INV-1",
    "totals": {"currency": "EUR", "net": "1.00", "tax": "0.19", "gross": "1.19"},
    "status_url": "http://gw/jobs/6a1c5d0e-5bb8-4d0e-9d7e-3d8f6f1a2b3c",
    "files": [{"format": "pdf", "fid": "f1", "download_url": "http://gw/download?fid=f1"}],
}


class NotificationHandler:
    """The handler as the consumer runs it: ``(body, retries, correlation_id)
    -> Done | Retry | DeadLetter`` with ``NOTIFY_MAX_RETRIES`` as the limit."""

    def __init__(self, jobs, settings, deliver):
        self.handler = _NotificationHandler(jobs, settings, deliver=deliver)
        self.policy = QueuePolicy(max_retries=settings.notify_max_retries)

    def __call__(self, body, retries, correlation_id):
        return settle(self.handler, self.policy, body, retries, correlation_id)


class SentRecord:
    def __init__(self):
        self.sent: dict[str, str] = {}
        self.failed: dict[str, dict] = {}
        self.down = False

    def was_notified(self, job_id):
        return job_id in self.sent

    def mark_notified(self, job_id, recipient):
        if job_id in self.sent:
            return False
        self.sent[job_id] = recipient
        return True

    def unmark_notified(self, job_id):
        self.sent.pop(job_id, None)

    def mark_notification_failed(self, job_id, *, code, message):
        if self.down:
            raise DatabaseUnavailable("down")
        if job_id in self.sent:
            return False
        self.failed[job_id] = {"code": code, "message": message}
        return True


class Outbox:
    def __init__(self, failures: list[Exception] | None = None):
        self.failures = list(failures or [])
        self.messages = []

    def __call__(self, message, settings, before_commit):
        failure = self.failures.pop(0) if self.failures else None
        if isinstance(failure, RefusedAtEnd):
            before_commit()
            raise failure.error
        if failure is not None:
            raise failure
        before_commit()
        self.messages.append(message)


class RefusedAtEnd:
    """The server takes the whole message, then refuses it at the end."""

    def __init__(self, error: Exception):
        self.error = error


@pytest.fixture
def body() -> bytes:
    return json.dumps(EVENT).encode()


def test_mail_goes_out_once_per_job(body):
    outbox, record = Outbox(), SentRecord()
    handler = NotificationHandler(record, Settings(), deliver=outbox)
    assert isinstance(handler(body, 0, None), Done)
    assert isinstance(handler(body, 0, None), Done)
    assert len(outbox.messages) == 1
    message = outbox.messages[0]
    assert message["To"] == "maria@example.com"
    assert "http://gw/app/files/f1" in message.get_content()  # the web app, not the token-only API


def test_smtp_failures_are_retried_then_dead_lettered(body):
    outbox, record = Outbox([smtplib.SMTPServerDisconnected("gone")] * 10), SentRecord()
    handler = NotificationHandler(record, Settings(notify_max_retries=3), deliver=outbox)
    assert [type(handler(body, retries, None)) for retries in range(3)] == [Retry, Retry, Retry]
    assert record.failed == {}
    assert isinstance(handler(body, 3, None), DeadLetter)
    assert outbox.messages == []
    assert record.failed[EVENT["job_id"]]["code"] == "retries_exhausted"
    assert "SMTPServerDisconnected: gone" in record.failed[EVENT["job_id"]]["message"]


def test_a_retry_that_succeeds_sends_the_mail(body):
    outbox = Outbox([ConnectionRefusedError("smtp down")])
    handler = NotificationHandler(SentRecord(), Settings(), deliver=outbox)
    assert isinstance(handler(body, 0, None), Retry)
    assert isinstance(handler(body, 1, None), Done)
    assert len(outbox.messages) == 1


def test_permanent_refusal_is_dead_lettered_at_once(body):
    record = SentRecord()
    handler = NotificationHandler(record, Settings(), deliver=Outbox([PermanentMailError("550")]))
    assert isinstance(handler(body, 0, None), DeadLetter)
    assert record.failed[EVENT["job_id"]]["code"] == "mail_refused"


@pytest.mark.parametrize(
    "bad",
    [
        b"nope",
        b"{}",
        json.dumps({**EVENT, "version": 7}).encode(),
        json.dumps({k: v for k, v in EVENT.items() if k != "recipient"}).encode(),
    ],
)
def test_malformed_events_are_dead_lettered(bad):
    handler = NotificationHandler(SentRecord(), Settings(), deliver=Outbox())
    assert isinstance(handler(bad, 0, None), DeadLetter)


def test_an_event_whose_file_lacks_its_format_fails_the_notification_at_once():
    """It used to loop forever at the longest delay (a KeyError in the mailer)."""
    bad = json.dumps({**EVENT, "files": [{"fid": "f1", "download_url": "http://gw/download?fid=f1"}]}).encode()
    outbox, record = Outbox(), SentRecord()
    handler = NotificationHandler(record, Settings(), deliver=outbox)
    outcome = handler(bad, 0, None)
    assert isinstance(outcome, DeadLetter) and outcome.code == "malformed_message"
    assert record.failed[EVENT["job_id"]] == {
        "code": "malformed_message",
        "message": "message field files/0/format is missing",
    }
    assert outbox.messages == []


def test_an_unexpected_error_is_retried_up_to_the_limit_then_dead_lettered(body):
    outbox, record = Outbox([RuntimeError("a bug nobody expected")] * 10), SentRecord()
    handler = NotificationHandler(record, Settings(notify_max_retries=2), deliver=outbox)
    assert [type(handler(body, retries, None)) for retries in range(3)] == [Retry, Retry, DeadLetter]
    assert record.failed[EVENT["job_id"]]["code"] == "retries_exhausted"
    assert "RuntimeError: a bug nobody expected" in record.failed[EVENT["job_id"]]["message"]


def test_a_failure_that_cannot_be_recorded_is_retried_not_dead_lettered(body):
    record = SentRecord()
    record.down = True
    handler = NotificationHandler(record, Settings(), deliver=Outbox([PermanentMailError("550")] * 2))
    assert isinstance(handler(body, 0, None), Retry)
    record.down = False
    assert isinstance(handler(body, 1, None), DeadLetter)
    assert record.failed[EVENT["job_id"]]["code"] == "mail_refused"


def test_a_mail_refused_at_the_end_is_unrecorded_and_retried(body):
    record = SentRecord()
    outbox = Outbox([RefusedAtEnd(smtplib.SMTPResponseException(451, b"try later"))])
    handler = NotificationHandler(record, Settings(), deliver=outbox)
    assert isinstance(handler(body, 0, None), Retry)
    assert record.sent == {}, "a refused mail must not count as sent"
    assert isinstance(handler(body, 1, None), Done)
    assert len(outbox.messages) == 1 and EVENT["job_id"] in record.sent


def test_record_is_made_before_the_mail_is_accepted(body):
    """The idempotency record exists by the time the server accepts the mail."""
    record = SentRecord()
    seen = []

    def deliver(message, settings, before_commit):
        before_commit()
        seen.append(EVENT["job_id"] in record.sent)

    assert isinstance(NotificationHandler(record, Settings(), deliver=deliver)(body, 0, None), Done)
    assert seen == [True]
