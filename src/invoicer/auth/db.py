"""Accounts in PostgreSQL (table ``users``, migration 0001)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg2.errors

from ..common.db import Cursor, Database
from ..common.errors import Conflict

__all__ = [
    "EmailTaken",
    "Session",
    "User",
    "create_user",
    "find_user",
    "get_user",
    "live_session",
    "open_session",
    "revoke_session",
    "revoke_user_sessions",
    "update_password_hash",
]


class EmailTaken(Conflict):
    """An account with this e-mail address (compared case-insensitively)
    exists; ``email`` is the address that was refused."""

    code = "email_taken"

    def __init__(self, email: str) -> None:
        super().__init__("an account with this e-mail address exists")
        self.email = email


@dataclass(frozen=True)
class User:
    """An account: ``id`` (UUID string), normalised ``email``, Argon2id
    ``password_hash`` (PHC string) and ``roles`` (e.g. ``("user",)``)."""

    id: str
    email: str
    password_hash: str
    roles: tuple[str, ...]
    email_verified: bool = False


def create_user(
    db: Database,
    email: str,
    password_hash: str,
    roles: list[str],
    then: Callable[[Cursor, User], None] | None = None,
) -> User:
    """Insert an account, then run ``then(cur, user)`` in the same
    transaction (e.g. store and mail a verification link); raises
    :class:`EmailTaken`."""
    user = User(str(uuid.uuid4()), email, password_hash, tuple(roles))
    try:
        with db.transaction() as cur:
            cur.execute(
                "INSERT INTO users (id, email, password_hash, roles) VALUES (%s, %s, %s, %s)",
                (uuid.UUID(user.id), email, password_hash, list(roles)),
            )
            if then is not None:
                then(cur, user)
    except psycopg2.errors.UniqueViolation:
        raise EmailTaken(email) from None
    return user


def find_user(db: Database, email: str) -> User | None:
    """The account for ``email`` (case-insensitive), or ``None``."""
    with db.transaction() as cur:
        cur.execute(
            f"SELECT {_USER_COLUMNS} FROM users WHERE lower(email) = lower(%s)",
            (email,),
        )
        row = cur.fetchone()
    return _user(row)


_USER_COLUMNS = "id, email, password_hash, roles, email_verified_at IS NOT NULL AS email_verified"


def _user(row: dict[str, Any] | None) -> User | None:
    if row is None:
        return None
    return User(str(row["id"]), row["email"], row["password_hash"], tuple(row["roles"]), bool(row["email_verified"]))


def get_user(db: Database, user_id: str) -> User | None:
    """The account with id ``user_id`` (a UUID string), or ``None``."""
    try:
        key = uuid.UUID(str(user_id))
    except ValueError:
        return None
    with db.transaction() as cur:
        cur.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = %s", (key,))
        return _user(cur.fetchone())


@dataclass(frozen=True)
class Session:
    """A sign-in: ``id`` (UUID string, the tokens' ``sid``), ``user_id`` and
    ``expires_at`` (Unix seconds: the absolute limit of renewal)."""

    id: str
    user_id: str
    expires_at: int


def open_session(db: Database, user_id: str, max_seconds: int) -> Session:
    """A new session of ``user_id`` ending at the latest ``max_seconds`` from now."""
    session_id = uuid.uuid4()
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO sessions (id, user_id, expires_at) VALUES (%s, %s, now() + make_interval(secs => %s))"
            " RETURNING extract(epoch FROM expires_at)::bigint AS expires_at",
            (session_id, uuid.UUID(user_id), max_seconds),
        )
        row = cur.fetchone()
    assert row is not None
    return Session(str(session_id), user_id, int(row["expires_at"]))


def live_session(db: Database, session_id: str, user_id: str) -> Session | None:
    """The session if it is not revoked and within its limit, else ``None``."""
    with db.transaction() as cur:
        cur.execute(
            "SELECT extract(epoch FROM expires_at)::bigint AS expires_at FROM sessions"
            " WHERE id = %s AND user_id = %s AND revoked_at IS NULL AND expires_at > now()",
            (uuid.UUID(session_id), uuid.UUID(user_id)),
        )
        row = cur.fetchone()
    return None if row is None else Session(session_id, user_id, int(row["expires_at"]))


def revoke_session(db: Database, session_id: str, user_id: str) -> None:
    """End one session of ``user_id`` (sign-out); ending an ended one is fine."""
    with db.transaction() as cur:
        cur.execute(
            "UPDATE sessions SET revoked_at = now() WHERE id = %s AND user_id = %s AND revoked_at IS NULL",
            (uuid.UUID(session_id), uuid.UUID(user_id)),
        )


def revoke_user_sessions(cur: Cursor, user_id: str) -> None:
    """End every session of ``user_id`` (after a password reset), in ``cur``'s transaction."""
    cur.execute(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL", (uuid.UUID(user_id),)
    )


def update_password_hash(db: Database, user_id: str, password_hash: str) -> None:
    """Replace a hash, e.g. after :func:`passwords.needs_rehash`."""
    with db.transaction() as cur:
        cur.execute("UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id))
