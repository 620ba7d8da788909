"""Forged, tampered, expired and misdirected JWTs are refused on every
protected route (algorithms pinned on verify)."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import psycopg2
import pytest
import requests

PROTECTED = [("get", "/jobs"), ("get", f"/jobs/{uuid.uuid4()}"), ("get", "/download?fid=x"), ("post", "/upload")]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(client, **overrides) -> dict:
    now = int(time.time())
    real = jwt.decode(client.token, options={"verify_signature": False})
    return {**real, "iat": now, "exp": now + 600, **overrides}


def _forgeries(client, secret: str) -> dict[str, str]:
    claims = _claims(client)
    header, _payload, signature = client.token.split(".")
    tampered = _b64(
        {**jwt.decode(client.token, options={"verify_signature": False}), "sub": str(uuid.uuid4()), "roles": ["admin"]}
    )
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "alg None with signature": f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{_b64(claims)}.{signature}",
        "guessed key": jwt.encode(claims, "secret", algorithm="HS256"),
        "guessed key 2": jwt.encode(claims, "invoicer", algorithm="HS256"),
        "HS512 with the real key": jwt.encode(claims, secret, algorithm="HS512"),
        "tampered payload": f"{header}.{tampered}.{signature}",
        "expired": jwt.encode(
            _claims(client, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), secret, algorithm="HS256"
        ),
        "wrong audience": jwt.encode(_claims(client, aud="someone-else"), secret, algorithm="HS256"),
        "wrong issuer": jwt.encode(_claims(client, iss="evil-auth"), secret, algorithm="HS256"),
        "no exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret, algorithm="HS256"),
        "garbage": "not.a.jwt",
    }


def test_every_forgery_is_401_on_every_protected_route(client, stack):
    forgeries = _forgeries(client, stack.env["JWT_SECRET"])
    for name, token in forgeries.items():
        for method, path in PROTECTED:
            reply = requests.request(
                method, f"{stack.base_url}{path}", timeout=10, headers={"Authorization": f"Bearer {token}"}
            )
            assert reply.status_code == 401, f"{name} on {method.upper()} {path}: {reply.status_code}"
            assert reply.json()["error"]["code"] == "invalid_token"
    # The genuine token still works: the 401s above are about the forgeries.
    assert client.get("/jobs").status_code == 200


@pytest.mark.parametrize("header", ["", "Bearer", "Basic dXNlcjpwYXNz", "Token abc"])
def test_missing_or_wrong_scheme_is_401(stack, header):
    reply = requests.get(f"{stack.base_url}/jobs", headers={"Authorization": header} if header else {}, timeout=10)
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def _stored_for(stack, owner: str) -> tuple[list, int]:
    """The GridFS files and job rows of ``owner`` (a token's ``sub``)."""
    from pymongo import MongoClient

    mongo = MongoClient(stack.env["MONGODB_URI"], serverSelectionTimeoutMS=5000)
    try:
        files = list(mongo.get_default_database()["fs.files"].find({"metadata.owner": owner}))
    finally:
        mongo.close()
    with psycopg2.connect(stack.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM jobs WHERE owner_id::text = %s", (owner,))
        (jobs,) = cur.fetchone()
    return files, jobs


def _upload(stack, token: str, document: bytes) -> requests.Response:
    return requests.post(
        f"{stack.base_url}/upload",
        data=document,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        timeout=30,
    )


@pytest.mark.parametrize("sub", ["not-a-user-id", "1", "' OR 1=1 --"])
def test_a_signed_token_whose_sub_is_not_a_user_id_is_401_and_stores_nothing(client, stack, example_bytes, sub):
    token = jwt.encode(_claims(client, sub=sub), stack.env["JWT_SECRET"], algorithm="HS256")
    reply = _upload(stack, token, example_bytes)
    assert reply.status_code == 401, reply.text
    assert reply.json()["error"]["code"] == "invalid_token"
    for method, path in PROTECTED:
        other = requests.request(
            method, f"{stack.base_url}{path}", timeout=10, headers={"Authorization": f"Bearer {token}"}
        )
        assert other.status_code == 401, f"{method.upper()} {path}: {other.status_code}"
    assert _stored_for(stack, sub) == ([], 0)


def test_the_token_of_a_deleted_user_cannot_create_jobs(client, stack, example_bytes):
    user_id = jwt.decode(client.token, options={"verify_signature": False})["sub"]
    with psycopg2.connect(stack.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM users WHERE id = %s", (user_id,))
        assert cur.rowcount == 1
    reply = _upload(stack, client.token, example_bytes)
    assert reply.status_code == 401, reply.text
    error = reply.json()["error"]
    assert error["code"] == "invalid_token"
    assert "no longer exists" in error["message"]
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert _stored_for(stack, user_id) == ([], 0)
