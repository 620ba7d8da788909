"""The web app in process (no stack): what a visitor and an operator notice
without any dependency running: redirects, sign-in form, CSRF refusal,
error pages as pages while the JSON API keeps answering JSON, headers and
cookies, and the server-side totals and charts."""

from __future__ import annotations

import re
from decimal import Decimal

import flask
import pytest
from flask import Response

from invoicer.common.tokens import issue_token
from invoicer.gateway.app import create_app
from invoicer.gateway.web import charts, labels, pages, session

from ..conftest import TEST_JWT_SECRET


def _token(lifetime: int = 600) -> str:
    return issue_token(
        secret=TEST_JWT_SECRET,
        issuer="invoicer-auth",
        audience="invoicer",
        ttl_seconds=lifetime,
        sub="00000000-0000-4000-8000-000000000001",
        email="ada@example.com",
        roles=["user"],
    )


def _csrf(client) -> str:
    html = client.get("/app/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_root_redirects_to_the_app_and_the_app_to_sign_in(app_client):
    client = app_client(create_app)
    assert client.get("/").headers["Location"].endswith("/app/")
    reply = client.get("/app/upload")
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith("/app/login?next=/app/upload")


def test_pages_have_their_own_policy_and_the_api_keeps_its_own(app_client):
    client = app_client(create_app)
    page = client.get("/app/login")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["Cache-Control"] == "no-store"
    api = client.get("/jobs")
    assert api.status_code == 401
    assert api.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert api.get_json()["error"]["code"] == "unauthorized"


def test_error_pages_are_pages_under_app_only(app_client):
    client = app_client(create_app)
    page = client.get("/app/no/such/page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Page not found" in page.get_data(as_text=True)
    api = client.get("/no/such/route")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_a_form_without_its_csrf_token_is_refused(app_client):
    client = app_client(create_app)
    reply = client.post("/app/login", data={"email": "ada@example.com", "password": "x" * 12})
    assert reply.status_code == 400 and reply.mimetype == "text/html"
    assert "did not come from this site" in reply.get_data(as_text=True)


def test_sign_in_with_the_auth_service_down_is_a_503_page(app_client):
    client = app_client(create_app)
    reply = client.post(
        "/app/login", data={"email": "ada@example.com", "password": "x" * 12, "csrf_token": _csrf(client)}
    )
    assert reply.status_code == 503 and reply.mimetype == "text/html"
    assert "Traceback" not in reply.get_data(as_text=True)


@pytest.mark.parametrize(("public_url", "secure"), [("http://127.0.0.1:8080", False), ("https://bill.example", True)])
def test_session_cookie_flags(app_client, public_url, secure):
    client = app_client(create_app, public_url=public_url)
    with client.application.test_request_context("/app/login"):
        response = session.start_session(Response(), _token())
        cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{session.COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/app/" in cookie
    assert ("Secure" in cookie) is secure


def test_sign_out_deletes_the_session(app_client):
    client = app_client(create_app)
    token = _csrf(client)
    client.set_cookie(session.COOKIE, _token(), path="/app/")
    reply = client.post("/app/logout", data={"csrf_token": token})
    assert reply.status_code == 302
    cookies = reply.headers.getlist("Set-Cookie")
    assert any(c.startswith(f"{session.COOKIE}=;") and "Max-Age=0" in c for c in cookies)


def test_next_never_leaves_the_app():
    assert session.safe_next("/app/invoices?page=2", "/app/") == "/app/invoices?page=2"
    for hostile in ("https://evil.example/app/", "//evil.example/app/", "/login", "/app\\..\\x", None, ""):
        assert session.safe_next(hostile, "/app/") == "/app/"


def test_editor_totals_come_from_the_en16931_model():
    lines = pages.editor_lines(
        [
            {"quantity": "2", "unit_price": "100.005", "tax_rate": "19"},  # 200.01 at 19%
            {"quantity": "1", "unit_price": "50", "tax_rate": "7"},
            {"quantity": "x", "unit_price": "1", "tax_rate": "7"},
        ]
    )
    totals = pages.preview_totals(lines[:2], "eur")
    assert totals["currency"] == "EUR"
    labels = [label for label, _ in totals["rows"]]
    assert any("19%" in label for label in labels) and any("7%" in label for label in labels)
    # 200.01 + 50.00 net; VAT 38.00 (19% of 200.01, rounded once per rate) + 3.50
    assert totals["total"][1].replace("\u00a0", " ").endswith("291.51")
    assert totals["complete"] and totals["problems"] == [] and totals["invalid"] == []
    # A line that cannot be counted is never left out silently: its field is
    # named, and the total waits for it (the rows show what is counted).
    totals = pages.preview_totals(lines, "eur")
    assert totals["problems"] == ["Line 3: quantity must be a number"]
    assert totals["invalid"] == ["lines-2-quantity"]
    assert not totals["complete"] and totals["total"][1] == "—"
    assert totals["rows"][0][1].replace("\u00a0", " ").endswith("250.01")


@pytest.mark.parametrize(
    ("row", "problems"),
    [
        ({"quantity": "", "unit_price": "1", "tax_rate": "7"}, ["Line 1: quantity is missing"]),
        ({"quantity": "0", "unit_price": "1", "tax_rate": "7"}, ["Line 1: quantity must be more than 0"]),
        ({"quantity": "1", "unit_price": "-1", "tax_rate": "7"}, ["Line 1: unit price must be 0 or more"]),
        ({"quantity": "1", "unit_price": "1,50", "tax_rate": "7"}, ["Line 1: unit price must be a number"]),
        ({"quantity": "1", "unit_price": "1", "tax_rate": "120"}, ["Line 1: VAT % must be at most 100"]),
        ({"quantity": "1", "unit_price": "1"}, ["Line 1: VAT % is missing"]),
        (
            {"quantity": "NaN", "unit_price": "x", "tax_rate": "7"},
            ["Line 1: quantity must be a number", "Line 1: unit price must be a number"],
        ),
    ],
)
def test_each_bad_editor_value_is_named_in_words(row, problems):
    totals = pages.preview_totals(pages.editor_lines([{**row, "_index": "4"}]), "EUR")
    assert totals["problems"] == problems
    assert len(totals["invalid"]) == len(problems) and all(i.startswith("lines-4-") for i in totals["invalid"])
    assert totals["total"][1] == "—"


def test_the_editor_discount_is_an_allowance_in_the_totals():
    lines = pages.editor_lines([{"quantity": "2", "unit_price": "100", "tax_rate": "19"}])
    totals = pages.preview_totals(lines, "EUR", {"amount": "20", "reason": "Loyalty", "tax_rate": ""})
    labels = [label for label, _ in totals["rows"]]
    assert "Allowance: Loyalty" in labels
    # 200 - 20 = 180 net, 19% VAT (the first line's rate) = 34.20
    assert totals["total"][1].replace("\u00a0", " ").endswith("214.20")
    bad = pages.preview_totals(lines, "EUR", {"amount": "ten", "reason": "", "tax_rate": ""})
    assert bad["problems"] == ["Discount must be a number"] and bad["invalid"] == ["discount_amount"]
    assert bad["total"][1] == "—"


def test_ageing_chart_scales_bars_to_the_largest_bucket():
    chart = charts.ageing_chart({"not_due": "100.00", "1_30": "50.00", "over_90": "0"}, "EUR")
    heights = {bar.label: bar.height for bar in chart.bars}
    assert heights["Not yet due"] == pytest.approx(2 * heights["1-30 days"])
    assert heights["Over 90 days"] == 0
    assert chart.rows[0] == ["Not yet due", "100.00"]
    assert charts.ageing_chart({}, "EUR").empty


def test_months_chart_has_two_bars_a_month():
    months = [{"month": f"2026-{m:02d}", "invoiced": Decimal(m), "paid": Decimal(m) / 2} for m in range(1, 13)]
    chart = charts.months_chart(months, "USD")
    assert len(chart.bars) == 24 and chart.labels[0][1] == "Jan"
    assert max(bar.height for bar in chart.bars) == pytest.approx(charts.PLOT)


def test_address_inputs_post_the_structured_address(app_client):
    app = app_client(create_app).application
    form = {"address_line1": " Obere Str. 57 ", "address_postal_code": "12209", "address_city": "Berlin"}
    with app.test_request_context("/app/clients/new", method="POST", data={**form, "address_country_code": "de"}):
        assert pages.form_address() == {
            "line1": "Obere Str. 57",
            "postal_code": "12209",
            "city": "Berlin",
            "country_code": "DE",
        }
    with app.test_request_context("/app/clients/new", method="POST", data={"address_line1": "  "}):
        assert pages.form_address() is None  # clears the address


def test_client_form_shows_each_address_field_with_its_label_and_error(app_client):
    app = app_client(create_app).application
    client = {"name": "Maria", "address": {"line1": "Obere Str. 57", "line2": "Hinterhaus\nHof 2", "city": "Berlin"}}
    errors = {"/address/country_code": '"XX" is not an ISO 3166-1 alpha-2 country code'}
    with app.test_request_context("/app/clients/new"):
        html = flask.render_template("clients/client_form.html", client=client, errors=errors, client_id=None)
    for field, label, _ in pages.ADDRESS_INPUTS:
        assert f'<label for="address_{field}">{label}</label>' in html
        assert f'name="address_{field}"' in html
    assert 'value="Obere Str. 57"' in html and 'value="Berlin"' in html
    assert ">Hinterhaus\nHof 2</textarea>" in html  # line2 keeps the lines of a converted free-text address
    assert 'id="address_country_code-error"' in html and "is not an ISO 3166-1" in html


class _Records:
    """The invoices service as the invoice page reads it: one invoice."""

    def __init__(self, invoice: dict) -> None:
        self.invoice = invoice

    def get(self, path: str, **params):
        return {"items": [], "total": 0} if path.endswith("/events") else self.invoice


def _invoice(status: str, actions: list[str], **fields) -> dict:
    totals = {"net": "100.00", "tax": "19.00", "gross": "119.00", "paid": "0.00", "credited": "0.00"}
    return {
        "id": "00000000-0000-4000-8000-0000000000aa",
        "kind": "invoice",
        "status": status,
        "overdue": False,
        "number": None if status == "draft" else "INV-2026-0007",
        "client_id": None,
        "buyer": {"name": "Ada <b>Lovelace</b>"},
        "currency": "EUR",
        "lines": [],
        "totals": {**totals, "balance_due": "119.00"},
        "payments": [],
        "credit_notes": [],
        "actions": actions,
        "sent_at": None,
        **fields,
    }


@pytest.mark.parametrize(
    ("invoice", "offered", "absent"),
    [
        (
            _invoice("draft", ["edit", "delete", "issue"]),
            ["Edit", "Issue", "Delete draft"],
            [">Send", "Record payment"],
        ),
        (_invoice("draft", []), [], [">Edit<", ">Issue<", "Delete draft", "add some"]),  # a viewer's draft
        (
            _invoice("sent", ["send", "record_payment", "credit"], sent_at="2026-03-01T10:00:00.000Z"),
            ["Send again", "Record payment", "Issue a credit note"],
            [">Edit<", "Delete draft", ">Issue<"],
        ),
        (_invoice("sent", []), [], [">Send", "Record payment", "credit note for the whole"]),  # a viewer
        (_invoice("paid", ["send", "credit"]), ["Send to client", "Issue a credit note"], ["Record payment"]),
    ],
)
def test_the_invoice_page_offers_what_the_api_allows_and_nothing_else(
    app_client, monkeypatch, invoice, offered, absent
):
    monkeypatch.setattr(pages, "records", lambda: _Records(invoice))
    client = app_client(create_app)
    client.set_cookie(session.COOKIE, _token(), path="/app/")
    reply = client.get(f"/app/invoices/{invoice['id']}")
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    for text in offered:
        assert text in html, text
    for text in absent:
        assert text not in html, text
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in html, "user text is data, never markup"
    assert 'href="/app/invoices/00000000-0000-4000-8000-0000000000aa/pdf?download=1"' in html
    assert "Download PDF" in html and "Download XLSX" in html, "one download per kept format"


class _Refusing:
    """The invoices service refusing every change with ``error``."""

    def __init__(self, error) -> None:
        self.error = error

    def post(self, path: str, body=None):
        raise self.error

    delete = post


@pytest.mark.parametrize(
    ("path", "back", "message"),
    [
        ("/app/invoices/{id}/payments", "/app/invoices/{id}", "Payment not recorded: too much"),
        ("/app/invoices/{id}/issue", "/app/invoices/{id}", "too much"),
        ("/app/invoices/{id}/delete", "/app/invoices/{id}", "too much"),
        ("/app/orders/{id}/invoice", "/app/orders", "too much"),
        ("/app/organisation/members", "/app/organisation", "Not invited: too much"),
    ],
)
def test_a_refused_change_is_flashed_on_the_page_it_came_from(app_client, monkeypatch, path, back, message):
    from invoicer.gateway.web.records import RecordsError

    ident = "00000000-0000-4000-8000-0000000000aa"
    monkeypatch.setattr(pages, "records", lambda: _Refusing(RecordsError(422, "invalid", "too much")))
    client = app_client(create_app)
    token = _csrf(client)
    client.set_cookie(session.COOKIE, _token(), path="/app/")
    reply = client.post(path.format(id=ident), data={"csrf_token": token, "amount": "9"})
    assert reply.status_code == 302 and reply.headers["Location"] == back.format(id=ident)
    with client.session_transaction("/app/") as flashed:
        assert flashed["_flashes"] == [("error", message)]

    monkeypatch.setattr(pages, "records", lambda: _Refusing(RecordsError(403, "read_only_role", "viewer")))
    reply = client.post(path.format(id=ident), data={"csrf_token": token, "amount": "9"})
    assert reply.status_code == 403 and "text/html" in reply.content_type, "not a refusal to flash: the error page"


class _DraftRecords(_Records):
    """One draft; a PATCH is sent as ``requests`` sends it: header values
    encoded as ISO-8859-1 (http.client), which refuses any other character."""

    def __init__(self, invoice: dict) -> None:
        super().__init__(invoice)
        self.patched: list[dict] = []

    def get(self, path: str, **params):
        return {"items": [], "total": 0} if path == "/clients" else super().get(path, **params)

    def request(self, method: str, path: str, *, json=None, headers=None, **kwargs):
        for value in (headers or {}).values():
            value.encode("latin-1")
        self.patched.append(headers or {})
        return self.invoice


@pytest.mark.parametrize("version", ["v\u20ac", "\u0661", "3 ", "1,2"])
def test_a_draft_form_whose_version_is_not_a_number_is_a_400_not_a_500(app_client, monkeypatch, version):
    """Issue 22: a non-Latin-1 ``version`` in the editor's form made ``If-Match`` unencodable (500)."""
    draft = _invoice("draft", ["edit", "delete", "issue"], version=3)
    records = _DraftRecords(draft)
    monkeypatch.setattr(pages, "records", lambda: records)
    client = app_client(create_app)
    token = _csrf(client)
    client.set_cookie(session.COOKIE, _token(), path="/app/")
    reply = client.post(f"/app/invoices/{draft['id']}/edit", data={"csrf_token": token, "version": version})
    assert reply.status_code == 400, reply.status_code
    assert "version" in reply.get_data(as_text=True)
    assert records.patched == [], "nothing was sent to the invoices service"
    reply = client.post(f"/app/invoices/{draft['id']}/edit", data={"csrf_token": token, "version": "3"})
    assert reply.status_code == 302 and records.patched == [{"If-Match": '"v3"'}]


def test_every_form_carries_an_idempotency_key_and_a_double_submit_sends_it_twice(app_client, monkeypatch):
    """Issue 22 item 2: a double submit or a retried form never makes a second
    payment: both POSTs to the invoices service carry the form's key."""
    import requests as real_requests

    from invoicer.gateway.web import records as records_module

    invoice = _invoice("sent", ["send", "record_payment", "credit"])
    monkeypatch.setattr(pages, "records", lambda: _Records(invoice))
    client = app_client(create_app)
    client.set_cookie(session.COOKIE, _token(), path="/app/")
    html = client.get(f"/app/invoices/{invoice['id']}").get_data(as_text=True)
    forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", html, flags=re.S | re.I)
    assert forms and all('name="idempotency_key"' in form for form in forms), "every form posts a key"
    keys = re.findall(r'name="idempotency_key" value="([^"]+)"', html)
    assert len(set(keys)) == len(keys), "each form has its own key"
    payment_form = next(form for form in forms if "/payments" in form)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', payment_form).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', payment_form).group(1)

    sent: list[dict] = []

    def fake_request(method, url, **kwargs):  # the HTTP call only: Records itself runs for real
        sent.append({"method": method, "url": url, **kwargs.get("headers", {})})
        reply = real_requests.Response()
        reply.status_code, reply._content = 201, b'{"payment": {}, "invoice": {}}'
        reply.headers["Content-Type"] = "application/json"
        return reply

    monkeypatch.setattr(pages, "records", records_module.records)
    monkeypatch.setattr(records_module.requests, "request", fake_request)
    for _ in range(2):  # a double click
        reply = client.post(
            f"/app/invoices/{invoice['id']}/payments",
            data={"csrf_token": csrf, "idempotency_key": key, "amount": "10.00"},
        )
        assert reply.status_code == 302
    assert [entry["method"] for entry in sent] == ["POST", "POST"]
    assert sent[0]["Idempotency-Key"] == sent[1]["Idempotency-Key"] and key in sent[0]["Idempotency-Key"]


def test_the_invoice_page_shows_a_refund_due_and_offers_to_record_the_refund(app_client, monkeypatch):
    """Issue 22 item 6: paid, then credited: the page says what is owed back and takes the refund."""
    invoice = _invoice("paid", ["send", "refund"])
    invoice["totals"] = {**invoice["totals"], "paid": "119.00", "credited": "42.84", "balance_due": "0.00"}
    invoice["totals"].update(refunded="0.00", refund_due="42.84")
    invoice["refunds"] = []
    monkeypatch.setattr(pages, "records", lambda: _Records(invoice))
    client = app_client(create_app)
    client.set_cookie(session.COOKIE, _token(), path="/app/")
    html = client.get(f"/app/invoices/{invoice['id']}").get_data(as_text=True)
    assert re.search(r"<dt>Refund due</dt><dd[^>]*>42.84 EUR</dd>", html), "the refund due is shown"
    assert f'action="/app/invoices/{invoice["id"]}/refunds"' in html and "Record refund" in html

    posted: list = []

    class _Refunds(_Records):
        def post(self, path, body=None):
            posted.append((path, body))
            return {}

    monkeypatch.setattr(pages, "records", lambda: _Refunds(invoice))
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    reply = client.post(
        f"/app/invoices/{invoice['id']}/refunds", data={"csrf_token": token, "amount": "42.84", "method": "bank"}
    )
    assert reply.status_code == 302
    assert posted == [(f"/invoices/{invoice['id']}/refunds", {"amount": "42.84", "method": "bank"})]


def test_every_page_names_its_icon_and_favicon_ico_leads_there(app_client):
    client = app_client(create_app)
    html = client.get("/app/login").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', html).group(1)
    svg = client.get(icon)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    # Browsers ask /favicon.ico for what has no <link rel=icon> (a PDF opened alone).
    reply = client.get("/favicon.ico")
    assert reply.status_code == 302 and reply.headers["Location"].endswith(icon)


@pytest.mark.parametrize(
    ("event", "sentence"),
    [
        (
            {"type": "invoice.issued", "data": {"number": "INV-2026-0001"}, "actor": {"email": "ana@example.com"}},
            "Issued as INV-2026-0001 by ana@example.com",
        ),
        (
            {"type": "invoice.issued", "data": {"number": "X-7", "imported": True}, "actor": {"email": "a@b.eu"}},
            "Imported as X-7 by a@b.eu",
        ),
        (
            {"type": "payment.recorded", "data": {"amount": "10.00", "currency": "EUR"}, "actor": {}},
            "Payment of 10.00 EUR recorded",
        ),
        ({"type": "client.archived", "data": {}, "actor": None}, "Client archived"),
        ({"type": "credit_note.issued", "data": {"number": "CN-1"}, "actor": None}, "Credit note issued"),
    ],
)
def test_the_activity_log_is_in_words(event, sentence):
    assert labels.event_sentence(event) == sentence


@pytest.mark.parametrize(
    ("pointer", "message", "sentence"),
    [
        ("/lines/0/quantity", "must be a number", "Line 1: quantity must be a number"),
        ("/lines/0/quantity", "lines/0/quantity must be a number", "Line 1: quantity must be a number"),
        ("/lines/11/unit_price", "must be 0 or more", "Line 12: unit price must be 0 or more"),
        ("/seller/vat_id", "fails its check digits", "Seller vat id fails its check digits"),
        ("/currency", "is not an ISO 4217 code", "Currency is not an ISO 4217 code"),
        ("", "is not valid JSON", "is not valid JSON"),
    ],
)
def test_upload_problems_are_in_words(pointer, message, sentence):
    assert labels.pointer_sentence(pointer, message) == sentence
