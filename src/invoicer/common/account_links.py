"""Links with a single-use token that a person receives by mail: confirm an
e-mail address (auth), choose a new password (auth), answer an invitation
(the invoices service). What the services share: the token (random, 256
bits, URL-safe; only its SHA-256 is stored, so a database reader cannot use
one), the absolute link (built from ``PUBLIC_URL``, never from a request's
``Host``), and the mail command written into the transactional outbox
(:mod:`invoicer.common.outbox`) in the transaction that stores the token, so
that the mail goes out if and only if the token exists.

Each service stores its tokens in its own table with an expiry and a
``used_at``; a token is spent by one ``UPDATE ... WHERE used_at IS NULL AND
expires_at > now()``, so it works once, and not after its time.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from urllib.parse import urlencode

from . import outbox
from .db import Cursor
from .messages import AccountMail

__all__ = ["absolute_link", "mail_link", "new_token", "token_hash"]


def new_token() -> tuple[str, bytes]:
    """A fresh token and its hash: ``(token, sha256)``; the token (43
    URL-safe characters, 256 random bits) goes into the link only."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> bytes:
    """The SHA-256 of ``token`` (UTF-8), what is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def absolute_link(public_url: str, path: str, token: str) -> str:
    """``PUBLIC_URL`` + ``path`` + ``?token=``: the link a mail carries."""
    return f"{public_url.rstrip('/')}{path}?{urlencode({'token': token})}"


def mail_link(
    cur: Cursor,
    *,
    kind: str,
    recipient: str,
    link: str,
    expires_at: datetime,
    aggregate_type: str,
    aggregate_id: uuid.UUID | str,
    organisation_id: uuid.UUID | str | None = None,
    organisation: str | None = None,
    role: str | None = None,
    inviter: str | None = None,
    actor_id: uuid.UUID | str | None = None,
) -> uuid.UUID:
    """Write the :class:`~invoicer.common.messages.AccountMail` command for
    ``link`` to ``recipient`` into the outbox with ``cur`` (the caller's
    transaction); returns the command's id."""
    command_id = uuid.uuid4()
    message = AccountMail(
        id=str(command_id),
        kind=kind,
        recipient=recipient,
        link=link,
        expires_at=expires_at.isoformat(),
        organisation=organisation,
        role=role,
        inviter=inviter,
    )
    return outbox.send(
        cur,
        message,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        organisation_id=organisation_id,
        actor_id=actor_id,
        command_id=command_id,
    )
