"""The gateway's forwarding of the billing routes, in this process (no stack)."""

from __future__ import annotations

from devstack import free_port

from invoicer.gateway.app import create_app

from .conftest import token_for


def test_billing_routes_need_a_token_before_anything_is_forwarded(app_client):
    http = app_client(create_app)
    for path in ("/invoices", "/clients/x", "/organisation", "/orders", "/dashboard"):
        reply = http.get(path)
        assert reply.status_code == 401, path
        assert reply.get_json()["error"]["code"] == "unauthorized"


def test_invoices_service_down_is_503_json_with_retry_after(app_client, offline_settings):
    http = app_client(create_app, invoices_url=f"http://127.0.0.1:{free_port()}")
    reply = http.post("/invoices", json={}, headers={"Authorization": f"Bearer {token_for(offline_settings)}"})
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "5"
    error = reply.get_json()["error"]
    assert error["code"] == "unavailable" and "invoices service" in error["message"]


def test_an_encoded_question_mark_or_hash_in_a_path_segment_stays_in_the_path(
    app_client, offline_settings, monkeypatch
):
    """Found by schemathesis: ``/invoices/a%3F%C3%BE/send`` reached the service as
    ``/invoices/a`` with a query, and got 405 instead of 404."""
    from invoicer.gateway import forward

    seen: dict[str, str] = {}

    class _Reply:
        status_code = 404

        def __init__(self) -> None:
            self.headers = {"Content-Type": "application/json"}

        def iter_content(self, size):
            yield b'{"error": {"code": "not_found", "message": "no such invoice", "details": []}}'

        def close(self):
            pass

    def fake_request(method, url, **kwargs):
        seen["url"] = url
        return _Reply()

    monkeypatch.setattr(forward.requests, "request", fake_request)
    http = app_client(create_app)
    headers = {"Authorization": f"Bearer {token_for(offline_settings)}"}
    for path in ("/invoices/a%3F%C3%BE/send", "/orders/x%23y/invoice"):
        reply = http.post(path, headers=headers)
        assert reply.status_code == 404, path
        assert seen["url"].endswith(path), seen["url"]
