"""The auth service: accounts, password checks and JWTs.

Routes (all JSON; errors as in :mod:`invoicer.common.errors`):

* ``POST /login`` with HTTP Basic (RFC 7617) -> 200 ``{"access_token",
  "token_type": "Bearer", "expires_in"}``; 401 on bad credentials; 429 with
  ``Retry-After`` after too many failures (see :mod:`.throttle`).
* ``POST /register`` ``{"email", "password"}`` -> 201 ``{"id", "email",
  "roles"}``; 403 when registration is switched off, 409 when the e-mail is
  taken, 422 when the e-mail or password is unacceptable.
* ``POST /validate`` with ``Authorization: Bearer`` -> 200 the token's claims; 401.
* ``GET /healthz``, ``GET /readyz``.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app, jsonify, request

from ..common.config import Settings
from ..common.db import Database, DatabaseUnavailable
from ..common.errors import ApiError, error_response, install_error_handlers
from . import db as users
from .passwords import hash_password, needs_rehash, verify_password
from .throttle import LoginThrottle
from .tokens import InvalidToken, issue_token, verify_token

__all__ = ["create_app", "normalise_email", "check_password_policy"]


def normalise_email(email: object) -> str:
    """The normalised address; raises :class:`ApiError` 422 if it is not one."""
    if not isinstance(email, str):
        raise ApiError(422, "invalid_email", "email must be a string",
                       [{"pointer": "/email", "code": "type", "message": "email must be a string"}])
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ApiError(422, "invalid_email", str(exc),
                       [{"pointer": "/email", "code": "invalid_email", "message": str(exc)}]) from None


def check_password_policy(password: object, min_length: int) -> str:
    """The password if acceptable; raises :class:`ApiError` 422 otherwise."""
    if not isinstance(password, str):
        message = "password must be a string"
    elif len(password) < min_length:
        message = f"password must be at least {min_length} characters long"
    elif len(password) > 1024:
        message = "password must be at most 1024 characters long"
    else:
        return password
    raise ApiError(422, "weak_password", message,
                   [{"pointer": "/password", "code": "weak_password", "message": message}])


def create_app(config: Settings | None = None) -> Flask:
    """Build the auth app from ``config`` (default: the environment)."""
    settings = config or Settings.from_env()
    secret = settings.require_jwt_secret()
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    database = Database(settings.database_url)
    app.extensions["invoicer.db"] = database
    install_error_handlers(app)
    throttle = LoginThrottle(database, settings.login_max_failures, settings.login_max_failures_per_address,
                             settings.login_window_seconds)

    @app.errorhandler(DatabaseUnavailable)
    def _db_down(exc):
        return error_response(503, "unavailable", "the account database is unavailable; try again shortly",
                              headers={"Retry-After": "5"})

    def token_response(user: users.User):
        token = issue_token(
            secret=secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
            ttl_seconds=settings.jwt_ttl_seconds, sub=user.id, email=user.email, roles=list(user.roles),
        )
        return jsonify({"access_token": token, "token_type": "Bearer", "expires_in": settings.jwt_ttl_seconds})

    @app.post("/login")
    def login():
        auth = request.authorization
        if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
            raise ApiError(401, "unauthorized", "HTTP Basic credentials required",
                           headers={"WWW-Authenticate": 'Basic realm="invoicer"'})
        # The gateway passes the caller's address; auth is reachable from it only.
        address = request.headers.get("X-Client-Address") or request.remote_addr
        wait = throttle.retry_after(auth.username, address)
        if wait:
            raise ApiError(429, "too_many_attempts", "too many failed logins; try again later",
                           headers={"Retry-After": str(wait)})
        user = users.find_user(database, auth.username)
        if not verify_password(user.password_hash if user else None, auth.password):
            throttle.record_failure(auth.username, address)
            raise ApiError(401, "invalid_credentials", "wrong e-mail or password",
                           headers={"WWW-Authenticate": 'Basic realm="invoicer"'})
        throttle.record_success(auth.username)
        if needs_rehash(user.password_hash):
            users.update_password_hash(database, user.id, hash_password(auth.password))
        return token_response(user)

    @app.post("/register")
    def register():
        if not settings.registration_enabled:
            raise ApiError(403, "registration_disabled", "registration is switched off on this server")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ApiError(400, "malformed_json", 'the body must be a JSON object {"email", "password"}')
        email = normalise_email(body.get("email"))
        password = check_password_policy(body.get("password"), settings.password_min_length)
        try:
            user = users.create_user(database, email, hash_password(password), ["user"])
        except users.EmailTaken:
            raise ApiError(409, "email_taken", "an account with this e-mail address exists") from None
        return jsonify({"id": user.id, "email": user.email, "roles": list(user.roles)}), 201

    @app.post("/validate")
    def validate():
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "unauthorized", "Bearer token required")
        try:
            claims = verify_token(token.strip(), secret=secret, issuer=settings.jwt_issuer,
                                  audience=settings.jwt_audience)
        except InvalidToken as exc:
            raise ApiError(401, "invalid_token", str(exc)) from None
        return jsonify({"sub": claims.sub, "email": claims.email, "roles": list(claims.roles),
                        "exp": claims.expires_at})

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz():
        current_app.extensions["invoicer.db"].ping()
        return jsonify({"status": "ready"})

    return app
