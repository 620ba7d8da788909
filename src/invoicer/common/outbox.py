"""The transactional outbox: a message written in the transaction of the
change it belongs to, published later by :mod:`invoicer.common.relay`.

Any service that must send a message if and only if its change commits
writes it here with the cursor of its own transaction instead of publishing
to RabbitMQ itself (no dual write: a crash between the commit and the
publish cannot lose it, a rollback cannot send it). The table (``outbox``,
:mod:`invoicer.common.migrations`) holds two kinds of rows:

* events (:func:`record`): a change of records, published to the topic
  exchange ``<AMQP_PREFIX>.events`` with routing key = the event type, as a
  :class:`~invoicer.common.messages.DomainEvent`;
* commands (:func:`command`, :func:`send`): a message for a consumer,
  published to the work exchange ``<AMQP_PREFIX>`` with routing key = its
  queue's (``invoice.render``, ``invoice.mail``), the message's JSON as the
  body, ``mandatory`` (a command no queue takes stays unpublished).

A row is ``(id, seq, kind, organisation_id, aggregate_type, aggregate_id,
type, payload, actor_id, actor_email, occurred_at, published_at,
traceparent, request_id)``; ``id`` is the AMQP ``message_id`` consumers
deduplicate on (delivery is at least once). ``traceparent`` (W3C Trace
Context, of the span current when the row was written; null with tracing
off) and ``request_id`` (the ``X-Request-ID`` being served; null outside a
request) are taken from the writer's context, so a message continues the
trace and the logs of the request that caused it. Every insert NOTIFYs the channel :data:`CHANNEL` from a trigger, in
the writer's transaction: PostgreSQL delivers it at commit, which wakes the
relay at once instead of at its next poll.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from . import logging as logs
from . import tracing
from .amqp import Message
from .db import Cursor, jsonb, one_row

__all__ = ["CHANNEL", "command", "jsonb", "record", "send"]

#: The PostgreSQL notification channel every outbox insert notifies (the
#: ``outbox_notify`` trigger of migration 0001) and the relay LISTENs on.
CHANNEL = "invoicer_outbox"


def _origin() -> tuple[str | None, str | None]:
    """``(traceparent, request id)`` of the work in hand, for a new row."""
    return tracing.traceparent(), logs.request_id.get()


def record(
    cur: Cursor,
    *,
    organisation_id: uuid.UUID | str,
    aggregate_type: str,
    aggregate_id: uuid.UUID | str,
    type_: str,
    payload: dict[str, Any],
    actor_id: uuid.UUID | str | None,
    actor_email: str | None,
) -> uuid.UUID:
    """Insert one event (``type_``, e.g. ``invoice.issued``, with the facts
    ``payload``) into the outbox with ``cur`` (the caller's transaction);
    returns its id."""
    cur.execute(
        "INSERT INTO outbox (organisation_id, aggregate_type, aggregate_id, type, payload, actor_id, actor_email,"
        " traceparent, request_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            organisation_id,
            aggregate_type,
            aggregate_id,
            type_,
            jsonb(payload),
            actor_id,
            actor_email,
            *_origin(),
        ),
    )
    event_id: uuid.UUID = one_row(cur)["id"]
    return event_id


def command(
    cur: Cursor,
    routing_key: str,
    body: dict[str, Any],
    *,
    aggregate_type: str,
    aggregate_id: uuid.UUID | str,
    organisation_id: uuid.UUID | str | None = None,
    actor_id: uuid.UUID | str | None = None,
    actor_email: str | None = None,
    command_id: uuid.UUID | str | None = None,
) -> uuid.UUID:
    """Insert one command into the outbox with ``cur`` (the caller's
    transaction): the relay publishes ``body`` (a message of
    :mod:`invoicer.common.messages` as its JSON object, ``version``
    included) to the work exchange with ``routing_key``, ``message_id`` and
    correlation id = the command's id (``command_id`` if given, else a new
    one). ``organisation_id`` may be None (an upload belongs to a user, not
    an organisation). Returns the id."""
    cur.execute(
        "INSERT INTO outbox (id, kind, organisation_id, aggregate_type, aggregate_id, type, payload,"
        " actor_id, actor_email, traceparent, request_id)"
        " VALUES (%s, 'command', %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            command_id or uuid.uuid4(),
            organisation_id,
            aggregate_type,
            aggregate_id,
            routing_key,
            jsonb(body),
            actor_id,
            actor_email,
            *_origin(),
        ),
    )
    command_id_: uuid.UUID = one_row(cur)["id"]
    return command_id_


def send(
    cur: Cursor,
    message: Message,
    *,
    aggregate_type: str,
    aggregate_id: uuid.UUID | str,
    organisation_id: uuid.UUID | str | None = None,
    actor_id: uuid.UUID | str | None = None,
    actor_email: str | None = None,
    command_id: uuid.UUID | str | None = None,
) -> uuid.UUID:
    """:func:`command` for a message of :mod:`invoicer.common.messages`: its
    ``ROUTING_KEY`` and its wire JSON. jsonb keeps no key order; the relay
    publishes the message's own ``to_bytes()`` again (see
    :func:`invoicer.common.relay.command_message`), byte for byte what a
    direct publish would have sent."""
    return command(
        cur,
        message.ROUTING_KEY,
        json.loads(message.to_bytes()),
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        organisation_id=organisation_id,
        actor_id=actor_id,
        actor_email=actor_email,
        command_id=command_id,
    )
