"""The invoices app in this process: identity, errors and HTTP conventions
(no stack; the database is a throw-away one, or none at all)."""

from __future__ import annotations

from invoicer.invoices.app import create_app

from .conftest import BUYER, LINES, SELLER, token_for


def _error(reply) -> dict:
    body = reply.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def test_every_route_needs_a_valid_token(app_client):
    http = app_client(create_app)
    for method, path in (("GET", "/invoices"), ("POST", "/clients"), ("GET", "/dashboard")):
        reply = http.open(path, method=method)
        assert reply.status_code == 401 and _error(reply)["code"] == "unauthorized"
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    reply = http.get("/invoices", headers={"Authorization": "Bearer not.a.token"})
    assert reply.status_code == 401 and _error(reply)["code"] == "invalid_token"


def test_a_token_signed_with_another_key_is_refused(app_client, offline_settings):
    from dataclasses import replace

    http = app_client(create_app)
    forged = token_for(replace(offline_settings, jwt_secret="another-key-" + "y" * 40))
    reply = http.get("/organisation", headers={"Authorization": f"Bearer {forged}"})
    assert reply.status_code == 401 and _error(reply)["code"] == "invalid_token"


def test_database_down_is_503_with_retry_after(app_client, offline_settings):
    http = app_client(create_app)
    reply = http.get("/clients", headers={"Authorization": f"Bearer {token_for(offline_settings)}"})
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "5"
    assert _error(reply)["code"] == "unavailable"
    assert http.get("/healthz").status_code == 200
    assert http.get("/readyz").status_code == 503


def _client_and_draft(api) -> tuple[dict, dict]:
    assert api("PATCH", "/organisation", json=SELLER).status_code == 200
    client = api("POST", "/clients", json=BUYER).get_json()
    reply = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES})
    assert reply.status_code == 201, reply.get_json()
    return client, reply.get_json()


