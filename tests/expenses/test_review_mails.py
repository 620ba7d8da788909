"""The notification service tells approvers when an expense waits for them: the
``expense.submitted`` event (outbox -> events exchange -> the notification service's
``expense.review`` queue) becomes one mail to each owner and accountant other than the
submitter, with the absolute link to the review page; a redelivered event mails nobody
twice. Read from the stack's Maildir."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg2

from tests.conftest import account_mails
from tests.invoices_api.conftest import sign_up

from .conftest import join, organisation_of, read

MIETE = Path(__file__).resolve().parents[1] / "data" / "einvoice" / "EN16931_Miete.pdf"
KIND = "expense_review"


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_approvers_but_not_the_submitter_nor_a_viewer_are_mailed_once_with_the_review_link(stack) -> None:
    owner = sign_up(stack.base_url)
    organisation_of(owner)
    accountant = join(stack, owner, "accountant")
    viewer = join(stack, owner, "viewer")
    public = stack.env["PUBLIC_URL"].rstrip("/")

    # submitted by a person: the accountant; the owner is told
    made = accountant.ok(
        "POST",
        "/expenses",
        201,
        json={
            "supplier_name": "Papier <b>& Co</b>",
            "invoice_number": "P-9",
            "issue_date": "2026-11-30",
            "currency": "EUR",
            "total_gross": "119.00",
        },
    )
    accountant.ok("POST", f"/expenses/{made['id']}/submit", json={})
    (mail,) = account_mails(stack, owner.email, KIND)
    text = body_of(mail)
    assert f"{public}/app/expenses/{made['id']}" in text.splitlines()
    assert "Papier <b>& Co</b>" in mail["Subject"] and "P-9" in mail["Subject"]
    assert "119.00 EUR" in text and accountant.email in text
    assert mail.get_content_type() == "text/plain"

    # submitted by the intake worker in the uploader's name: the owner uploads, the accountant is told
    uploaded = owner("POST", "/expenses", files={"file": ("miete.pdf", MIETE.read_bytes(), "application/pdf")})
    expense = read(owner, uploaded.json()["id"])
    assert expense["status"] == "submitted", expense["checks"]
    (told,) = account_mails(stack, accountant.email, KIND)
    assert f"{public}/app/expenses/{expense['id']}" in body_of(told).splitlines()
    assert "MUSTER-Autovermietung" in told["Subject"] and "340.96 EUR" in body_of(told)

    # the event delivered again (a relay that published and died before marking it): no second mail
    with psycopg2.connect(stack.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE outbox SET published_at = NULL WHERE type = 'expense.submitted' AND aggregate_id = ANY(%s::uuid[])"
            " RETURNING id",
            ([made["id"], expense["id"]],),
        )
        again = [row[0] for row in cur.fetchall()]
    assert len(again) == 2
    deadline = time.monotonic() + 30
    with psycopg2.connect(stack.env["DATABASE_URL"]) as conn:
        while True:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM outbox WHERE id = ANY(%s::uuid[]) AND published_at IS NULL", (again,))
                if cur.fetchone()[0] == 0:
                    break
            assert time.monotonic() < deadline, "the relay did not publish the events again"
            time.sleep(0.2)
    time.sleep(3)  # the time the notification service took for the first delivery, many times over
    assert len(account_mails(stack, owner.email, KIND, at_least=2, timeout=2)) == 1
    assert len(account_mails(stack, accountant.email, KIND, at_least=2, timeout=2)) == 1
    assert account_mails(stack, viewer.email, KIND, timeout=1) == []
