"""The auth service's routes in process (Flask's test client), with its
database on a closed port: the rules that need no account row, and what a
client sees while the database is down. The same routes against the real
stack are in test_accounts.py."""

from __future__ import annotations

import uuid

import pytest

from invoicer.auth.app import create_app
from invoicer.common.tokens import issue_token


@pytest.fixture
def auth(app_client):
    return app_client(create_app)


def test_register_validates_before_touching_the_database(auth):
    bad_email = auth.post("/register", json={"email": "not-an-address", "password": "long-enough-pw"})
    assert bad_email.status_code == 422
    assert bad_email.get_json()["error"]["code"] == "invalid_email"
    assert bad_email.get_json()["error"]["details"][0]["pointer"] == "/email"
    not_a_string = auth.post("/register", json={"email": 42, "password": "long-enough-pw"})
    assert not_a_string.status_code == 422
    assert not_a_string.get_json()["error"]["details"][0] == {
        "pointer": "/email",
        "code": "type",
        "message": "email must be a string",
    }
    short = auth.post("/register", json={"email": "a@example.com", "password": "short"})
    assert short.status_code == 422
    assert short.get_json()["error"]["code"] == "weak_password"
    assert short.get_json()["error"]["details"][0]["pointer"] == "/password"
    malformed = auth.post("/register", data=b"[1", content_type="application/json")
    assert malformed.status_code == 400
    assert malformed.get_json()["error"]["code"] == "malformed_json"


def test_switched_off_registration_is_403_whatever_the_body(app_client):
    auth = app_client(create_app, registration_enabled=False)
    for kwargs in (
        {"json": {"email": "a@example.com", "password": "long-enough-pw"}},
        {"data": b"[1", "content_type": "application/json"},
    ):
        reply = auth.post("/register", **kwargs)
        assert reply.status_code == 403
        assert reply.get_json()["error"]["code"] == "registration_disabled"


def test_with_the_database_down_register_login_and_readyz_are_503(auth):
    register = auth.post("/register", json={"email": "a@example.com", "password": "long-enough-pw"})
    login = auth.post("/login", auth=("a@example.com", "long-enough-pw"))
    for reply in (register, login):
        assert reply.status_code == 503
        assert reply.headers["Retry-After"] == "5"
        assert reply.get_json()["error"]["message"] == "the account database is unavailable; try again shortly"
    ready = auth.get("/readyz")
    assert ready.status_code == 503
    assert [detail["check"] for detail in ready.get_json()["error"]["details"]] == ["database"]
    assert auth.get("/healthz").get_json() == {"status": "ok"}


def test_login_without_basic_credentials_is_401_with_a_basic_challenge(auth):
    reply = auth.post("/login", headers={"Authorization": "Bearer abc"})
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="invoicer", charset="UTF-8"'


def test_validate_returns_the_claims_of_a_good_token_only(auth, offline_settings):
    sub = str(uuid.uuid4())
    token = issue_token(
        secret=offline_settings.jwt_secret,
        issuer=offline_settings.jwt_issuer,
        audience=offline_settings.jwt_audience,
        ttl_seconds=60,
        sub=sub,
        email="a@example.com",
        roles=["admin"],
    )
    good = auth.post("/validate", headers={"Authorization": f"Bearer {token}"})
    assert good.status_code == 200
    assert good.get_json()["sub"] == sub and good.get_json()["roles"] == ["admin"]
    assert good.headers["Cache-Control"] == "no-store"
    bad = auth.post("/validate", headers={"Authorization": f"Bearer {token[:-2]}xx"})
    assert bad.status_code == 401
    assert bad.get_json()["error"]["code"] == "invalid_token"