def test_draft_edits_need_the_current_etag(records_api):
    api = records_api()
    _, draft = _client_and_draft(api)
    path = f"/invoices/{draft['id']}"
    got = api("GET", path)
    etag = got.headers["ETag"]
    assert etag == f'"v{draft["version"]}"'

    missing = api("PATCH", path, json={"notes": "Thanks"})
    assert missing.status_code == 428 and "If-Match" in _error(missing)["message"]
    changed = api("PATCH", path, json={"notes": "Thanks"}, headers={"If-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["notes"] == "Thanks"
    assert changed.headers["ETag"] != etag
    stale = api("PATCH", path, json={"notes": "Again"}, headers={"If-Match": etag})
    assert stale.status_code == 412 and _error(stale)["code"] == "stale_version"
    assert api("GET", path).get_json()["notes"] == "Thanks"


def test_if_match_is_compared_strongly_against_every_tag_of_its_list(records_api):
    """RFC 9110 section 13.1.1 (issue 22): any tag of the list may match; a weak tag never does."""
    api = records_api()
    _, draft = _client_and_draft(api)
    path = f"/invoices/{draft['id']}"
    version = draft["version"]
    weak = api("PATCH", path, json={"notes": "weak"}, headers={"If-Match": f'W/"v{version}"'})
    assert weak.status_code == 412, "a weak tag never matches If-Match"
    listed = api("PATCH", path, json={"notes": "listed"}, headers={"If-Match": f'"v999", "xyz", "v{version}"'})
    assert listed.status_code == 200 and listed.get_json()["notes"] == "listed"
    none_ours = api("PATCH", path, json={"notes": "no"}, headers={"If-Match": '"abc", W/"v1"'})
    assert none_ours.status_code == 412
    assert api("PATCH", path, json={"notes": "any"}, headers={"If-Match": "*"}).status_code == 200
    client = api("POST", "/clients", json=BUYER).get_json()
    both = f'"v{client["version"] + 5}", "v{client["version"]}"'
    assert api("PATCH", f"/clients/{client['id']}", json={"phone": "+1"}, headers={"If-Match": both}).status_code == 200


def test_created_records_link_to_public_url_and_replay_with_idempotency_key(records_api):
    api = records_api()
    headers = {"Idempotency-Key": "client-1"}
    first = api("POST", "/clients", json=BUYER, headers=headers)
    again = api("POST", "/clients", json=BUYER, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.headers["Location"] == f"https://billing.example/clients/{first.get_json()['id']}"
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api("GET", "/clients").get_json()["total"] == 1
    other = api("POST", "/clients", json={**BUYER, "name": "Someone else"}, headers=headers)
    assert other.status_code == 409 and _error(other)["code"] == "idempotency_key_reused"


def test_domain_errors_point_into_the_body(records_api):
    api = records_api()
    reply = api("POST", "/clients", json={"name": "X", "email": "not an address", "surname": "Y"})
    assert reply.status_code == 422
    error = _error(reply)
    assert error["code"] == "unknown_field" and error["details"][0]["pointer"] == "/surname"
    reply = api("POST", "/invoices", json={"client_id": None, "lines": LINES})
    assert reply.status_code == 422 and _error(reply)["details"][0]["pointer"] == "/client_id"
    bad = api("POST", "/clients", data="{nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and _error(bad)["code"] == "malformed_json"
    assert _error(bad)["details"][0]["line"] == 1
    listing = api("GET", "/invoices?status=lost")
    assert listing.status_code == 400 and _error(listing)["details"][0]["parameter"] == "status"


def test_what_postgresql_cannot_store_is_422_not_500(records_api):
    api = records_api()
    reply = api("POST", "/clients", json={**BUYER, "address": "Obere Str.\u0000 57"})
    assert reply.status_code == 422 and _error(reply)["details"][0]["pointer"] == "/address"
    assert api("GET", "/invoices?q=a%00b").status_code == 400
    reply = api("PATCH", "/organisation", json={"currency": None})
    assert reply.status_code == 422, reply.get_json()
    assert api("GET", "/organisation").get_json()["currency"] == "EUR"


def test_an_invoice_says_what_its_caller_may_do(records_api):
    owner = records_api()
    _, draft = _client_and_draft(owner)
    assert draft["actions"] == ["edit", "delete", "issue"]
    assert owner("GET", f"/invoices/{draft['id']}").get_json()["actions"] == ["edit", "delete", "issue"]

    viewer = records_api.join(owner, f"viewer-{draft['id'][:8]}@example.com", "viewer")
    seen = viewer("GET", f"/invoices/{draft['id']}").get_json()
    assert seen["id"] == draft["id"] and seen["actions"] == []
    assert viewer("DELETE", f"/invoices/{draft['id']}").status_code == 403, "not offered, and refused"


def test_documents_are_served_in_every_kept_format_of_the_registry(records_api):
    from invoicer.invoice import formats
    from invoicer.invoice.formats import OutputFormat

    api = records_api()
    _, draft = _client_and_draft(api)
    path = f"/invoices/{draft['id']}"
    assert api("GET", f"{path}/pdf").data.startswith(b"%PDF")
    assert _error(api("GET", f"{path}/docx")).get("code") in ("not_found", "unknown_format")
    assert api("GET", f"{path}/issue").status_code == 405, "an action's path is not taken for a format"

    def render_txt(invoice, options) -> bytes:
        return f"{options.inputs['pdf'][:5].decode()} {invoice.totals.gross}".encode()

    formats.register(OutputFormat("pdftxt", "text/plain", "txt", render_txt, kept=True, needs=("pdf",)))
    try:
        reply = api("GET", f"{path}/pdftxt")
        assert reply.status_code == 200 and reply.data == b"%PDF- 330.86", reply.data
        assert reply.headers["Content-Type"].startswith("text/plain")
    finally:
        formats.unregister("pdftxt")
    assert api("GET", f"{path}/pdftxt").status_code == 404


def test_bodies_are_parsed_by_their_models_with_the_codes_clients_know(records_api):
    api = records_api()
    client, draft = _client_and_draft(api)
    cases = [
        ("POST", f"/invoices/{draft['id']}/issue", {"issue_date": "2026-11-02", "date": "x"}, "unknown_field", "/date"),
        ("POST", f"/invoices/{draft['id']}/issue", {"issue_date": "2026-02-30"}, "invalid_date", "/issue_date"),
        ("POST", "/clients", {**BUYER, "payment_terms_days": "30"}, "invalid_terms", "/payment_terms_days"),
        ("POST", "/clients", {**BUYER, "currency": "eur"}, "invalid_party", "/currency"),
        ("POST", "/clients", {"company": "No name"}, "invalid_party", "/name"),
        ("POST", "/organisation/members", {"email": "a@example.com", "role": "boss"}, "invalid_role", "/role"),
        (
            "POST",
            "/invoices",
            {"client_id": client["id"], "lines": [{**LINES[0], "quantity": "-1"}]},
            "invalid_invoice",
            "/lines/0/quantity",
        ),
        ("POST", "/invoices", {"lines": LINES}, "required", "/client_id"),
        ("POST", "/orders", {"client_id": client["id"], "lines": LINES, "note": "x"}, "unknown_field", "/note"),
    ]
    for method, path, body, code, pointer in cases:
        reply = api(method, path, json=body)
        assert reply.status_code == 422, (path, body, reply.get_json())
        error = _error(reply)
        assert (error["code"], error["details"][0]["pointer"]) == (code, pointer), (body, error)
    nul = api("POST", "/clients", json={**BUYER, "company": "A\u0000B"})
    assert nul.status_code == 422 and _error(nul)["code"] == "invalid_text"
    assert api("POST", "/clients", data="name=x", headers={"Content-Type": "text/plain"}).status_code == 415


def test_a_missing_if_match_is_428_before_the_role_or_the_state_is_looked_at(records_api):
    api = records_api()
    _, draft = _client_and_draft(api)
    reply = api("PATCH", f"/invoices/{draft['id']}", json={"unknown": 1})
    assert reply.status_code == 428 and _error(reply)["code"] == "precondition_required"
    reply = api("PATCH", "/invoices/00000000-0000-0000-0000-000000000000", json={"notes": "x"})
    assert reply.status_code == 428
