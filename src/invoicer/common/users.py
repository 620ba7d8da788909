"""Who has an account, for the services that are not auth: a read-only
look-up in the ``users`` table (owned by auth, migration 0001; every service
shares the one PostgreSQL database). Services ask here rather than import
auth's code (the import contracts keep services apart)."""

from __future__ import annotations

import uuid

from .db import Cursor, Database

__all__ = ["account_exists", "email_verified"]


def account_exists(db: Database, user_id: str) -> bool:
    """True when an account with id ``user_id`` (a UUID string, a token's
    ``sub``) exists now; False for an unknown or deleted account and for an
    id that is not a UUID. Raises
    :class:`~invoicer.common.db.DatabaseUnavailable` when PostgreSQL is down."""
    try:
        key = uuid.UUID(str(user_id))
    except ValueError:
        return False
    with db.transaction() as cur:
        cur.execute("SELECT 1 FROM users WHERE id = %s", (key,))
        return cur.fetchone() is not None


def email_verified(cur: Cursor, user_id: str | uuid.UUID) -> bool:
    """True when the account ``user_id`` confirmed its e-mail address by the
    mailed link (``users.email_verified_at``, set by auth); False for an
    unverified, unknown or deleted account. Runs in the caller's
    transaction ``cur``."""
    try:
        key = uuid.UUID(str(user_id))
    except ValueError:
        return False
    cur.execute("SELECT email_verified_at IS NOT NULL AS verified FROM users WHERE id = %s", (key,))
    row = cur.fetchone()
    return bool(row and row["verified"])
