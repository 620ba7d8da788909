"""Issue 22 through the gateway on the session's stack: e-mail verification
by mailed link, sign-out that ends the session, renewal, password reset, and
invitations that wait for the invited person's consent."""

from __future__ import annotations

import secrets
import uuid

import jwt
import requests

from ..conftest import Client, account_mails, login, mailed_link, new_client, register, token_of, verify_address


def _in(client: Client, organisation_id: str, path: str, method: str = "GET", **kwargs) -> requests.Response:
    """``client``'s request to ``path`` acting for ``organisation_id`` (the ``X-Organisation`` header)."""
    headers = {**client.headers, "X-Organisation": organisation_id}
    return requests.request(method, f"{client.base_url}{path}", headers=headers, timeout=30, **kwargs)


def test_registration_mails_a_verification_link_built_from_the_public_url(stack):
    email, password = f"verify-{uuid.uuid4().hex[:10]}@example.com", secrets.token_urlsafe(16)
    reply = requests.post(
        f"{stack.base_url}/register",
        json={"email": email, "password": password},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
        timeout=30,
    )
    assert reply.status_code == 201, reply.text
    client = Client(stack.base_url, email, password, login(stack.base_url, email, password))
    assert client.get("/me").json()["email_verified"] is False  # signing in does not wait for it
    link = mailed_link(stack, email, "verify_email")
    assert link.startswith(f"{stack.env['PUBLIC_URL'].rstrip('/')}/app/verify-email?token=")
    assert "evil.example" not in link
    wrong = requests.post(f"{stack.base_url}/verify-email", json={"token": token_of(link) + "x"}, timeout=30)
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "invalid_token"
    done = requests.post(f"{stack.base_url}/verify-email", json={"token": token_of(link)}, timeout=30)
    assert done.status_code == 200 and done.json() == {"email": email, "email_verified": True}
    assert client.get("/me").json()["email_verified"] is True
    again = requests.post(f"{stack.base_url}/verify-email", json={"token": token_of(link)}, timeout=30)
    assert again.status_code == 422, "a link works once"
    assert client.post("/verify-email/resend").json()["error"]["code"] == "already_verified"


def test_sign_out_ends_the_session_and_every_token_of_it(client, stack):
    assert client.get("/jobs").status_code == 200
    assert client.get("/organisation").status_code == 200
    renewed = client.post("/refresh")
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()["access_token"]
    claims = [jwt.decode(token, options={"verify_signature": False}) for token in (client.token, fresh)]
    assert claims[0]["sid"] == claims[1]["sid"] and claims[0]["jti"] != claims[1]["jti"]
    other_device = login(stack.base_url, client.email, client.password)
    assert client.post("/logout").status_code == 204
    for token in (client.token, fresh):
        headers = {"Authorization": f"Bearer {token}"}
        for path in ("/jobs", "/organisation", "/me"):
            reply = requests.get(f"{stack.base_url}{path}", headers=headers, timeout=30)
            assert reply.status_code == 401, (path, reply.text)
        assert requests.post(f"{stack.base_url}/refresh", headers=headers, timeout=30).status_code == 401
    # Another sign-in of the same account is another session: it goes on.
    still = requests.get(f"{stack.base_url}/jobs", headers={"Authorization": f"Bearer {other_device}"}, timeout=30)
    assert still.status_code == 200


def test_password_reset_answers_alike_mails_once_and_ends_every_session(client, stack):
    nobody = f"nobody-{uuid.uuid4().hex[:10]}@example.com"
    answers = [
        requests.post(f"{stack.base_url}/password-reset", json={"email": address}, timeout=30)
        for address in (client.email, nobody)
    ]
    assert [reply.status_code for reply in answers] == [202, 202]
    assert answers[0].json() == answers[1].json(), "the answer does not tell whether the account exists"
    link = mailed_link(stack, client.email, "password_reset")
    assert link.startswith(f"{stack.env['PUBLIC_URL'].rstrip('/')}/app/reset-password?token=")
    new_password = secrets.token_urlsafe(18)
    weak = requests.post(
        f"{stack.base_url}/password-reset/confirm", json={"token": token_of(link), "password": "short"}, timeout=30
    )
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    done = requests.post(
        f"{stack.base_url}/password-reset/confirm", json={"token": token_of(link), "password": new_password}, timeout=30
    )
    assert done.status_code == 204, done.text
    assert client.get("/jobs").status_code == 401, "a reset signs every device out"
    assert requests.post(f"{stack.base_url}/login", auth=(client.email, client.password), timeout=30).status_code == 401
    assert login(stack.base_url, client.email, new_password)
    reused = requests.post(
        f"{stack.base_url}/password-reset/confirm", json={"token": token_of(link), "password": new_password}, timeout=30
    )
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "invalid_token"
    assert account_mails(stack, nobody, "password_reset", timeout=1) == []


