"""The web app's session and CSRF protection.

The session is the JWT the auth service issued at sign-in, kept in the
``invoicer_session`` cookie: ``HttpOnly`` (scripts cannot read it),
``SameSite=Lax`` (not sent on cross-site POSTs), ``Secure`` when
``PUBLIC_URL`` is https, ``Path=/app/``, and living as long as the token.
It is verified on every request exactly as the API verifies a Bearer token
(:func:`invoicer.common.tokens.verify_token`), and its server-side session
(:mod:`invoicer.common.sessions`) must still be live: sign-out ends the
session at auth, so the old cookie is refused even if someone kept a copy.
An active person stays signed in: once less than half of the token's life
is left, a request renews it through auth's ``/refresh`` (same session,
never past ``SESSION_MAX_SECONDS`` after sign-in) and the cookie is set
again (sliding renewal with an absolute limit).

CSRF (OWASP's synchroniser token pattern, through Flask-WTF): every form
carries ``csrf_token`` and every htmx request the ``X-CSRFToken`` header;
:func:`check_csrf` refuses a state-changing request without a valid one with
:class:`flask_wtf.csrf.CSRFError` (400). Flask-WTF keeps its secret in
Flask's signed session cookie, ``invoicer_web``; it is replaced at every
sign-in (:func:`rotate_csrf`), so a token seen before signing in is worth
nothing after.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, url_for
from flask import session as flask_session
from flask_wtf.csrf import CSRFError, ValidationError, generate_csrf, validate_csrf
from werkzeug.wrappers import Response

from ...common.config import Settings
from ...common.db import Database
from ...common.errors import ApiError
from ...common.sessions import session_active
from ...common.tokens import Claims, InvalidToken, verify_token
from .. import routes

__all__ = [
    "COOKIE",
    "check_csrf",
    "configure",
    "current_claims",
    "end_session",
    "page_login_required",
    "renew_cookie",
    "rotate_csrf",
    "safe_next",
    "start_session",
]

COOKIE = "invoicer_session"
COOKIE_PATH = "/app/"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def _secure(settings: Settings) -> bool:
    return settings.public_url.lower().startswith("https://")


def configure(app: Flask, settings: Settings) -> None:
    """Set Flask's session cookie (which holds Flask-WTF's CSRF secret) the
    same way as the session cookie, and its signing key: an HMAC of
    ``JWT_SECRET``, so no new secret has to be deployed."""
    app.secret_key = hmac.new(settings.jwt_secret.encode(), b"invoicer web app", hashlib.sha256).hexdigest()
    app.config.update(
        SESSION_COOKIE_NAME="invoicer_web",
        SESSION_COOKIE_PATH=COOKIE_PATH,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_secure(settings),
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session: a form left open over lunch still posts
        WTF_CSRF_SSL_STRICT=False,  # the same-origin check that matters is SameSite=Lax on both cookies
    )


def csrf_token() -> str:
    """The signed CSRF token for this session's forms (a new session gets one)."""
    token: str = generate_csrf()
    return token


def check_csrf() -> None:
    """Raise :class:`CSRFError` (400) unless a state-changing request carries
    a valid token in the form field ``csrf_token`` or the header ``X-CSRFToken``."""
    if request.method not in _UNSAFE_METHODS:
        return
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except ValidationError as exc:
        raise CSRFError(str(exc.args[0]) if exc.args else "The CSRF token is missing.") from None


def rotate_csrf() -> None:
    """Forget this browser's CSRF secret: the next form gets a new one
    (called at sign-in and sign-out; OWASP: renew the token with the session)."""
    flask_session.pop("csrf_token", None)
    g.pop("csrf_token", None)


def _verify(token: str) -> Claims | None:
    settings = _settings()
    try:
        claims = verify_token(
            token, secret=settings.jwt_secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
    except InvalidToken:
        return None
    db: Database = current_app.extensions["invoicer"].db
    return claims if session_active(db, claims) else None


def current_claims() -> Claims | None:
    """The signed-in user's verified claims (also in ``g.claims``, with the
    token in ``g.token``), or ``None`` without a valid session cookie or
    once its session ended. Renews a token past half its life (see the
    module docstring); :func:`renew_cookie` then sets the new cookie."""
    if "claims" in g:
        claims: Claims | None = g.claims
        return claims
    token = request.cookies.get(COOKIE, "")
    claims = _verify(token) if token else None
    if claims is not None and claims.session_id is not None:
        lifetime = max(1, claims.expires_at - claims.issued_at)
        if claims.expires_at - int(time.time()) < lifetime // 2:
            renewed = _renewed(token)
            if renewed is not None:
                token, claims = renewed
                g.renewed_token = token
    g.claims = claims
    g.token = token if claims else None
    return claims


def _renewed(token: str) -> tuple[str, Claims] | None:
    """A fresh token of the same session from auth's ``/refresh``, or None
    (the session is at its limit, or auth cannot be reached: the current
    token serves until it expires)."""
    try:
        status, body, _ = routes.ask_auth("/refresh", headers={"Authorization": f"Bearer {token}"})
    except ApiError:  # auth unreachable: keep the token we have
        return None
    fresh = body.get("access_token") if status == 200 else None
    if not isinstance(fresh, str):
        return None
    claims = _verify(fresh)
    return (fresh, claims) if claims is not None else None


def renew_cookie(response: Response) -> Response:
    """Set the session cookie to the token :func:`current_claims` renewed in this request, if any."""
    fresh = g.pop("renewed_token", None)
    if fresh and request.cookies.get(COOKIE) and response.status_code < 500:
        start_session(response, fresh)
    return response


def page_login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send a visitor without a valid session to the sign-in page (htmx
    requests through ``HX-Redirect``), coming back here afterwards."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_claims() is None:
            target = url_for("web.login", next=request.full_path.rstrip("?"))
            if request.headers.get("HX-Request"):
                return Response(status=204, headers={"HX-Redirect": target})
            response = redirect(target)
            if request.cookies.get(COOKIE):
                response.delete_cookie(COOKIE, path=COOKIE_PATH)  # an expired session: forget it
            return response
        return view(*args, **kwargs)

    return wrapper


def start_session(response: Response, token: str) -> Response:
    """Put ``token`` (a JWT from the auth service) into the session cookie,
    valid until the token expires; returns ``response``."""
    settings = _settings()
    claims = verify_token(token, secret=settings.jwt_secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(0, claims.expires_at - int(time.time())),
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=_secure(settings),
    )
    return response


def end_session(response: Response) -> Response:
    """Delete the session cookie and the CSRF secret; returns ``response``."""
    settings = _settings()
    for name in (COOKIE, "invoicer_web"):
        response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="Lax", secure=_secure(settings))
    return response


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path inside the web app, else ``default``: the
    sign-in page's ``next`` never sends anyone to another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(COOKIE_PATH) or "\\" in target:
        return default
    return target
