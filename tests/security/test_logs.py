"""Passwords, tokens and the signing key never reach the logs."""

from __future__ import annotations

import secrets

import requests


def test_secrets_do_not_appear_in_any_log(stack, make_client, example_bytes):
    user = make_client()
    wrong = "Wrong-" + secrets.token_urlsafe(12)
    # Traffic that carries secrets: a failed and a good login, registration
    # attempts with a short and a good password, an upload and its mail.
    requests.post(f"{stack.base_url}/login", auth=(user.email, wrong), timeout=10)
    requests.post(f"{stack.base_url}/register", json={"email": user.email, "password": "short1"}, timeout=10)
    token = requests.post(f"{stack.base_url}/login", auth=(user.email, user.password), timeout=10).json()[
        "access_token"
    ]
    job = user.wait(user.upload(example_bytes).json()["job_id"])
    assert job["status"] == "done"

    logs = {path.name: path.read_text(errors="replace") for path in (stack.stack.var / "log").glob("*.log")}
    assert {"auth.log", "gateway.log", "worker.log", "notification.log"} <= set(logs)
    # Access lines carry no e-mail address (they used to show Basic's user name),
    # so the login shows as auth's access line for it.
    assert '"message": "POST /login 200"' in logs["auth.log"], "the logs should at least show the login happened"
    needles = {
        "password": user.password,
        "wrong password": wrong,
        "short password": "short1",
        "jwt secret": stack.env["JWT_SECRET"],
        "access token": token,
        "signature": token.rsplit(".", 1)[1],
        "first token": user.token,
    }
    for name, text in logs.items():
        for what, needle in needles.items():
            assert needle not in text, f"{what} found in {name}"
