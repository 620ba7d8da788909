"""Documents and mails of invoice records on the running test stack: the
real worker renders what the relay publishes from the outbox, GridFS keeps
it, and the notification service mails it through the SMTP sink."""

from __future__ import annotations

import io
import json
import mailbox
import time
from email import message_from_binary_file, policy

import pika
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from invoicer.common.amqp import MAIL, Topology, properties
from invoicer.common.config import Settings
from invoicer.common.db import Database
from invoicer.common.relay import Relay
from invoicer.common.storage import BlobStore
from invoicer.invoice.formats import RenderOptions
from invoicer.invoices import clients, credit_notes, invoices, rendering
from invoicer.invoices.identity import resolve_membership
from invoicer.invoices.organisations import update_organisation

from .conftest import LINES, new_actor


class Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def settings(stack) -> Settings:
    return Settings.from_env(stack.env)


@pytest.fixture(scope="module")
def records_db(settings):
    db = Database(settings.database_url, max_connections=4)
    yield db
    db.close()


@pytest.fixture(scope="module")
def blobs(settings):
    store = BlobStore(settings.mongodb_uri, settings.mongodb_database)
    yield store
    store.close()


@pytest.fixture(scope="module")
def relay(records_db, settings):
    relay = Relay(
        records_db,
        settings.amqp_url,
        settings.amqp_prefix,
        idle_seconds=0.1,
        topology=Topology.from_settings(settings),
    )
    yield relay
    relay.close()


@pytest.fixture
def seller(records_db):
    """The owner of a fresh organisation with a seller profile."""
    with records_db.transaction() as cur:
        member = resolve_membership(cur, new_actor("seller"))
        update_organisation(
            cur,
            member,
            {
                "name": "Northwind Traders Ltd",
                "address": "12 Harbour Road\nBristol",
                "email": "billing@northwind.example",
                "currency": "EUR",
            },
        )
    return member


@pytest.fixture
def buyer(records_db, seller) -> dict:
    with records_db.transaction() as cur:
        return clients.create_client(
            cur,
            seller,
            {
                "name": "Maria Anders",
                "company": "Alfreds Futterkiste",
                "address": "Obere Str. 57\nBerlin",
                "email": f"maria-{seller.organisation_id.hex[:8]}@alfreds.example",
                "payment_terms_days": 14,
            },
        )


def draft(db, member, client) -> dict:
    with db.transaction() as cur:
        return invoices.create_draft(cur, member, {"client_id": client["id"], "lines": LINES})


