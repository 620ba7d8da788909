"""The auth service's routes (all JSON; errors as in :mod:`invoicer.common.errors`):

* ``POST /login`` with HTTP Basic (RFC 7617, UTF-8) or a JSON body ``{"email",
  "password"}`` -> 200 ``{"access_token",
  "token_type": "Bearer", "expires_in"}``; 401 on bad credentials; 429 with
  ``Retry-After`` after too many failures (see :mod:`.throttle`).
* ``POST /register`` ``{"email", "password"}`` -> 201 ``{"id", "email",
  "roles"}``; 403 when registration is switched off, 409 when the e-mail is
  taken, 422 when the e-mail or password is unacceptable.
* ``POST /validate`` with ``Authorization: Bearer`` -> 200 the token's claims; 401.

``GET /healthz`` and ``GET /readyz`` come with every app (:mod:`invoicer.common.web`).
The rules live in :mod:`.accounts`; this module only speaks HTTP.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ..common.config import Settings
from ..common.errors import ApiError
from ..common.tokens import issue_token
from ..common.web import bearer_claims, login_credentials
from .accounts import Accounts
from .db import User

__all__ = ["blueprint"]

blueprint = Blueprint("auth", __name__)


def accounts() -> Accounts:
    """The app's :class:`~.accounts.Accounts` (built by :func:`invoicer.auth.app.create_app`)."""
    found: Accounts = current_app.extensions["invoicer"]
    return found


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def _token_response(user: User) -> Response:
    settings = _settings()
    token = issue_token(
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.jwt_ttl_seconds,
        sub=user.id,
        email=user.email,
        roles=list(user.roles),
    )
    return jsonify({"access_token": token, "token_type": "Bearer", "expires_in": settings.jwt_ttl_seconds})


@blueprint.post("/login")
def login() -> Response:
    """Exchange the e-mail and password for a JWT: HTTP Basic (UTF-8, RFC 7617)
    or a JSON body ``{"email", "password"}`` (:func:`~invoicer.common.web.login_credentials`)."""
    email, password = login_credentials("HTTP Basic credentials or a JSON body {email, password} required")
    # The gateway passes the caller's address; auth is reachable from it only.
    address = request.headers.get("X-Client-Address") or request.remote_addr
    return _token_response(accounts().authenticate(email, password, address))


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
    claims = bearer_claims("Bearer token required")
    return jsonify({"sub": claims.sub, "email": claims.email, "roles": list(claims.roles), "exp": claims.expires_at})
