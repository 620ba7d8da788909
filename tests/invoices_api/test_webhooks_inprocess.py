"""The webhook endpoints API of the invoices app, in this process on a
throw-away database: registration, owners only, secrets answered once,
rotation, and addresses refused at registration (issue 20)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from invoicer.common.webhooks import SECRET_PREFIX
from invoicer.invoices.app import create_app

from .conftest import token_for

HOOK = {"url": "https://hooks.example.com/invoicer", "events": ["invoice.paid", "job.done"], "description": "ERP"}


def _error(reply, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.get_json()
    error = reply.get_json()["error"]
    assert error["code"] == code, error
    return error


def test_an_owner_registers_an_endpoint_and_sees_its_secret_once(records_api):
    api = records_api()
    reply = api("POST", "/webhooks", json=HOOK)
    assert reply.status_code == 201, reply.get_json()
    created = reply.get_json()
    assert created["secret"].startswith(SECRET_PREFIX) and len(created["secret"]) > 40
    assert created["url"] == HOOK["url"] and created["events"] == ["invoice.paid", "job.done"]
    assert created["enabled"] is True and reply.headers["Location"].endswith(f"/webhooks/{created['id']}")

    listed = api("GET", "/webhooks").get_json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0] and created["secret"] not in str(listed)

    changed = api("PATCH", f"/webhooks/{created['id']}", json={"events": ["credit_note.issued"], "enabled": False})
    assert changed.status_code == 200 and changed.get_json()["events"] == ["credit_note.issued"]
    assert changed.get_json()["enabled"] is False and "secret" not in changed.get_json()

    rotated = api("POST", f"/webhooks/{created['id']}/rotate-secret").get_json()
    assert rotated["secret"].startswith(SECRET_PREFIX) and rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"] is not None

    assert api("GET", f"/webhooks/{created['id']}/deliveries").get_json()["items"] == []
    assert api("DELETE", f"/webhooks/{created['id']}").status_code == 204
    _error(api("DELETE", f"/webhooks/{created['id']}"), 404, "webhook_not_found")
    assert api("GET", "/webhooks").get_json()["items"] == []


def test_private_loopback_and_metadata_addresses_are_refused_at_registration(records_api):
    api = records_api()
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
        "http://[::1]/hook",
        "http://[::]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://100.100.100.200/",
    ):
        error = _error(api("POST", "/webhooks", json={**HOOK, "url": url}), 422, "webhook_address_refused")
        assert error["details"][0]["pointer"] == "/url", error
    for url, code in (
        ("ftp://hooks.example.com/", "invalid_url"),
        ("https://user:pw@hooks.example.com/", "invalid_url"),
        ("https:///nohost", "invalid_url"),
    ):
        _error(api("POST", "/webhooks", json={**HOOK, "url": url}), 422, code)
    error = _error(api("POST", "/webhooks", json={**HOOK, "events": ["invoice.deleted"]}), 422, "invalid_events")
    assert error["details"][0]["pointer"] == "/events/0"
    _error(api("POST", "/webhooks", json={**HOOK, "events": []}), 422, "invalid_events")
    _error(api("POST", "/webhooks", json={**HOOK, "secret": "mine"}), 422, "unknown_field")
    created = api("POST", "/webhooks", json=HOOK).get_json()
    _error(api("PATCH", f"/webhooks/{created['id']}", json={"url": "http://10.0.0.1/"}), 422, "webhook_address_refused")
    assert api("GET", "/webhooks").get_json()["items"][0]["url"] == HOOK["url"]


def test_allowed_networks_let_a_chosen_network_through(offline_settings, records_database):
    settings = replace(
        offline_settings, database_url=records_database, webhook_allowed_networks="127.0.0.0/8, 10.20.0.0/16"
    )
    http = create_app(settings).test_client()
    headers = {"Authorization": f"Bearer {token_for(settings)}"}
    for url in ("http://127.0.0.1:9/hook", "http://10.20.3.4/hook"):
        assert http.post("/webhooks", json={**HOOK, "url": url}, headers=headers).status_code == 201
    reply = http.post("/webhooks", json={**HOOK, "url": "http://10.21.0.1/"}, headers=headers)
    _error(reply, 422, "webhook_address_refused")


def test_only_owners_manage_webhooks_and_other_organisations_see_none(records_api):
    owner = records_api()
    created = owner("POST", "/webhooks", json=HOOK).get_json()
    email = f"acc-{uuid.uuid4().hex[:8]}@example.com"
    accountant = records_api.join(owner, email, "accountant")  # invited, verified, accepted
    _error(accountant("GET", "/webhooks"), 403, "owner_only")
    _error(accountant("POST", "/webhooks", json=HOOK), 403, "owner_only")
    _error(accountant("POST", f"/webhooks/{created['id']}/rotate-secret"), 403, "owner_only")
    _error(accountant("DELETE", f"/webhooks/{created['id']}"), 403, "owner_only")

    stranger = records_api()
    assert stranger("GET", "/webhooks").get_json()["items"] == []
    for method, path in (
        ("PATCH", f"/webhooks/{created['id']}"),
        ("DELETE", f"/webhooks/{created['id']}"),
        ("POST", f"/webhooks/{created['id']}/rotate-secret"),
        ("GET", f"/webhooks/{created['id']}/deliveries"),
        ("POST", f"/webhooks/{created['id']}/deliveries/{uuid.uuid4()}/retry"),
        ("GET", "/webhooks/not-a-uuid/deliveries"),
    ):
        _error(stranger(method, path, json={}), 404, "webhook_not_found")
    _error(owner("POST", f"/webhooks/{created['id']}/deliveries/{uuid.uuid4()}/retry"), 404, "delivery_not_found")