def wait_for(check, timeout: float = 60.0, what: str = "it"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def kept(db, blobs, member, invoice_id, fmt, relay) -> tuple[bytes, str, str]:
    """Publish the outbox, then wait until the worker has kept the file."""

    def ready():
        relay.publish_batch()
        return rendering.document(db, blobs, member, invoice_id, fmt)

    return wait_for(ready, what=f"the {fmt} of {invoice_id}")


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def commands_of(db, invoice_id) -> list[dict]:
    with db.transaction() as cur:
        cur.execute(
            "SELECT id, type, payload, published_at FROM outbox WHERE kind = 'command' AND aggregate_id = %s"
            " ORDER BY seq",
            (invoice_id,),
        )
        return [dict(row) for row in cur.fetchall()]


def test_issuing_renders_the_pdf_and_xlsx_once_and_keeps_them(records_db, blobs, relay, seller, buyer, stack):
    made = draft(records_db, seller, buyer)
    with records_db.transaction() as cur:
        issued = invoices.issue(cur, seller, made["id"], blobs=blobs)
    assert issued["render_job_id"] is not None

    data, filename, media_type = kept(records_db, blobs, seller, made["id"], "pdf", relay)
    text = pdf_text(data)
    assert issued["number"] in text and "Alfreds Futterkiste" in text and "€330.86" in text
    assert "DRAFT" not in text
    assert (filename, media_type) == (f"{issued['number']}.pdf", "application/pdf")

    xlsx, _, _ = kept(records_db, blobs, seller, made["id"], "xlsx", relay)
    values = [c.value for row in load_workbook(io.BytesIO(xlsx)).active.iter_rows() for c in row]
    assert issued["number"] in values and "Maria Anders" in values

    # One render request, published once; one job, rendered in one attempt.
    [command] = commands_of(records_db, made["id"])
    assert command["type"] == "invoice.render" and command["published_at"] is not None
    assert command["payload"]["notify"] is False
    with records_db.transaction() as cur:
        cur.execute("SELECT status, attempts, owner_id FROM jobs WHERE id = %s", (issued["render_job_id"],))
        job = cur.fetchone()
    assert (job["status"], job["attempts"], job["owner_id"]) == ("done", 1, seller.actor.user_id)
    # Calling it again (as a route might) requests nothing more.
    with records_db.transaction() as cur:
        rendering.request_documents(cur, blobs, seller, made["id"])
    assert len(commands_of(records_db, made["id"])) == 1
    # Record documents send the user no "your invoice is ready" mail.
    assert mails_with(stack, "X-Invoicer-Job-Id", str(issued["render_job_id"]), timeout=2) == []


def test_a_rolled_back_issue_publishes_nothing_and_the_next_attempt_works(records_db, blobs, relay, seller, buyer):
    made = draft(records_db, seller, buyer)
    with pytest.raises(Rollback), records_db.transaction() as cur:  # noqa: PT012 - the rollback is the point
        invoices.issue(cur, seller, made["id"], blobs=blobs)
        raise Rollback
    assert commands_of(records_db, made["id"]) == []
    with records_db.transaction() as cur:
        cur.execute("SELECT status, render_job_id FROM invoices WHERE id = %s", (made["id"],))
        assert dict(cur.fetchone()) == {"status": "draft", "render_job_id": None}
        cur.execute("SELECT count(*) AS n FROM jobs WHERE id = %s", (rendering.render_job_id(made["id"]),))
        assert cur.fetchone()["n"] == 0
    # The harmless leftover: the canonical document, under its derived id.
    assert blobs.get(rendering.input_fid(made["id"])) is not None

    # The draft changes before the next attempt: the leftover is replaced.
    with records_db.transaction() as cur:
        invoices.update_draft(cur, seller, made["id"], {"lines": LINES[:1]})
        issued = invoices.issue(cur, seller, made["id"], blobs=blobs)
    text = pdf_text(kept(records_db, blobs, seller, made["id"], "pdf", relay)[0])
    assert issued["number"] in text and "Chai tea" in text and "Aniseed syrup" not in text
    assert len(commands_of(records_db, made["id"])) == 1


def test_a_credit_note_pdf_says_credit_note_and_names_the_invoice(records_db, blobs, relay, seller, buyer):
    made = draft(records_db, seller, buyer)
    with records_db.transaction() as cur:
        issued = invoices.issue(cur, seller, made["id"], blobs=blobs)
        note = credit_notes.issue_credit_note(
            cur, seller, made["id"], lines=[{"position": 1, "quantity": "5"}], blobs=blobs
        )["credit_note"]
    text = pdf_text(kept(records_db, blobs, seller, note["id"], "pdf", relay)[0])
    assert "CREDIT NOTE" in text and note["number"] in text
    assert "Corrects invoice" in text and issued["number"] in text
    assert "Total credit" in text and "€107.10" in text


def test_a_draft_preview_says_draft_and_has_no_number(records_db, seller, buyer):
    made = draft(records_db, seller, buyer)
    with records_db.transaction() as cur:
        data, filename, media_type = rendering.preview(cur, seller, made["id"], "pdf", RenderOptions())
        xlsx, _, _ = rendering.preview(cur, seller, made["id"], "xlsx", RenderOptions())
    text = pdf_text(data)
    assert "DRAFT" in text and "Invoice no." not in text and "INV-" not in text
    assert "Alfreds Futterkiste" in text and "€330.86" in text
    assert (filename, media_type) == (f"draft-{made['id']}.pdf", "application/pdf")
    assert load_workbook(io.BytesIO(xlsx)).active["A1"].value == "DRAFT - not a valid invoice"


def test_an_issued_invoice_has_no_preview_and_a_draft_no_kept_document(records_db, blobs, seller, buyer):
    from invoicer.invoices.errors import Conflict

    made = draft(records_db, seller, buyer)
    with pytest.raises(Conflict) as no_document:
        rendering.document(records_db, blobs, seller, made["id"], "pdf")
    assert no_document.value.code == "not_issued"
    with records_db.transaction() as cur:
        invoices.issue(cur, seller, made["id"], blobs=blobs)
    with pytest.raises(Conflict) as no_preview, records_db.transaction() as cur:
        rendering.preview(cur, seller, made["id"], "pdf", RenderOptions())
    assert no_preview.value.code == "not_draft"


def mails_with(stack, header: str, value: str, *, at_least: int = 1, timeout: float = 60.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        found = []
        box = mailbox.Maildir(stack.mail_dir, create=False)
        for key in box.iterkeys():
            with box.get_file(key) as handle:
                message = message_from_binary_file(handle, policy=policy.default)
            if message[header] == value:
                found.append(message)
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_send_mails_the_client_once_with_the_invoices_pdf(records_db, blobs, relay, seller, buyer, stack, settings):
    made = draft(records_db, seller, buyer)
    with records_db.transaction() as cur:
        issued = invoices.issue(cur, seller, made["id"], blobs=blobs)
        # Sent straight away: the mail waits (retries) until the PDF is kept.
        sent = invoices.send(cur, seller, made["id"], blobs=blobs)
    assert sent["status"] == "sent"
    relay.publish_batch()
    pdf = kept(records_db, blobs, seller, made["id"], "pdf", relay)[0]
    [command] = [c for c in commands_of(records_db, made["id"]) if c["type"] == MAIL]

    [mail] = mails_with(stack, "X-Invoicer-Mail-Id", str(command["id"]))
    assert mail["To"] == buyer["email"]
    assert mail["Reply-To"] == "billing@northwind.example"
    assert issued["number"] in mail["Subject"] and "Northwind Traders Ltd" in mail["Subject"]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Northwind Traders Ltd" in body and issued["number"] in body
    assert "330.86 EUR" in body and issued["due_date"].strftime("%B %Y") in body
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == f"{issued['number']}.pdf"
    assert attachment.get_content() == pdf  # the kept PDF itself

    # The broker delivers the same command again: no second mail.
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        props = properties(str(command["id"]))
        channel.basic_publish(settings.amqp_prefix, MAIL, json.dumps(command["payload"]).encode(), props)
    finally:
        connection.close()
    wait_for(
        lambda: "invoice already mailed; dropping duplicate" in stack.log("notification"),
        what="the duplicate to be dropped",
    )
    assert len(mails_with(stack, "X-Invoicer-Mail-Id", str(command["id"]), at_least=2, timeout=3)) == 1


def test_send_needs_an_address(records_db, blobs, seller):
    from invoicer.invoices.errors import Unprocessable

    with records_db.transaction() as cur:
        nameless = clients.create_client(cur, seller, {"name": "No Mail Ltd"})
    made = draft(records_db, seller, nameless)
    with records_db.transaction() as cur:
        invoices.issue(cur, seller, made["id"], blobs=blobs)
    with pytest.raises(Unprocessable) as refused, records_db.transaction() as cur:
        invoices.send(cur, seller, made["id"], blobs=blobs)
    assert refused.value.code == "no_recipient"


def test_an_imported_invoice_is_rendered_under_its_own_number(records_db, blobs, relay, seller, example_bytes):
    from invoicer.invoices.importing import import_invoice

    with records_db.transaction() as cur:
        imported = import_invoice(cur, seller, example_bytes, blobs=blobs)
    text = pdf_text(kept(records_db, blobs, seller, imported["id"], "pdf", relay)[0])
    assert imported["number"] in text and "Alfreds Futterkiste" in text and "€330.86" in text
