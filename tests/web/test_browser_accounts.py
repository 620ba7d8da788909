"""Issue 22 in Chromium: the verification banner and its link, invitations
answered from the mailed link and the list, members managed on the
organisation page, switching organisation, forgotten passwords, and a
sign-out after which the old session cookie opens nothing."""

from __future__ import annotations

import re
import secrets
import time
import uuid

import jwt
import psycopg2
import requests
from playwright.sync_api import expect

from ..conftest import login, mailed_link, new_client, register, verify_address
from .conftest import check_page, sign_in

COOKIE = "invoicer_session"


def _app_url(stack, link: str) -> str:
    """A mailed link (PUBLIC_URL) as the browser reaches the test stack."""
    return re.sub(r"^https?://[^/]+", stack.base_url, link)


def test_a_new_account_confirms_its_address_from_the_banner_and_the_link(page, stack):
    email, password = f"web-verify-{uuid.uuid4().hex[:10]}@example.com", secrets.token_urlsafe(16)
    register(stack.base_url, email, password)
    sign_in(page, stack.base_url, email, password)
    banner = page.get_by_role("status").filter(has_text="Confirm your e-mail address")
    expect(banner).to_be_visible()
    check_page(page, "account-verify-banner")
    page.get_by_role("button", name="Send a new link").click()
    expect(page.get_by_text("A new confirmation link is on its way")).to_be_visible()
    page.goto(_app_url(stack, mailed_link(stack, email, "verify_email")))
    check_page(page, "account-verify-email")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_text(f"{email} is confirmed")).to_be_visible()
    page.goto(f"{stack.base_url}/app/")
    expect(page.get_by_text("Confirm your e-mail address")).to_have_count(0)


def test_an_invitee_accepts_from_the_mail_switches_and_the_owner_manages_members(page, stack):
    owner = new_client(stack.base_url)
    assert owner.post("/organisation/members", json={"email": "x", "role": "viewer"}).status_code == 422
    requests.patch(
        f"{stack.base_url}/organisation", json={"name": "Owner Books Ltd"}, headers=owner.headers, timeout=30
    ).raise_for_status()
    email, password = f"web-invitee-{uuid.uuid4().hex[:10]}@example.com", secrets.token_urlsafe(16)
    assert owner.post("/organisation/members", json={"email": email, "role": "accountant"}).status_code == 201
    register(stack.base_url, email, password)
    token = login(stack.base_url, email, password)
    requests.patch(
        f"{stack.base_url}/organisation",
        json={"name": "Invitee Own Ltd"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).raise_for_status()  # their own organisation first: the invitation joins a second one
    verify_address(stack, email)

    sign_in(page, stack.base_url, email, password)
    page.goto(_app_url(stack, mailed_link(stack, email, "invitation")))
    expect(page.get_by_text("You are invited to join Owner Books Ltd as accountant")).to_be_visible()
    check_page(page, "account-invitation-answer")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("You joined Owner Books Ltd")).to_be_visible()
    switcher = page.get_by_label("Organisation", exact=True)
    expect(switcher.locator("option:checked")).to_have_text(re.compile("Owner Books Ltd"))
    page.get_by_role("link", name="Organisation", exact=True).click()
    expect(page.locator("#org-name")).to_have_value("Owner Books Ltd")
    switcher.select_option(label="Invitee Own Ltd · owner")
    page.get_by_role("button", name="Switch").click()
    page.get_by_role("link", name="Organisation", exact=True).click()
    expect(page.locator("#org-name")).to_have_value("Invitee Own Ltd")
    check_page(page, "account-switched")

    page.context.clear_cookies()
    sign_in(page, stack.base_url, owner.email, owner.password)
    page.get_by_role("link", name="Organisation", exact=True).click()
    row = page.get_by_role("row").filter(has_text=email)
    row.get_by_label(f"Role of {email}").select_option("viewer")
    row.get_by_role("button", name="Change role").click()
    expect(page.get_by_text(f"{email} is now viewer")).to_be_visible()
    check_page(page, "account-members")
    own = page.get_by_role("row").filter(has_text=owner.email)
    own.get_by_role("button", name=f"Remove {owner.email}").click()
    expect(page.get_by_text("Not removed: the last owner cannot be removed")).to_be_visible()
    page.get_by_role("row").filter(has_text=email).get_by_role("button", name=f"Remove {email}").click()
    expect(page.get_by_text("Member removed.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=email)).to_have_count(0)


def test_a_forgotten_password_is_reset_by_the_mailed_link(page, stack):
    user = new_client(stack.base_url)
    page.goto(f"{stack.base_url}/app/login")
    page.get_by_role("link", name="Forgot your password?").click()
    check_page(page, "account-forgot-password")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_text(f"If {user.email} has an account")).to_be_visible()
    page.goto(_app_url(stack, mailed_link(stack, user.email, "password_reset")))
    check_page(page, "account-reset-password")
    new_password = secrets.token_urlsafe(18)
    page.get_by_label("New password").fill(new_password)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    sign_in(page, stack.base_url, user.email, new_password)


def test_after_sign_out_the_old_session_cookie_opens_nothing(page, stack, web_user):
    sign_in(page, stack.base_url, web_user.email, web_user.password)
    copied = next(cookie for cookie in page.context.cookies() if cookie["name"] == COOKIE)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.context.add_cookies([copied])  # someone kept a copy of the cookie
    page.goto(f"{stack.base_url}/app/invoices")
    expect(page).to_have_url(re.compile(r"/app/login"))
    reply = requests.get(f"{stack.base_url}/jobs", headers={"Authorization": f"Bearer {copied['value']}"}, timeout=30)
    assert reply.status_code == 401


def test_an_active_web_session_is_renewed_within_its_absolute_limit(stack):
    user = new_client(stack.base_url)
    secret = stack.env["JWT_SECRET"]
    claims = jwt.decode(user.token, secret, algorithms=["HS256"], audience="invoicer", issuer="invoicer-auth")
    now = int(time.time())
    # The cookie of someone signed in 14 minutes ago: one minute left of a 15-minute token.

    def visit() -> dict:
        aged = jwt.encode({**claims, "iat": now - 840, "exp": now + 60}, secret, algorithm="HS256")
        page = requests.get(f"{stack.base_url}/app/invoices", cookies={COOKIE: aged}, allow_redirects=False, timeout=30)
        assert page.status_code == 200, page.text[:300]
        renewed = page.cookies.get(COOKIE)
        assert renewed and renewed != aged, "the page set a renewed session cookie"
        return jwt.decode(renewed, secret, algorithms=["HS256"], audience="invoicer", issuer="invoicer-auth")

    fresh = visit()
    assert fresh["sid"] == claims["sid"] and fresh["exp"] >= now + 800
    # Near the session's absolute limit, renewal stops at it.
    with psycopg2.connect(stack.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.execute("UPDATE sessions SET expires_at = now() + interval '30 seconds' WHERE id = %s", (claims["sid"],))
    assert visit()["exp"] <= int(time.time()) + 31
