"""Access tokens: JWTs signed with HS256 (RFC 7519, RFC 7518 section 3.2).

Claims: ``sub`` (user id, a UUID), ``email``, ``roles`` (list), ``iss``, ``aud``,
``iat``, ``exp``, ``jti`` and ``sid`` (the server-side session the token
belongs to, :mod:`invoicer.common.sessions`: signing out ends it, and with it
every token it was given). Verification pins the algorithm to HS256 (so
``alg: none`` or a switched algorithm is refused) and requires every claim.

The auth service issues tokens; every service that serves users (the gateway
today) verifies them itself with the same key. Both import this module, so
no service imports another's code to check a token.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

__all__ = ["ALGORITHM", "Claims", "InvalidToken", "issue_token", "verify_token"]

ALGORITHM = "HS256"
_REQUIRED = ["exp", "iat", "iss", "aud", "sub"]


class InvalidToken(ValueError):
    """The token is missing, malformed, badly signed, expired, or not for us."""


@dataclass(frozen=True)
class Claims:
    """The verified identity in a token."""

    sub: str
    email: str
    roles: tuple[str, ...]
    expires_at: int
    session_id: str | None = None
    issued_at: int = 0


def issue_token(
    *,
    secret: str,
    issuer: str,
    audience: str,
    ttl_seconds: int,
    sub: str,
    email: str,
    roles: list[str],
    session_id: str | None = None,
    not_after: int | None = None,
) -> str:
    """A signed JWT (compact serialisation, ``str``) for the user ``sub``,
    valid for ``ttl_seconds`` from now but not past ``not_after`` (Unix
    seconds, the session's absolute limit) when given, signed with
    ``secret`` (HS256); ``session_id`` becomes the ``sid`` claim."""
    now = int(time.time())
    expires = now + ttl_seconds if not_after is None else min(now + ttl_seconds, not_after)
    payload: dict[str, object] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "email": email,
        "roles": list(roles),
        "iat": now,
        "exp": expires,
        "jti": uuid.uuid4().hex,
    }
    if session_id is not None:
        payload["sid"] = session_id
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify_token(token: str, *, secret: str, issuer: str, audience: str, leeway: int = 10) -> Claims:
    """Check ``token``'s signature (HS256 only), expiry, issuer and audience,
    allowing ``leeway`` seconds of clock skew, and that ``sub`` is a user id
    (a UUID; returned in canonical form); returns its :class:`Claims`.

    Raises :class:`InvalidToken` with a short reason on any failure.
    """
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": _REQUIRED},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid token: {exc}") from exc
    try:
        # Auth issues ids as UUIDs; a signed token naming anything else is not ours.
        sub = str(uuid.UUID(str(payload["sub"])))
    except ValueError:
        raise InvalidToken("invalid token: sub is not a user id") from None
    roles = payload.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken("invalid token: roles must be a list of strings")
    sid = payload.get("sid")
    if sid is not None:
        try:
            sid = str(uuid.UUID(str(sid)))
        except ValueError:
            raise InvalidToken("invalid token: sid is not a session id") from None
    return Claims(
        sub=sub,
        email=str(payload.get("email", "")),
        roles=tuple(roles),
        expires_at=int(payload["exp"]),
        session_id=sid,
        issued_at=int(payload["iat"]),
    )
