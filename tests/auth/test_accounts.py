"""Accounts and tokens, through the gateway and the auth service."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jwt
import psycopg2
import requests


def test_login_issues_a_bearer_jwt_with_the_expected_claims(client, stack):
    reply = requests.post(f"{stack.base_url}/login", auth=(client.email, client.password), timeout=10)
    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    claims = jwt.decode(
        body["access_token"], stack.env["JWT_SECRET"], algorithms=["HS256"], audience="invoicer", issuer="invoicer-auth"
    )
    assert {"exp", "iat", "iss", "aud", "sub", "roles"} <= set(claims)
    assert claims["roles"] == ["user"]
    assert claims["exp"] - claims["iat"] == 900
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"


def test_login_takes_the_credentials_as_a_json_body_too(client, stack):
    reply = requests.post(
        f"{stack.base_url}/login", json={"email": client.email, "password": client.password}, timeout=10
    )
    assert reply.status_code == 200 and reply.json()["token_type"] == "Bearer"
    wrong = requests.post(f"{stack.base_url}/login", json={"email": client.email, "password": "wrong-pw-1"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"


def test_wrong_password_and_unknown_user_are_401(client, stack):
    for user, password in ((client.email, "wrong-password-123"), ("nobody@example.com", "whatever-123")):
        reply = requests.post(f"{stack.base_url}/login", auth=(user, password), timeout=10)
        assert reply.status_code == 401
        assert reply.json()["error"]["code"] == "invalid_credentials"


def test_login_without_credentials_is_401(stack):
    reply = requests.post(f"{stack.base_url}/login", timeout=10)
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "unauthorized"


def test_password_is_stored_as_argon2id(client, stack):
    with psycopg2.connect(stack.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.execute("SELECT password_hash FROM users WHERE email = %s", (client.email,))
        (stored,) = cur.fetchone()
    assert stored.startswith("$argon2id$")
    assert client.password not in stored


def test_register_rejects_duplicates_short_passwords_and_bad_emails(client, stack):
    url = f"{stack.base_url}/register"
    taken = requests.post(url, json={"email": client.email.upper(), "password": "long-enough-pw"}, timeout=10)
    assert taken.status_code == 409
    short = requests.post(url, json={"email": f"{uuid.uuid4().hex}@example.com", "password": "short"}, timeout=10)
    assert short.status_code == 422
    assert short.json()["error"]["details"][0]["pointer"] == "/password"
    bad = requests.post(url, json={"email": "not-an-address", "password": "long-enough-pw"}, timeout=10)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["pointer"] == "/email"
    malformed = requests.post(url, data=b"[1", headers={"Content-Type": "application/json"}, timeout=10)
    assert malformed.status_code == 400


def test_expired_token_is_refused(client, stack):
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "email": client.email,
        "roles": ["user"],
        "iss": "invoicer-auth",
        "aud": "invoicer",
        "iat": now - 3600,
        "exp": now - 1800,
    }
    expired = jwt.encode(claims, stack.env["JWT_SECRET"], algorithm="HS256")
    reply = requests.get(f"{stack.base_url}/jobs", headers={"Authorization": f"Bearer {expired}"}, timeout=10)
    assert reply.status_code == 401
    assert "expired" in reply.json()["error"]["message"]


def test_create_user_command_then_login(stack):
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    invoicer = str(Path(sys.executable).parent / "invoicer")
    result = subprocess.run(
        [invoicer, "create-user", email, "--role", "admin", "--password-stdin"],
        input="a-long-cli-password\n",
        text=True,
        capture_output=True,
        env={**os.environ, **stack.env},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    reply = requests.post(f"{stack.base_url}/login", auth=(email, "a-long-cli-password"), timeout=10)
    assert reply.status_code == 200
    roles = jwt.decode(reply.json()["access_token"], options={"verify_signature": False})["roles"]
    assert roles == ["admin"]
    again = subprocess.run(
        [invoicer, "create-user", email, "--password-stdin"],
        input="a-long-cli-password\n",
        text=True,
        capture_output=True,
        env={**os.environ, **stack.env},
        timeout=60,
        check=False,
    )
    assert again.returncode != 0
    assert "exists" in again.stderr


def test_auth_validate_endpoint(client, stack):
    reply = requests.post(f"{stack.auth_url}/validate", headers={"Authorization": f"Bearer {client.token}"}, timeout=10)
    assert reply.status_code == 200
    assert reply.json()["email"] == client.email
    assert (
        requests.post(f"{stack.auth_url}/validate", headers={"Authorization": "Bearer nope"}, timeout=10).status_code
        == 401
    )
