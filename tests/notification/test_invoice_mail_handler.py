"""The invoice.mail handler alone, with stand-ins for its stores and the
SMTP delivery: a PDF not rendered yet is retried, a redelivered command is
not mailed twice. The real broker, GridFS and SMTP sink are covered in
tests/invoices/test_documents.py."""

from __future__ import annotations

import pytest

from invoicer.common.amqp import DeadLetter, Done, QueuePolicy, Retry, settle
from invoicer.common.config import Settings
from invoicer.common.messages import InvoiceMail
from invoicer.common.storage import Blob
from invoicer.notification.invoice_mail import InvoiceMailHandler

MAIL = InvoiceMail(
    id="8f0e2a4c-1111-4c7e-9a55-2b1f3c9a7d10",
    invoice_id="9a1e2a4c-2222-4c7e-9a55-2b1f3c9a7d10",
    recipient="maria@alfreds.example",
    seller="Northwind Traders Ltd",
    number="INV-2026-0001",
    currency="EUR",
    amount_due="330.86",
    due_date="2026-03-24",
    pdf_fid="pdf-1",
    filename="INV-2026-0001.pdf",
)


class Log:
    def __init__(self):
        self.sent: set[str] = set()

    def was_sent(self, command_id):
        return command_id in self.sent

    def mark_sent(self, command_id, invoice_id, recipient):
        if command_id in self.sent:
            return False
        self.sent.add(command_id)
        return True

    def unmark_sent(self, command_id):
        self.sent.discard(command_id)


class Blobs:
    def __init__(self):
        self.files: dict[str, Blob] = {}

    def get(self, fid, owner=None):
        return self.files.get(fid)


@pytest.fixture
def world():
    log, blobs, outbox = Log(), Blobs(), []

    def deliver(message, settings, before_commit=None):
        before_commit()
        outbox.append(message)

    handler = InvoiceMailHandler(log, blobs, Settings(), deliver=deliver)
    return handler, blobs, outbox


def test_a_pdf_not_rendered_yet_is_retried_then_mailed_once(world):
    handler, blobs, outbox = world
    policy = QueuePolicy(max_retries=3)
    assert isinstance(settle(handler, policy, MAIL.to_bytes(), 0), Retry)
    assert outbox == []
    blobs.files["pdf-1"] = Blob("pdf-1", "INV-2026-0001.pdf", 8, {}, b"%PDF-1.4")
    assert settle(handler, policy, MAIL.to_bytes(), 1) == Done()
    assert settle(handler, policy, MAIL.to_bytes(), 0) == Done()  # redelivered
    [message] = outbox
    assert message["To"] == "maria@alfreds.example"
    assert message["Subject"] == "Invoice INV-2026-0001 from Northwind Traders Ltd"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "330.86 EUR by 24 March 2026" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content() == b"%PDF-1.4"


def test_a_pdf_that_never_comes_is_dead_lettered_after_the_retries(world):
    handler, _blobs, outbox = world
    outcome = settle(handler, QueuePolicy(max_retries=2), MAIL.to_bytes(), 2)
    assert isinstance(outcome, DeadLetter) and outcome.code == "document_not_ready"
    assert outbox == []
