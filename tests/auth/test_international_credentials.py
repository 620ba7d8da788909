"""Credentials that are not ASCII: HTTP Basic is read as UTF-8 and the
challenge says so (RFC 7617 section 2.1, ``charset="UTF-8"``); e-mail
addresses (email-validator's normalisation, NFC) and passwords (RFC 8265
OpaqueString: non-ASCII spaces become U+0020, then NFC) are normalised the
same way at registration, at login and in ``invoicer create-user``, so the
same name typed composed or decomposed logs in."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import unicodedata
import uuid
from pathlib import Path

import requests

CHALLENGE = 'Basic realm="invoicer", charset="UTF-8"'


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _basic(user: str, password: str, encoding: str = "utf-8") -> dict[str, str]:
    raw = f"{user}:{password}".encode(encoding)
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def _login(stack, user: str, password: str, encoding: str = "utf-8") -> requests.Response:
    return requests.post(f"{stack.base_url}/login", headers=_basic(user, password, encoding), timeout=30)


def _names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"jörg.müller-{tag}@example.com", f"Jörg's pässwörd {tag}"


def test_registered_decomposed_logs_in_composed_and_back(stack):
    email, password = _names()
    reply = requests.post(
        f"{stack.base_url}/register", json={"email": nfd(email), "password": nfd(password)}, timeout=30
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["email"] == nfc(email)
    for typed_email, typed_password in ((nfc(email), nfc(password)), (nfd(email), nfd(password))):
        login = _login(stack, typed_email, typed_password)
        assert login.status_code == 200, login.text
    taken = requests.post(f"{stack.base_url}/register", json={"email": nfc(email), "password": password}, timeout=30)
    assert taken.status_code == 409


def test_non_ascii_spaces_in_a_password_are_spaces(stack):
    email, _ = _names()
    password = "correct\u00a0horse\u2003battery staple"
    assert requests.post(f"{stack.base_url}/register", json={"email": email, "password": password}, timeout=30).ok
    assert _login(stack, email, "correct horse battery staple").status_code == 200


def test_latin1_basic_credentials_from_older_clients_still_log_in(stack):
    # requests, and browsers before RFC 7617, send Basic credentials as ISO-8859-1.
    email, password = _names()
    assert requests.post(f"{stack.base_url}/register", json={"email": email, "password": password}, timeout=30).ok
    assert _login(stack, email, password, encoding="latin-1").status_code == 200
    assert requests.post(f"{stack.base_url}/login", auth=(email, password), timeout=30).status_code == 200


def test_the_basic_challenge_asks_for_utf8(client, stack):
    for reply in (
        requests.post(f"{stack.base_url}/login", timeout=30),
        _login(stack, client.email, "wrong-password-123"),
        requests.post(f"{stack.auth_url}/login", timeout=30),
        requests.post(f"{stack.auth_url}/login", headers=_basic(client.email, "wrong-password-456"), timeout=30),
    ):
        assert reply.status_code == 401, reply.text
        assert reply.headers["WWW-Authenticate"] == CHALLENGE


def test_create_user_normalises_the_same_way(stack):
    email, password = _names()
    invoicer = str(Path(sys.executable).parent / "invoicer")
    result = subprocess.run(
        [invoicer, "create-user", nfd(email), "--password-stdin"],
        input=nfd(password) + "\n",
        text=True,
        encoding="utf-8",
        capture_output=True,
        env={**os.environ, **stack.env, "PYTHONIOENCODING": "utf-8"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert nfc(email) in result.stdout
    assert _login(stack, nfc(email), nfc(password)).status_code == 200
