"""Domain events: written to the outbox (:mod:`invoicer.common.outbox`, the
infrastructure every service shares) in the transaction of the change they
describe, published later by :mod:`invoicer.common.relay`. This module adds
what is the invoices service's own: the member making the change and the
activity log.

An event row is ``(id, organisation_id, aggregate_type, aggregate_id, type,
payload, actor_id, actor_email, occurred_at)``. Types in use:
``organisation.created``, ``organisation.updated``, ``member.invited``,
``member.joined``, ``client.created``, ``client.updated``, ``client.archived``,
``invoice.created``, ``invoice.updated``, ``invoice.deleted``,
``invoice.issued``, ``invoice.sent``, ``payment.recorded``, ``invoice.paid``,
``credit_note.issued``, ``order.created``, ``order.invoiced``. Every event
about an invoice carries ``invoice_id`` in its payload, which is how
:func:`activity` finds them.

The outbox also carries commands (``kind = 'command'``, :func:`command`):
messages for another service that must go out if and only if the change
that asks for them commits, e.g. the render request of an issued invoice.
The relay publishes them to the work exchange with routing key ``type``;
they are not events and the activity log leaves them out.
"""

from __future__ import annotations

import uuid
from typing import Any

from invoicer.common import outbox
from invoicer.common.db import Cursor

from ._sql import as_uuid
from .errors import NotFound
from .principals import Member

__all__ = ["activity", "command", "record"]


def record(
    cur: Cursor, member: Member, aggregate_type: str, aggregate_id: uuid.UUID, type_: str, payload: dict[str, Any]
) -> uuid.UUID:
    """Insert one event into the outbox (same transaction as ``cur``) as
    ``member`` did it; returns its id (:func:`invoicer.common.outbox.record`)."""
    return outbox.record(
        cur,
        organisation_id=member.organisation_id,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        type_=type_,
        payload=payload,
        actor_id=member.actor.user_id,
        actor_email=member.actor.email,
    )


def command(
    cur: Cursor,
    member: Member,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    routing_key: str,
    body: dict[str, Any],
    *,
    command_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Insert one command into the outbox (same transaction as ``cur``) on
    ``member``'s behalf: the relay publishes ``body`` to the work exchange
    with ``routing_key`` (:func:`invoicer.common.outbox.command`). Returns
    its id."""
    return outbox.command(
        cur,
        routing_key,
        body,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        organisation_id=member.organisation_id,
        actor_id=member.actor.user_id,
        actor_email=member.actor.email,
        command_id=command_id,
    )


def activity(cur: Cursor, member: Member, invoice_id: Any) -> list[dict[str, Any]]:
    """The events of one invoice or credit note, in the order they happened:
    ``[{"id", "type", "actor": {"id", "email"}, "occurred_at", "data"}]``.
    Includes payments on it and credit notes correcting it. Raises
    :class:`NotFound` if the member's organisation has no such invoice."""
    key = as_uuid(invoice_id)
    cur.execute("SELECT 1 FROM invoices WHERE id = %s AND organisation_id = %s", (key, member.organisation_id))
    if key is None or cur.fetchone() is None:
        raise NotFound("no such invoice", code="invoice_not_found")
    cur.execute(
        "SELECT id, type, actor_id, actor_email, occurred_at, payload FROM outbox"
        " WHERE organisation_id = %s AND kind = 'event'"
        " AND (aggregate_id = %s OR payload ->> 'invoice_id' = %s)"
        " ORDER BY seq",
        (member.organisation_id, key, str(key)),
    )
    return [
        {
            "id": row["id"],
            "type": row["type"],
            "actor": {"id": row["actor_id"], "email": row["actor_email"]},
            "occurred_at": row["occurred_at"],
            "data": row["payload"],
        }
        for row in cur.fetchall()
    ]
