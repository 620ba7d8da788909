"""The outbox relay: committed domain events from PostgreSQL to RabbitMQ.

Each round claims up to ``batch_size`` unpublished outbox rows in ``seq``
order with ``FOR UPDATE SKIP LOCKED`` (several relays share the work without
waiting on each other), publishes each to the durable topic exchange
``<AMQP_PREFIX>.events`` with routing key = event type, persistent, under
publisher confirms, with ``message_id`` = event id, and marks the confirmed
rows published in the same transaction before committing. The JSON body is::

    {
        "version": 1,
        "id": "<event uuid>",
        "type": "invoice.issued",
        "occurred_at": "2026-03-10T09:30:00.123+00:00",
        "organisation_id": "...",
        "actor": {"id": "...", "email": "..."},
        "data": {...},
    }

Commands (outbox rows of kind ``command``, see
:func:`invoicer.invoices.events.command`) share the same order, claim and
mark; each goes to the work exchange ``<AMQP_PREFIX>`` (direct, the one the
worker and notification queues are bound to) with routing key = the row's
``type`` (``invoice.render``, ``invoice.mail``), its ``payload`` as the body
(a message of :mod:`invoicer.common.messages`), ``message_id`` and
correlation id = the command's id, and ``mandatory``: a command no queue
takes is not marked, so it goes out once its consumer has declared its
queue. The relay declares the work topology itself (``Topology``, the same
arguments as every process) when it is given one.

Guarantees: an event is never lost (a row stays unpublished until the broker
confirmed it and the mark committed) and never published for a change that
rolled back (it only ever exists in a committed row). At least once, not
exactly once: a relay killed between a confirm and its commit publishes
those events again, so consumers drop duplicates by ``id`` / ``message_id``.
Order is kept per aggregate (its changes lock the aggregate's row, so their
events commit in ``seq`` order), not across aggregates.

Run it as ``python -m invoicer.invoices.relay`` (settings ``DATABASE_URL``,
``AMQP_URL``, ``AMQP_PREFIX``); it stops after the batch in hand on SIGTERM
or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from typing import Any

import pika
import pika.exceptions

from invoicer.common import logging as logs
from invoicer.common.amqp import CONNECTION_ERRORS, BrokerUnavailable, Topology, connect, properties
from invoicer.common.config import Settings
from invoicer.common.db import Database, DatabaseUnavailable
from invoicer.common.messages import DomainEvent

__all__ = ["Relay", "command_message", "event_message", "events_exchange", "main"]

log = logs.get_logger(__name__)


def events_exchange(prefix: str) -> str:
    """The topic exchange the events go to: ``<prefix>.events``."""
    return f"{prefix}.events"


def event_message(row: dict[str, Any]) -> tuple[bytes, pika.BasicProperties]:
    """The body and properties of the message for one outbox row."""
    event_id = str(row["id"])
    body = DomainEvent(
        id=event_id,
        type=row["type"],
        occurred_at=row["occurred_at"].isoformat(),
        organisation_id=str(row["organisation_id"]),
        actor={"id": str(row["actor_id"]) if row["actor_id"] else None, "email": row["actor_email"]},
        data=row["payload"],
    ).to_bytes()
    props = properties(event_id)
    props.message_id = event_id
    props.type = row["type"]
    props.timestamp = int(row["occurred_at"].timestamp())
    return body, props


def command_message(row: dict[str, Any]) -> tuple[bytes, pika.BasicProperties]:
    """The body and properties of the message for one command row."""
    command_id = str(row["id"])
    body = json.dumps(row["payload"], separators=(",", ":")).encode()
    props = properties(command_id)
    props.message_id = command_id
    props.type = row["type"]
    return body, props


class Relay:
    """Publishes the outbox of ``db`` to ``<prefix>.events`` on ``amqp_url``.

    ``batch_size``: rows claimed per transaction; ``idle_seconds``: pause
    when a round found nothing to publish. ``topology``: the work
    exchange's topology, declared on connecting (default: the exchange
    ``prefix`` only). Not thread-safe (one pika
    connection); run several processes to share the load.
    """

    def __init__(
        self,
        db: Database,
        amqp_url: str,
        prefix: str,
        *,
        batch_size: int = 100,
        idle_seconds: float = 0.5,
        topology: Topology | None = None,
    ) -> None:
        self.db = db
        self.amqp_url = amqp_url
        self.exchange = events_exchange(prefix)
        self.topology = topology
        self.work_exchange = topology.exchange if topology is not None else prefix
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self._connection: pika.BlockingConnection | None = None
        self._channel = None
        self._stop = threading.Event()

    def _open(self):
        if self._channel is None or not self._channel.is_open:
            self.close()
            self._connection = connect(self.amqp_url)
            channel = self._connection.channel()
            channel.confirm_delivery()
            channel.exchange_declare(self.exchange, "topic", durable=True)
            if self.topology is not None:
                self.topology.declare(channel)
            else:
                channel.exchange_declare(self.work_exchange, "direct", durable=True)
            self._channel = channel
        return self._channel

    def publish_batch(self) -> int:
        """One round: claim, publish, mark, commit. Returns how many events
        were published. Raises :class:`BrokerUnavailable` after committing
        the events confirmed before the broker failed, and
        :class:`DatabaseUnavailable` if PostgreSQL is gone (nothing marked;
        the events go out again)."""
        channel = self._open()
        confirmed: list = []
        failure: Exception | None = None
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT id, kind, organisation_id, type, payload, actor_id, actor_email, occurred_at FROM outbox"
                " WHERE published_at IS NULL ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED",
                (self.batch_size,),
            )
            for row in cur.fetchall():
                try:
                    if row["kind"] == "command":
                        # Mandatory: a command must reach its consumer's queue.
                        body, props = command_message(row)
                        channel.basic_publish(self.work_exchange, row["type"], body, props, mandatory=True)
                    else:
                        # Not mandatory: an event nobody subscribed to is still published.
                        body, props = event_message(row)
                        channel.basic_publish(self.exchange, row["type"], body, props)
                except (pika.exceptions.NackError, pika.exceptions.UnroutableError, *CONNECTION_ERRORS) as exc:
                    failure = exc
                    break
                confirmed.append(row["id"])
            if confirmed:
                cur.execute("UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY(%s)", (confirmed,))
        if failure is not None:
            self.close()
            raise BrokerUnavailable(f"publishing an event failed: {failure!r}") from failure
        return len(confirmed)

    def _pause(self, seconds: float) -> None:
        """Wait, servicing the connection's heartbeats; returns early on stop."""
        if self._connection is not None and self._connection.is_open:
            step = min(seconds, 0.2)
            waited = 0.0
            while waited < seconds and not self._stop.is_set():
                self._connection.sleep(step)
                waited += step
        else:
            self._stop.wait(seconds)

    def run(self) -> None:
        """Publish until :meth:`stop`; a broker or database outage is waited
        out with backoff (0.5 s doubling to 10 s)."""
        delay = 0.5
        while not self._stop.is_set():
            try:
                published = self.publish_batch()
                delay = 0.5
                if published < self.batch_size:
                    self._pause(self.idle_seconds)
            except (BrokerUnavailable, DatabaseUnavailable, *CONNECTION_ERRORS) as exc:
                log.warning("outbox relay cannot publish; retrying", extra={"error": repr(exc), "delay_s": delay})
                self.close()
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
        self.close()

    def stop(self) -> None:
        """Make :meth:`run` return after the batch in hand."""
        self._stop.set()

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass


def main(argv: list[str] | None = None) -> int:
    """Run the relay until SIGTERM/SIGINT, configured from the environment."""
    parser = argparse.ArgumentParser(prog="invoicer outbox-relay", description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=100, help="events claimed per transaction (default 100)")
    parser.add_argument("--idle-seconds", type=float, default=0.5, help="pause when idle (default 0.5)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    logs.configure("outbox-relay", settings.log_level)
    relay = Relay(
        Database(settings.database_url),
        settings.amqp_url,
        settings.amqp_prefix,
        batch_size=args.batch_size,
        idle_seconds=args.idle_seconds,
        topology=Topology.from_settings(settings),
    )

    def _stop(signum, _frame):
        log.info("stopping", extra={"signal": signum})
        relay.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("started", extra={"exchange": relay.exchange, "batch_size": args.batch_size})
    relay.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
