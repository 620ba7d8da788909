"""Forged, tampered, expired and misdirected JWTs are refused on every
protected route (algorithms pinned on verify)."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
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
