"""Accounts in PostgreSQL (table ``users``, migration 0001)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg2.errors

from ..common.db import Database
from ..common.errors import Conflict

__all__ = ["EmailTaken", "User", "create_user", "find_user", "update_password_hash"]


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


def create_user(db: Database, email: str, password_hash: str, roles: list[str]) -> User:
    """Insert an account; raises :class:`EmailTaken`."""
    user_id = uuid.uuid4()
    try:
        with db.transaction() as cur:
            cur.execute(
                "INSERT INTO users (id, email, password_hash, roles) VALUES (%s, %s, %s, %s)",
                (user_id, email, password_hash, list(roles)),
            )
    except psycopg2.errors.UniqueViolation:
        raise EmailTaken(email) from None
    return User(str(user_id), email, password_hash, tuple(roles))


def find_user(db: Database, email: str) -> User | None:
    """The account for ``email`` (case-insensitive), or ``None``."""
    with db.transaction() as cur:
        cur.execute(
            "SELECT id, email, password_hash, roles FROM users WHERE lower(email) = lower(%s)",
            (email,),
        )
        row = cur.fetchone()
    if row is None:
        return None
    return User(str(row["id"]), row["email"], row["password_hash"], tuple(row["roles"]))


def update_password_hash(db: Database, user_id: str, password_hash: str) -> None:
    """Replace a hash, e.g. after :func:`passwords.needs_rehash`."""
    with db.transaction() as cur:
        cur.execute("UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id))