def test_password_reset_requests_are_limited_per_address_and_per_client(stack):
    target = f"limited-{uuid.uuid4().hex[:10]}@example.com"
    limit = int(stack.env.get("PASSWORD_RESET_MAX_PER_ADDRESS", "3"))

    def ask(address: str, client_ip: str) -> requests.Response:
        return requests.post(
            f"{stack.base_url}/password-reset",
            json={"email": address},
            headers={"X-Forwarded-For": client_ip},
            timeout=30,
        )

    ips = [f"198.51.100.{n}" for n in range(1, limit + 2)]
    statuses = [ask(target, ip).status_code for ip in ips]  # a new client each time: the address is the limit
    assert statuses == [202] * limit + [429]
    refused = ask(target, "198.51.100.200")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    client_ip = f"203.0.113.{secrets.randbelow(200) + 1}"
    per_client = int(stack.env.get("PASSWORD_RESET_MAX_PER_CLIENT", "10"))
    spread = [
        ask(f"spread-{n}-{uuid.uuid4().hex[:6]}@example.com", client_ip).status_code for n in range(per_client + 1)
    ]
    assert spread == [202] * per_client + [429]


def test_an_invitation_joins_only_after_the_verified_invitee_accepts(stack):
    owner = new_client(stack.base_url)
    assert owner.post("/organisation/members", json={"email": "junk@@@", "role": "viewer"}).status_code == 422
    invitee_email = f"invitee-{uuid.uuid4().hex[:10]}@example.com"
    invited = owner.post("/organisation/members", json={"email": invitee_email, "role": "accountant"})
    assert invited.status_code == 201 and invited.json()["status"] == "invited", invited.text
    owner_org = owner.get("/organisation").json()["id"]
    link = mailed_link(stack, invitee_email, "invitation")
    assert link.startswith(f"{stack.env['PUBLIC_URL'].rstrip('/')}/app/invitations/answer?token=")

    password = secrets.token_urlsafe(16)
    register(stack.base_url, invitee_email, password)
    invitee = Client(stack.base_url, invitee_email, password, login(stack.base_url, invitee_email, password))
    # Registering the address joins nothing: the invitee has an organisation of their own.
    assert invitee.get("/organisation").json()["id"] != owner_org
    assert _in(invitee, owner_org, "/organisation").status_code == 404
    unverified = invitee.post("/invitations/accept", json={"token": token_of(link)})
    assert unverified.status_code == 403 and unverified.json()["error"]["code"] == "email_not_verified"

    verify_address(stack, invitee.email)
    pending = invitee.get("/invitations").json()["items"]
    assert [item["organisation_id"] for item in pending] == [owner_org]
    accepted = invitee.post("/invitations/accept", json={"token": token_of(link)})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text
    mine = {item["organisation_id"]: item["role"] for item in invitee.get("/organisations").json()["items"]}
    assert mine[owner_org] == "accountant" and len(mine) == 2
    there = _in(invitee, owner_org, "/organisation")
    assert there.status_code == 200 and there.json()["id"] == owner_org
    members = {item["email"]: item for item in owner.get("/organisation/members").json()["items"]}
    assert members[invitee_email]["status"] == "active"


def test_switching_to_an_organisation_without_membership_reaches_nothing(stack):
    a, b = new_client(stack.base_url), new_client(stack.base_url)
    b_org = b.get("/organisation").json()["id"]
    made = b.post("/clients", json={"name": "Secret client"})
    assert made.status_code == 201, made.text
    for path in ("/organisation", "/clients", "/invoices", "/organisation/members", "/dashboard"):
        reply = _in(a, b_org, path)
        assert reply.status_code == 404, (path, reply.text)
        assert reply.json()["error"]["code"] == "organisation_not_found"
        assert "Secret client" not in reply.text
    write = _in(a, b_org, "/clients", "POST", json={"name": "Planted"})
    assert write.status_code == 404
    assert [item["name"] for item in b.get("/clients").json()["items"]] == ["Secret client"]


def test_members_change_roles_and_are_removed_but_the_last_owner_stays(stack):
    owner = new_client(stack.base_url)
    own_id = owner.get("/organisation/members").json()["items"][0]["id"]
    demote = requests.patch(
        f"{stack.base_url}/organisation/members/{own_id}", json={"role": "viewer"}, headers=owner.headers, timeout=30
    )
    assert demote.status_code == 409 and demote.json()["error"]["code"] == "last_owner"
    remove = requests.delete(f"{stack.base_url}/organisation/members/{own_id}", headers=owner.headers, timeout=30)
    assert remove.status_code == 409 and remove.json()["error"]["code"] == "last_owner"
    assert owner.get("/organisation/members").json()["items"][0]["role"] == "owner"
