"""The web app's session and CSRF protection.

The session is the JWT the auth service issued at sign-in, kept in the
``invoicer_session`` cookie: ``HttpOnly`` (scripts cannot read it),
``SameSite=Lax`` (not sent on cross-site POSTs), ``Secure`` when
``PUBLIC_URL`` is https, ``Path=/app/``, and living as long as the token.
It is verified on every request exactly as the API verifies a Bearer token
(:func:`invoicer.common.tokens.verify_token`); sign-out deletes it.

CSRF (OWASP's synchroniser token pattern, through Flask-WTF): every form
carries ``csrf_token`` and every htmx request the ``X-CSRFToken`` header;
:func:`check_csrf` refuses a state-changing request without a valid one with
:class:`flask_wtf.csrf.CSRFError` (400). Flask-WTF keeps its secret in
Flask's signed session cookie, ``invoicer_web``.
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
from flask_wtf.csrf import CSRFError, ValidationError, generate_csrf, validate_csrf
from werkzeug.wrappers import Response

from ...common.config import Settings
from ...common.tokens import Claims, InvalidToken, verify_token

__all__ = [
    "COOKIE",
    "check_csrf",
    "configure",
    "current_claims",
    "end_session",
    "page_login_required",
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


def current_claims() -> Claims | None:
    """The signed-in user's verified claims (also in ``g.claims``, with the
    token in ``g.token``), or ``None`` without a valid session cookie."""
    if "claims" in g:
        claims: Claims | None = g.claims
        return claims
    token = request.cookies.get(COOKIE, "")
    claims = None
    if token:
        settings = _settings()
        try:
            claims = verify_token(
                token, secret=settings.jwt_secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience
            )
        except InvalidToken:
            claims = None
    g.claims = claims
    g.token = token if claims else None
    return claims


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
