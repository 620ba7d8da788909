"""The account.mail handler alone (issue 22), with stand-ins for its log and
the SMTP delivery: each kind of link is mailed once with the sender's link
as it came, and a malformed command is dead-lettered. The whole path
(outbox, relay, broker, SMTP sink) is covered by tests/accounts."""

from __future__ import annotations

import pytest

from invoicer.common.amqp import DeadLetter, Done, QueuePolicy, settle
from invoicer.common.config import Settings
from invoicer.common.messages import AccountMail
from invoicer.notification.account_mail import AccountMailHandler

LINK = "https://invoicer.example/app/invitations/answer?token=abc_DEF-123"
INVITATION = AccountMail(
    id="8f0e2a4c-1111-4c7e-9a55-2b1f3c9a7d10",
    kind="invitation",
    recipient="jörg@example.com",
    link=LINK,
    expires_at="2026-12-22T10:00:00+00:00",
    organisation="<b>Northwind</b> & Co",
    role="accountant",
    inviter="owner@northwind.example",
)


class Log:
    def __init__(self):
        self.sent: set[str] = set()

    def was_sent(self, command_id):
        return command_id in self.sent

    def mark_sent(self, command_id, kind):
        if command_id in self.sent:
            return False
        self.sent.add(command_id)
        return True

    def unmark_sent(self, command_id):
        self.sent.discard(command_id)


@pytest.fixture
def world():
    outbox = []

    def deliver(message, settings, before_commit=None):
        before_commit()
        outbox.append(message)

    return AccountMailHandler(Log(), Settings(), deliver=deliver), outbox


def test_an_invitation_is_mailed_once_with_its_link_and_who_invites_to_what(world):
    handler, outbox = world
    policy = QueuePolicy(max_retries=3)
    assert settle(handler, policy, INVITATION.to_bytes(), 0) == Done()
    assert settle(handler, policy, INVITATION.to_bytes(), 0) == Done()  # redelivered
    [message] = outbox
    assert message["To"] == "jörg@example.com"
    assert message["Subject"] == "Invitation to join <b>Northwind</b> & Co on invoicer"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert LINK in body.splitlines()
    assert "owner@northwind.example invites you" in body and "as an accountant" in body
    assert "Nothing changes until you accept" in body and "22 December 2026" in body


@pytest.mark.parametrize(
    ("kind", "subject"),
    [("verify_email", "Confirm your e-mail address for invoicer"), ("password_reset", "Reset your invoicer password")],
)
def test_verification_and_reset_links_say_what_they_are(world, kind, subject):
    handler, outbox = world
    mail = AccountMail(
        id=f"{kind}-1", kind=kind, recipient="a@example.com", link=LINK, expires_at="2026-12-08T12:00:00+00:00"
    )
    assert settle(handler, QueuePolicy(), mail.to_bytes(), 0) == Done()
    assert outbox[0]["Subject"] == subject and LINK in outbox[0].get_content()


def test_an_unknown_kind_is_dead_lettered_unsent(world):
    handler, outbox = world
    body = INVITATION.to_bytes().replace(b'"invitation"', b'"phishing"')
    outcome = settle(handler, QueuePolicy(max_retries=3), body, 0)
    assert isinstance(outcome, DeadLetter) and outbox == []
