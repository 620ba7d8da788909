"""From a domain event to webhook deliveries: the handler of the webhook
consumer's queue (pure of pika: ``handler(body, correlation_id) -> Done``).

For an event of a type endpoints may subscribe to, one ``webhook_deliveries``
row per enabled endpoint of the event's organisation that subscribed to the
type, due now. The row holds the body exactly as it will be signed and sent::

    {
        "id": "<event id>",
        "type": "invoice.paid",
        "timestamp": "<occurred_at, ISO 8601>",
        "organisation_id": "...",
        "data": {...},
    }

(the Standard Webhooks payload structure: ``type``, ``timestamp``, ``data``).
``(endpoint_id, event_id)`` is unique, so an event delivered twice by the
broker (at least once) makes no second delivery. PostgreSQL down is
:class:`~invoicer.common.amqp.Transient` (retried by the queue's policy); a
body that is not a domain event is :class:`~invoicer.common.amqp.Permanent`.
"""

from __future__ import annotations

import json

from ..common import logging as logs
from ..common.amqp import Done, Permanent, Transient
from ..common.db import Database, DatabaseUnavailable
from ..common.messages import DomainEvent, MalformedMessage
from ..common.webhooks import EVENT_TYPES

__all__ = ["EventRecorder", "delivery_body"]

log = logs.get_logger(__name__)


def delivery_body(event: DomainEvent) -> str:
    """The JSON text every endpoint receives for ``event`` (see the module's docstring)."""
    return json.dumps(
        {
            "id": event.id,
            "type": event.type,
            "timestamp": event.occurred_at,
            "organisation_id": event.organisation_id,
            "data": event.data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


class EventRecorder:
    """The queue's handler: records the deliveries of one event in ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __call__(self, body: bytes, correlation_id: str | None) -> Done:
        """Record the event's deliveries; returns :class:`Done` (also for a
        type no endpoint may subscribe to). Raises Permanent / Transient."""
        try:
            event = DomainEvent.from_bytes(body)
        except MalformedMessage as exc:
            raise Permanent("malformed_message", str(exc)) from None
        if event.type not in EVENT_TYPES:
            return Done()
        try:
            with self.db.transaction() as cur:
                cur.execute(
                    "INSERT INTO webhook_deliveries (organisation_id, endpoint_id, event_id, event_type, body)"
                    " SELECT organisation_id, id, %s, %s, %s FROM webhook_endpoints"
                    " WHERE organisation_id = %s AND enabled AND %s = ANY(events)"
                    " ON CONFLICT (endpoint_id, event_id) DO NOTHING",
                    (event.id, event.type, delivery_body(event), event.organisation_id, event.type),
                )
                recorded = cur.rowcount
        except DatabaseUnavailable as exc:
            raise Transient(f"database unavailable: {exc}", code="database_unavailable") from exc
        if recorded:
            log.info("webhook deliveries recorded", extra={"event_id": event.id, "type": event.type, "count": recorded})
        return Done()
