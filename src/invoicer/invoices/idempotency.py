"""Idempotency keys: a retried request gets the first response, not a second effect.

A client sends ``Idempotency-Key: <key>`` with a write (IETF draft
"The Idempotency-Key HTTP Header Field"). :func:`idempotent` runs the action
and stores its response under ``(user, key)`` in the SAME transaction as the
action's changes, so the two commit or roll back together: a retry with the
same key and the same request fingerprint replays the stored response; the
same key with another request is :class:`Conflict` (``idempotency_key_reused``).
A concurrent retry waits on the first request's row lock and then replays.
An action that raises stores nothing (the whole transaction rolls back), so
the client may retry after fixing its request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from invoicer.common.db import Cursor, one_row

from ._sql import jsonb
from .errors import Conflict, Unprocessable
from .identity import Actor

__all__ = ["Replayable", "fingerprint", "idempotent"]

#: ``(status, body)``: the HTTP status and JSON body of a response.
Replayable = tuple[int, Any]


def fingerprint(method: str, path: str, body: bytes) -> str:
    """``METHOD path sha256(body)``: what makes two requests "the same"."""
    return f"{method.upper()} {path} {hashlib.sha256(body).hexdigest()}"


def idempotent(
    cur: Cursor, actor: Actor, key: str, request_fingerprint: str, action: Callable[[], Replayable]
) -> tuple[Replayable, bool]:
    """Run ``action`` once per ``(actor, key)``.

    Returns ``((status, body), replayed)``: ``replayed`` is True when the
    response is the stored one of an earlier request. ``body`` must be JSON
    serialisable (Decimals and dates become strings when stored, so a replay
    returns them as strings). Raises :class:`Conflict`
    (``idempotency_key_reused``) when the key was used for another request,
    :class:`Unprocessable` (``invalid_idempotency_key``) for a key that is
    empty or longer than 255 characters.
    """
    if not isinstance(key, str) or not 0 < len(key) <= 255:
        raise Unprocessable("the Idempotency-Key must be 1 to 255 characters", code="invalid_idempotency_key")
    cur.execute(
        "INSERT INTO idempotency_keys (user_id, key, fingerprint, status) VALUES (%s, %s, %s, 0)"
        " ON CONFLICT DO NOTHING RETURNING key",
        (actor.user_id, key, request_fingerprint),
    )
    if cur.fetchone() is None:
        cur.execute(
            "SELECT fingerprint, status, response FROM idempotency_keys WHERE user_id = %s AND key = %s",
            (actor.user_id, key),
        )
        stored = one_row(cur)  # the insert above found it there
        if stored["fingerprint"] != request_fingerprint:
            raise Conflict("this Idempotency-Key was used for a different request", code="idempotency_key_reused")
        return (stored["status"], stored["response"]), True
    status, body = action()
    cur.execute(
        "UPDATE idempotency_keys SET status = %s, response = %s WHERE user_id = %s AND key = %s",
        (status, jsonb(body), actor.user_id, key),
    )
    return (status, body), False
