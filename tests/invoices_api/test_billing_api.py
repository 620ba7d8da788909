"""The billing API through the gateway on the running stack: a whole invoice
life, the lifecycle's refusals, idempotency, concurrency control, isolation
between organisations, roles, lists and the dashboard."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

from ..conftest import accept_invitation
from .conftest import (
    BUYER,
    LINES,
    LINES_GROSS,
    assert_error,
    fetch_document,
    issued,
    mails_to,
    new_client,
    new_draft,
    pdf_text,
    sign_up,
)


def test_a_whole_life_client_draft_issue_send_payments_paid_and_a_credit_note(stack, seller):
    mailbox_address = f"maria-{uuid.uuid4().hex[:8]}@alfreds.example"
    reply = seller("POST", "/clients", json={**BUYER, "email": mailbox_address})
    assert reply.status_code == 201, reply.text
    client = reply.json()
    assert reply.headers["Location"] == f"{stack.base_url}/clients/{client['id']}"
    assert client["name"] == "Maria Anders" and client["payment_terms_days"] == 14

    reply = seller("POST", "/invoices", json={"client_id": client["id"], "lines": LINES, "notes": "Draft one"})
    assert reply.status_code == 201, reply.text
    draft = reply.json()
    assert reply.headers["Location"] == f"{stack.base_url}/invoices/{draft['id']}"
    assert (draft["status"], draft["number"], draft["series"]) == ("draft", None, None)
    assert draft["totals"] == {
        "currency": "EUR",
        "net": "280.50",
        "tax": "50.36",
        "gross": LINES_GROSS,
        "paid": "0.00",
        "credited": "0.00",
        "balance_due": LINES_GROSS,
        "refunded": "0.00",
        "refund_due": "0.00",
    }
    assert draft["buyer"]["company"] == "Alfreds Futterkiste" and draft["seller"]["name"] == "Northwind Traders Ltd"
    assert draft["lines"][0]["quantity"] == "12" and draft["payments"] == [] and draft["files"] == []

    got = seller("GET", f"/invoices/{draft['id']}")
    reply = seller(
        "PATCH", f"/invoices/{draft['id']}", json={"notes": "Thank you"}, headers={"If-Match": got.headers["ETag"]}
    )
    assert reply.status_code == 200 and reply.json()["notes"] == "Thank you"

    invoice = seller.ok("POST", f"/invoices/{draft['id']}/issue")
    year = date.today().year
    assert (invoice["status"], invoice["number"], invoice["series"]) == ("issued", f"INV-{year}-0001", "INV")
    assert invoice["issue_date"] == date.today().isoformat()
    assert invoice["due_date"] == (date.today() + timedelta(days=14)).isoformat()  # the client's terms
    assert invoice["issued_at"] and invoice["client_id"] == client["id"]

    assert [(f["format"], f["url"]) for f in invoice["files"]] == [
        (fmt, f"{stack.base_url}/invoices/{draft['id']}/{fmt}") for fmt in ("pdf", "xlsx")
    ]
    pdf = fetch_document(seller, f"/invoices/{draft['id']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f"attachment; filename=INV-{year}-0001.pdf"
    text = pdf_text(pdf.content)
    assert f"INV-{year}-0001" in text and "Alfreds Futterkiste" in text and LINES_GROSS in text
    assert "DRAFT" not in text
    xlsx = fetch_document(seller, f"/invoices/{draft['id']}/xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert {f["status"] for f in seller.ok("GET", f"/invoices/{draft['id']}")["files"]} == {"ready"}

    invoice = seller.ok("POST", f"/invoices/{draft['id']}/send")
    assert invoice["status"] == "sent" and invoice["sent_at"]
    [mail] = mails_to(stack, mailbox_address)
    assert f"INV-{year}-0001" in mail["Subject"]
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == f"INV-{year}-0001.pdf" and attachment.get_content() == pdf.content

    first = seller.ok(
        "POST",
        f"/invoices/{draft['id']}/payments",
        201,
        json={"amount": "100.00", "date": date.today().isoformat(), "method": "bank transfer", "reference": "TX-1"},
    )
    assert first["payment"]["amount"] == "100.00"
    assert first["invoice"]["status"] == "partially_paid"
    assert first["invoice"]["totals"]["balance_due"] == str(Decimal(LINES_GROSS) - 100)
    paid = seller.ok(
        "POST",
        f"/invoices/{draft['id']}/payments",
        201,
        json={"amount": first["invoice"]["totals"]["balance_due"], "method": "card"},
    )
    assert paid["invoice"]["status"] == "paid"
    assert paid["invoice"]["totals"]["paid"] == LINES_GROSS and paid["invoice"]["totals"]["balance_due"] == "0.00"
    assert [p["reference"] for p in paid["invoice"]["payments"]] == ["TX-1", None]

    events = seller.ok("GET", f"/invoices/{draft['id']}/events")
    assert [event["type"] for event in events["items"]] == [
        "invoice.created",
        "invoice.updated",
        "invoice.issued",
        "invoice.sent",
        "payment.recorded",
        "payment.recorded",
        "invoice.paid",
    ]
    assert events["items"][0]["actor"]["email"] == seller.email and events["total"] == 7

    # A second invoice, corrected by a credit note for two of its twelve boxes, then for the rest.
    second = issued(seller, client)
    assert second["number"] == f"INV-{year}-0002"
    reply = seller(
        "POST",
        f"/invoices/{second['id']}/credit-notes",
        json={"lines": [{"position": 1, "quantity": "2"}], "reason": "Two boxes arrived damaged"},
    )
    assert reply.status_code == 201, reply.text
    note, after = reply.json()["credit_note"], reply.json()["invoice"]
    assert reply.headers["Location"] == f"{stack.base_url}/invoices/{note['id']}"
    assert (note["kind"], note["number"], note["corrects_invoice_id"]) == (
        "credit_note",
        f"CN-{year}-0001",
        second["id"],
    )
    assert note["totals"]["gross"] == "42.84"  # 2 x 18.00 + 19 % VAT
    assert after["status"] == "issued" and after["totals"]["credited"] == "42.84"
    assert after["totals"]["balance_due"] == str(Decimal(LINES_GROSS) - Decimal("42.84"))
    assert [cn["number"] for cn in after["credit_notes"]] == [f"CN-{year}-0001"]
    rest = seller.ok("POST", f"/invoices/{second['id']}/credit-notes", 201, json={"reason": "Order cancelled"})
    assert rest["invoice"]["status"] == "credited" and rest["credit_note"]["number"] == f"CN-{year}-0002"


def test_a_drafts_documents_are_previews_marked_draft(seller):
    draft = new_draft(seller, new_client(seller))
    reply = seller("GET", f"/invoices/{draft['id']}/pdf")
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "application/pdf"
    assert reply.headers["Content-Disposition"] == f"attachment; filename=draft-{draft['id']}.pdf"
    text = pdf_text(reply.content)
    assert "DRAFT" in text and "Alfreds Futterkiste" in text and LINES_GROSS in text
    assert draft["files"] == []
    assert_error(seller("GET", f"/invoices/{draft['id']}/docx"), 404)


def test_an_issued_invoice_is_never_edited_or_deleted(seller):
    invoice = issued(seller, new_client(seller))
    etag = seller("GET", f"/invoices/{invoice['id']}").headers["ETag"]
    for headers in ({"If-Match": etag}, {"If-Match": "*"}):
        error = assert_error(
            seller("PATCH", f"/invoices/{invoice['id']}", json={"notes": "x"}, headers=headers), 409, "invoice_frozen"
        )
        assert invoice["number"] in error["message"] and "credit note" in error["message"]
    # HTTP preconditions come first (issue 17): without If-Match it is 428, whatever the state.
    assert_error(seller("PATCH", f"/invoices/{invoice['id']}", json={"notes": "x"}), 428, "precondition_required")
    assert_error(seller("DELETE", f"/invoices/{invoice['id']}"), 409, "invoice_frozen")
    assert_error(seller("POST", f"/invoices/{invoice['id']}/issue"), 409, "invoice_frozen")
    assert seller.ok("GET", f"/invoices/{invoice['id']}")["status"] == "issued"


def test_a_stale_etag_is_412_and_a_missing_one_428(seller):
    draft = new_draft(seller, new_client(seller))
    path = f"/invoices/{draft['id']}"
    etag = seller("GET", path).headers["ETag"]
    assert seller("PATCH", path, json={"notes": "first"}, headers={"If-Match": etag}).status_code == 200
    error = assert_error(seller("PATCH", path, json={"notes": "second"}, headers={"If-Match": etag}), 412)
    assert "reload" in error["message"]
    error = assert_error(seller("PATCH", path, json={"notes": "third"}), 428, "precondition_required")
    assert "If-Match" in error["message"]
    assert seller.ok("GET", path)["notes"] == "first"
    assert seller("DELETE", path, headers={"If-Match": etag}).status_code == 412
    assert seller("DELETE", path).status_code == 204
    assert_error(seller("GET", path), 404)


def test_an_idempotency_key_replays_the_first_answer(seller):
    client = new_client(seller)
    body = {"client_id": client["id"], "lines": LINES}
    first = seller("POST", "/invoices", json=body, headers={"Idempotency-Key": "draft-42"})
    again = seller("POST", "/invoices", json=body, headers={"Idempotency-Key": "draft-42"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers["Location"] == first.headers["Location"]
    assert (first.headers["Idempotent-Replayed"], again.headers["Idempotent-Replayed"]) == ("false", "true")
    assert seller.ok("GET", "/invoices")["total"] == 1
    assert_error(
        seller("POST", "/invoices", json={**body, "notes": "other"}, headers={"Idempotency-Key": "draft-42"}),
        409,
        "idempotency_key_reused",
    )

    invoice = seller.ok("POST", f"/invoices/{first.json()['id']}/issue")
    payment = {"amount": "10.00"}
    one = seller.ok("POST", f"/invoices/{invoice['id']}/payments", 201, json=payment, headers={"Idempotency-Key": "p1"})
    two = seller.ok("POST", f"/invoices/{invoice['id']}/payments", 201, json=payment, headers={"Idempotency-Key": "p1"})
    assert two["payment"]["id"] == one["payment"]["id"]
    assert len(seller.ok("GET", f"/invoices/{invoice['id']}")["payments"]) == 1


def test_a_payment_above_the_balance_is_422(seller):
    invoice = issued(seller, new_client(seller))
    error = assert_error(
        seller("POST", f"/invoices/{invoice['id']}/payments", json={"amount": "1000.00"}), 422, "overpayment"
    )
    assert error["details"][0]["pointer"] == "/amount" and LINES_GROSS in error["message"]
    assert_error(seller("POST", f"/invoices/{invoice['id']}/payments", json={"amount": 12.5}), 422, "invalid_amount")
    assert seller.ok("GET", f"/invoices/{invoice['id']}")["totals"]["paid"] == "0.00"


def test_another_organisations_records_are_404(stack, seller):
    client = new_client(seller)
    invoice = issued(seller, client)
    stranger = sign_up(stack.base_url)
    for path in (f"/clients/{client['id']}", f"/invoices/{invoice['id']}", f"/invoices/{invoice['id']}/events"):
        assert_error(stranger("GET", path), 404)
    assert_error(stranger("POST", f"/invoices/{invoice['id']}/payments", json={"amount": "1.00"}), 404)
    assert_error(stranger("PATCH", f"/clients/{client['id']}", json={"name": "Mine"}), 404)
    assert_error(stranger("POST", "/invoices", json={"client_id": client["id"], "lines": LINES}), 422, "unknown_client")
    assert stranger.ok("GET", "/invoices")["total"] == 0 and stranger.ok("GET", "/clients")["total"] == 0
    assert seller.ok("GET", f"/clients/{client['id']}")["name"] == "Maria Anders"


def test_a_viewer_reads_but_cannot_write(stack, seller):
    client = new_client(seller)
    invoice = issued(seller, client)
    email = f"viewer-{client['id'][:8]}@example.com"
    invited = seller.ok("POST", "/organisation/members", 201, json={"email": email, "role": "viewer"})
    assert invited["status"] == "invited"
    viewer = sign_up(stack.base_url, email)
    accept_invitation(stack, email, viewer.token)  # nobody joins without consent (issue 22)
    assert viewer.ok("GET", f"/invoices/{invoice['id']}")["number"] == invoice["number"]
    members = {m["email"]: m for m in seller.ok("GET", "/organisation/members")["items"]}
    assert members[email]["role"] == "viewer" and members[email]["status"] == "active"
    for method, path, body in (
        ("POST", "/clients", BUYER),
        ("POST", "/invoices", {"client_id": client["id"], "lines": LINES}),
        ("POST", f"/invoices/{invoice['id']}/payments", {"amount": "1.00"}),
        ("PATCH", "/organisation", {"name": "Taken over"}),
        ("DELETE", f"/clients/{client['id']}", None),
    ):
        assert_error(viewer(method, path, json=body), 403)
    assert seller.ok("GET", f"/invoices/{invoice['id']}")["totals"]["paid"] == "0.00"


def test_list_filters_sort_and_pages(seller):
    today = date.today()
    anders = new_client(seller)
    other = new_client(seller, name="Thomas Hardy", company="Around the Horn")
    overdue = issued(
        seller,
        anders,
        issue_date=(today - timedelta(days=40)).isoformat(),
        due_date=(today - timedelta(days=10)).isoformat(),
    )
    current = issued(seller, other)
    draft = new_draft(seller, anders)

    def ids(query: str) -> list[str]:
        return [item["id"] for item in seller.ok("GET", f"/invoices?{query}")["items"]]

    assert ids("status=overdue") == [overdue["id"]]
    assert seller.ok("GET", "/invoices?status=overdue")["items"][0]["overdue"] is True
    assert ids("status=draft") == [draft["id"]]
    assert set(ids("status=issued")) == {overdue["id"], current["id"]}
    assert set(ids(f"client_id={anders['id']}")) == {overdue["id"], draft["id"]}
    assert ids(f"issued_from={(today - timedelta(days=1)).isoformat()}") == [current["id"]]
    assert ids(f"issued_to={(today - timedelta(days=1)).isoformat()}") == [overdue["id"]]
    assert ids("q=around") == [current["id"]]
    assert ids(f"q={overdue['number']}") == [overdue["id"]]
    assert ids("sort=issue_date&order=asc&status=issued") == [overdue["id"], current["id"]]
    page = seller.ok("GET", "/invoices?per_page=2&page=2")
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (3, 2, 2, 1)
    # Keyset cursors: next of the first page is the page after it, prev brings the first back.
    first = seller.ok("GET", "/invoices?per_page=2")
    assert first["total_exact"] is True and first["prev"] is None and first["next"]
    after = seller.ok("GET", f"/invoices?per_page=2&cursor={first['next']}")
    assert [item["id"] for item in after["items"]] == [item["id"] for item in page["items"]]
    assert after["next"] is None and after["page"] is None
    back = seller.ok("GET", f"/invoices?per_page=2&cursor={after['prev']}")
    assert [item["id"] for item in back["items"]] == [item["id"] for item in first["items"]]
    assert_error(seller("GET", "/invoices?cursor=not-a-cursor"), 422, "invalid_cursor")
    assert_error(seller("GET", f"/invoices?sort=gross&cursor={first['next']}"), 422, "invalid_cursor")
    assert_error(seller("GET", "/invoices?status=lost"), 400, "invalid_parameter")
    assert_error(seller("GET", "/invoices?per_page=1000"), 400, "invalid_parameter")
    assert_error(seller("GET", "/invoices?issued_from=yesterday"), 400, "invalid_parameter")


def test_the_dashboard_sums_a_known_set(seller):
    today = date.today()
    client = new_client(seller)

    def dated(days_overdue: int) -> dict:
        return issued(
            seller,
            client,
            issue_date=(today - timedelta(days=days_overdue + 30)).isoformat(),
            due_date=(today - timedelta(days=days_overdue)).isoformat(),
        )

    # Issued oldest first: numbers and dates agree (invoicer.invoices.dates).
    dated(100)
    late_45 = dated(45)
    late_20 = dated(20)
    not_due = issued(seller, client)
    seller.ok("POST", f"/invoices/{late_45['id']}/payments", 201, json={"amount": "30.86"})
    seller.ok("POST", f"/invoices/{not_due['id']}/payments", 201, json={"amount": LINES_GROSS})
    seller.ok("POST", f"/invoices/{late_20['id']}/send")
    new_draft(seller, client)

    figures = seller.ok("GET", "/dashboard")
    assert figures["today"] == today.isoformat()
    eur = figures["currencies"]["EUR"]
    gross = Decimal(LINES_GROSS)
    assert eur["outstanding"] == str(3 * gross - Decimal("30.86"))
    assert eur["overdue"] == eur["outstanding"]
    assert eur["paid_last_30_days"] == str(gross + Decimal("30.86"))
    assert eur["ageing"] == {
        "not_due": "0.00",
        "1_30": str(gross),
        "31_60": "300.00",
        "61_90": "0.00",
        "over_90": str(gross),
    }
    assert eur["counts"] == {
        "draft": 1,
        "issued": 0,
        "sent": 0,
        "partially_paid": 0,
        "paid": 1,
        "credited": 0,
        "overdue": 3,
    }
    # The 12 months up to this one, from the service: by month of issue, what was
    # invoiced and what has been paid of it so far.
    months = eur["months"]
    assert len(months) == 12 and months[-1]["month"] == today.strftime("%Y-%m")
    expected: dict[str, list[Decimal]] = {}
    for issued_on, paid in (
        (today, gross),
        (today - timedelta(days=50), Decimal(0)),
        (today - timedelta(days=75), Decimal("30.86")),
        (today - timedelta(days=130), Decimal(0)),
    ):
        entry = expected.setdefault(issued_on.strftime("%Y-%m"), [Decimal(0), Decimal(0)])
        entry[0] += gross
        entry[1] += paid
    assert {m["month"]: [Decimal(m["invoiced"]), Decimal(m["paid"])] for m in months if m["invoiced"] != "0.00"} == (
        expected
    )


def test_orders_become_drafts(seller):
    client = new_client(seller)
    reply = seller("POST", "/orders", json={"client_id": client["id"], "lines": LINES[:1], "notes": "PO 7"})
    assert reply.status_code == 201, reply.text
    order = reply.json()
    assert order["status"] == "open" and reply.headers["Location"].endswith(f"/orders/{order['id']}")
    made = seller.ok("POST", f"/orders/{order['id']}/invoice", 201)
    assert made["order"]["status"] == "invoiced" and made["invoice"]["status"] == "draft"
    assert made["invoice"]["totals"]["gross"] == "257.04"  # 12 x 18.00 + 19 % VAT
    assert seller.ok("GET", f"/orders/{order['id']}")["invoice_id"] == made["invoice"]["id"]
    assert seller.ok("GET", "/orders?status=open")["total"] == 0
    assert_error(seller("POST", f"/orders/{order['id']}/invoice"), 409, "order_invoiced")


def test_import_keeps_the_documents_number(seller, example_bytes, legacy_bytes):
    reply = seller("POST", "/invoices/import", data=example_bytes, headers={"Content-Type": "application/json"})
    assert reply.status_code == 201, reply.text
    imported = reply.json()
    assert (imported["status"], imported["series"], imported["number"]) == ("issued", "imported", "INV-2026-0001")
    assert imported["totals"]["gross"] == "330.86" and imported["buyer"]["name"] == "Maria Anders"
    assert_error(
        seller("POST", "/invoices/import", data=example_bytes, headers={"Content-Type": "application/json"}),
        409,
        "duplicate_number",
    )
    legacy = seller("POST", "/invoices/import", files={"file": ("legacy.json", legacy_bytes, "application/json")})
    assert legacy.status_code == 201, legacy.text
    assert legacy.json()["series"] == "imported"
    bad = assert_error(seller("POST", "/invoices/import", json={"invoice_number": "X"}), 422, "invalid_invoice")
    assert all(detail["pointer"].startswith("/") for detail in bad["details"]) and bad["details"]
    assert_error(
        seller("POST", "/invoices/import", data=b"{", headers={"Content-Type": "application/json"}),
        400,
        "malformed_json",
    )
    assert_error(seller("POST", "/invoices/import", data=b"<x/>", headers={"Content-Type": "text/xml"}), 415)


def test_unknown_routes_and_methods_answer_the_error_body(seller):
    assert_error(seller("GET", "/invoices/not-an-id"), 404)
    assert_error(seller("GET", "/clients/00000000-0000-0000-0000-000000000000"), 404)
    reply = seller("PUT", "/dashboard")
    assert_error(reply, 405)
    assert "GET" in reply.headers["Allow"]
    assert_error(seller("POST", "/clients", data="[1]", headers={"Content-Type": "application/json"}), 400)


def test_concurrent_issues_over_http_take_consecutive_numbers(seller):
    """Drafts of one series issued in parallel through the gateway: every
    number once, none skipped (the counter row is locked in the issuing
    transaction; a SEQUENCE would leave gaps)."""
    client = new_client(seller)
    drafts = [new_draft(seller, client) for _ in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda draft: seller("POST", f"/invoices/{draft['id']}/issue"), drafts))
    assert [reply.status_code for reply in replies] == [200] * len(drafts), [r.text for r in replies]
    numbers = sorted(reply.json()["number"] for reply in replies)
    year = numbers[0].split("-")[1]
    assert numbers == [f"INV-{year}-{n:04d}" for n in range(1, len(drafts) + 1)]
