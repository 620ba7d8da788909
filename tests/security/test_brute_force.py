"""Repeated failed logins, per account and per client address, get 429
with Retry-After (LOGIN_MAX_FAILURES=5, LOGIN_MAX_FAILURES_PER_ADDRESS=20
within LOGIN_WINDOW_SECONDS=300 on the test stack)."""

from __future__ import annotations

import uuid

import requests


def _login(stack, email: str, password: str, address: str | None = None) -> requests.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return requests.post(f"{stack.base_url}/login", auth=(email, password), headers=headers, timeout=30)


def test_an_account_is_locked_after_repeated_failures(client, stack):
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    statuses = [_login(stack, client.email, "wrong-password!", address).status_code for _ in range(5)]
    assert statuses == [401] * 5
    locked = _login(stack, client.email, "wrong-password!", address)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 300
    # Even the right password waits, and so does the same account from elsewhere.
    assert _login(stack, client.email, client.password, address).status_code == 429
    assert _login(stack, client.email, client.password, "192.0.2.77").status_code == 429


def test_an_address_is_throttled_across_accounts(make_client, stack):
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    statuses = [
        _login(stack, f"nobody-{i}-{uuid.uuid4().hex[:6]}@example.com", "guess-123456", address).status_code
        for i in range(20)
    ]
    assert statuses == [401] * 20
    throttled = _login(stack, f"another-{uuid.uuid4().hex[:6]}@example.com", "guess-123456", address)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    # Another address, and a real user's login, are not affected.
    other = make_client()
    assert _login(stack, other.email, other.password, "192.0.2.99").status_code == 200


def test_a_success_resets_the_accounts_count(client, stack):
    address = "192.0.2.50"
    for _ in range(4):
        assert _login(stack, client.email, "wrong-password!", address).status_code == 401
    assert _login(stack, client.email, client.password, address).status_code == 200
    for _ in range(4):
        assert _login(stack, client.email, "wrong-password!", address).status_code == 401
    assert _login(stack, client.email, client.password, address).status_code == 200
