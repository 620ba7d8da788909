"""Server-side sessions (table ``sessions``, owned by auth, migration 0007):
what makes signing out real (issue 22).

Auth opens a session at every sign-in and puts its id into each token it
issues for it (claim ``sid``, :mod:`invoicer.common.tokens`). Signing out,
or a password reset, revokes the session, and every service that checks a
token refuses its tokens at once instead of at their expiry. A session also
has an absolute limit (``SESSION_MAX_SECONDS``): the web app renews its
short-lived token while the person is active, never past it.

This module is the read side the services share (the gateway, the invoices
service), like :mod:`invoicer.common.users`; auth writes the rows.
"""

from __future__ import annotations

import uuid

from .db import Database
from .tokens import Claims

__all__ = ["session_active"]


def session_active(db: Database, claims: Claims) -> bool:
    """True when the token of ``claims`` may still be used: its session
    (``sid``) exists, is not revoked and is within its absolute limit.
    A token without ``sid`` is not checked here: auth issues none since
    sessions exist (migration 0007), so only a holder of ``JWT_SECRET`` can
    make one (the operator's tools, the tests), and it lives until its
    ``exp``. Raises :class:`~invoicer.common.db.DatabaseUnavailable`."""
    if claims.session_id is None:
        return True
    with db.transaction() as cur:
        cur.execute(
            "SELECT 1 FROM sessions WHERE id = %s AND user_id = %s AND revoked_at IS NULL AND expires_at > now()",
            (uuid.UUID(claims.session_id), uuid.UUID(claims.sub)),
        )
        return cur.fetchone() is not None
