"""The auth service's routes (all JSON; errors as in :mod:`invoicer.common.errors`):

* ``POST /login`` with HTTP Basic (RFC 7617, UTF-8) or a JSON body ``{"email",
  "password"}`` -> 200 ``{"access_token",
  "token_type": "Bearer", "expires_in"}``; 401 on bad credentials; 429 with
  ``Retry-After`` after too many failures (see :mod:`.throttle`).
* ``POST /register`` ``{"email", "password"}`` -> 201 ``{"id", "email",
  "roles"}``; 403 when registration is switched off, 409 when the e-mail is
  taken, 422 when the e-mail or password is unacceptable.
* ``POST /validate`` with ``Authorization: Bearer`` -> 200 the token's claims; 401
  (also once its session was signed out).
* ``POST /refresh`` (Bearer) -> 200 a fresh token of the same session (sliding
  renewal, never past ``SESSION_MAX_SECONDS`` after sign-in); 401 ``session_ended``.
* ``POST /logout`` (Bearer) -> 204: the session ends, every token of it is refused.
* ``GET /me`` (Bearer) -> 200 ``{"id", "email", "roles", "email_verified"}``.
* ``POST /verify-email`` ``{"token"}`` -> 200 ``{"email", "email_verified": true}``;
  422 ``invalid_token``. ``POST /verify-email/resend`` (Bearer) -> 202; 409
  ``already_verified``; 429.
* ``POST /password-reset`` ``{"email"}`` -> 202, the same whether or not the
  address has an account; 422 not an address; 429 with ``Retry-After``.
  ``POST /password-reset/confirm`` ``{"token", "password"}`` -> 204; 422
  ``invalid_token`` or ``weak_password``.

``GET /healthz`` and ``GET /readyz`` come with every app (:mod:`invoicer.common.web`).
The rules live in :mod:`.accounts`; this module only speaks HTTP.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ..common.config import Settings
from ..common.errors import ApiError
from ..common.tokens import Claims, issue_token
from ..common.web import bearer_claims, login_credentials
from .accounts import Accounts, InvalidCredentials
from .db import Session, User, get_user

__all__ = ["blueprint"]

blueprint = Blueprint("auth", __name__)


def accounts() -> Accounts:
    """The app's :class:`~.accounts.Accounts` (built by :func:`invoicer.auth.app.create_app`)."""
    found: Accounts = current_app.extensions["invoicer"]
    return found


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def _token_response(user: User, session: Session) -> Response:
    settings = _settings()
    token = issue_token(
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.jwt_ttl_seconds,
        sub=user.id,
        email=user.email,
        roles=list(user.roles),
        session_id=session.id,
        not_after=session.expires_at,
    )
    lifetime = max(0, min(settings.jwt_ttl_seconds, session.expires_at - int(time.time())))
    return jsonify({"access_token": token, "token_type": "Bearer", "expires_in": lifetime})


def _client_address() -> str | None:
    # The gateway passes the caller's address; auth is reachable from it only.
    return request.headers.get("X-Client-Address") or request.remote_addr


def _json_object(shape: str) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", f"the body must be a JSON object {shape}")
    return body


def _live_claims() -> Claims:
    """The Bearer token's claims, 401 ``session_ended`` once its session is over."""
    claims = bearer_claims("Bearer token required")
    if claims.session_id is not None:
        accounts().renew(claims.session_id, claims.sub)
    return claims


@blueprint.post("/login")
def login() -> Response:
    """Exchange the e-mail and password for a JWT: HTTP Basic (UTF-8, RFC 7617)
    or a JSON body ``{"email", "password"}`` (:func:`~invoicer.common.web.login_credentials`)."""
    email, password = login_credentials("HTTP Basic credentials or a JSON body {email, password} required")
    service = accounts()
    user = service.authenticate(email, password, _client_address())
    return _token_response(user, service.open_session(user))


@blueprint.post("/register")
def register() -> ResponseReturnValue:
    """Create an account with the role ``user``."""
    service = accounts()
    service.check_registration_open()  # 403 whatever the body says
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", 'the body must be a JSON object {"email", "password"}')
    user = service.register(body.get("email"), body.get("password"))
    return jsonify({"id": user.id, "email": user.email, "roles": list(user.roles)}), 201


@blueprint.post("/validate")
def validate() -> Response:
    """The claims of a valid Bearer token."""
    claims = _live_claims()
    return jsonify({"sub": claims.sub, "email": claims.email, "roles": list(claims.roles), "exp": claims.expires_at})


@blueprint.post("/refresh")
def refresh() -> Response:
    """A fresh token for the Bearer token's session (the same ``sid``),
    valid ``JWT_TTL_SECONDS`` but not past the session's absolute limit."""
    claims = bearer_claims("Bearer token required")
    user, session = accounts().renew(claims.session_id, claims.sub)
    return _token_response(user, session)


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    """End the Bearer token's session; its tokens are refused from now on."""
    claims = bearer_claims("Bearer token required")
    accounts().sign_out(claims.session_id, claims.sub)
    return "", 204


@blueprint.get("/me")
def me() -> Response:
    """The signed-in account: ``{"id", "email", "roles", "email_verified"}``."""
    claims = _live_claims()
    user = get_user(accounts().db, claims.sub)
    if user is None:
        raise InvalidCredentials("the account no longer exists")
    return jsonify(
        {"id": user.id, "email": user.email, "roles": list(user.roles), "email_verified": user.email_verified}
    )


@blueprint.post("/verify-email")
def verify_email() -> Response:
    """Confirm an address with the token of its mailed link: ``{"token"}``."""
    email = accounts().verify_email(_json_object('{"token"}').get("token"))
    return jsonify({"email": email, "email_verified": True})


@blueprint.post("/verify-email/resend")
def resend_verification() -> ResponseReturnValue:
    """Mail the signed-in account a new verification link."""
    claims = _live_claims()
    accounts().resend_verification(claims.sub, _client_address())
    return jsonify({"status": "sent"}), 202


#: What a password-reset request answers, whether or not the address has an account.
RESET_ANSWER = {
    "status": "accepted",
    "message": "If this address has an account, a link to reset its password is on its way.",
}


@blueprint.post("/password-reset")
def request_password_reset() -> ResponseReturnValue:
    """Mail a reset link to ``{"email"}`` if it has an account; the same answer either way."""
    accounts().request_password_reset(_json_object('{"email"}').get("email"), _client_address())
    return jsonify(RESET_ANSWER), 202


@blueprint.post("/password-reset/confirm")
def confirm_password_reset() -> ResponseReturnValue:
    """Set a new password: ``{"token", "password"}``; every session of the account ends."""
    body = _json_object('{"token", "password"}')
    accounts().reset_password(body.get("token"), body.get("password"))
    return "", 204
