"""The outbox relay: committed outbox rows (:mod:`invoicer.common.outbox`)
from PostgreSQL to RabbitMQ, for every service that writes to the outbox.

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
:func:`invoicer.common.outbox.command`) share the same order, claim and
mark; each goes to the work exchange ``<AMQP_PREFIX>`` (direct, the one the
worker and notification queues are bound to) with routing key = the row's
``type`` (``invoice.render``, ``invoice.mail``), its ``payload`` as the body
(a message of :mod:`invoicer.common.messages`, re-encoded by its class so the
bytes are the message's own; see :func:`command_message`), ``message_id`` and
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

Origin: a row's ``request_id`` goes out as the header ``x-request-id`` and
its ``traceparent`` as ``traceparent``; with tracing on, the publish is a
producer span (``invoice.render send``) in the row's trace, and the
message's ``traceparent`` names that span instead.

Latency: when a round finds less than a batch, the relay waits for the
next one on a PostgreSQL ``LISTEN`` of :data:`~invoicer.common.outbox.CHANNEL`
(every outbox insert NOTIFYs it, delivered at commit), so a committed row is
published at once; ``idle_seconds`` bounds the wait, a poll that also
covers a lost listening connection. The pika connection's heartbeats are
serviced after every wait.

Run it as ``invoicer outbox-relay`` or ``python -m invoicer.common.relay``
(settings ``DATABASE_URL``, ``AMQP_URL``, ``AMQP_PREFIX``, ``HEALTH_PORT``);
it stops after the batch in hand on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import select
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pika
import pika.exceptions
import psycopg2
import psycopg2.extensions
from opentelemetry import context as otel_context
from pika.adapters.blocking_connection import BlockingChannel

from . import logging as logs
from . import metrics, tracing
from .amqp import CONNECTION_ERRORS, REQUEST_ID_HEADER, BrokerUnavailable, Topology, connect, properties
from .config import Settings
from .consumer_main import Liveness, serve_health
from .db import Database, DatabaseUnavailable
from .messages import BY_ROUTING_KEY, DomainEvent, MalformedMessage
from .outbox import CHANNEL

__all__ = ["Relay", "command_message", "event_message", "events_exchange", "main"]

log = logs.get_logger(__name__)


def events_exchange(prefix: str) -> str:
    """The topic exchange the events go to: ``<prefix>.events``."""
    return f"{prefix}.events"


def _origin_headers(row: dict[str, Any]) -> dict[str, str]:
    """The AMQP headers that say where a row came from: its request id and traceparent."""
    headers = {}
    if row.get("request_id"):
        headers[REQUEST_ID_HEADER] = row["request_id"]
    if row.get("traceparent"):
        headers[tracing.TRACEPARENT] = row["traceparent"]
    return headers


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
    props = properties(event_id, _origin_headers(row))
    props.message_id = event_id
    props.type = row["type"]
    props.timestamp = int(row["occurred_at"].timestamp())
    return body, props


def command_message(row: dict[str, Any]) -> tuple[bytes, pika.BasicProperties]:
    """The body and properties of the message for one command row."""
    command_id = str(row["id"])
    body = json.dumps(row["payload"], separators=(",", ":")).encode()
    kind = BY_ROUTING_KEY.get(row["type"])
    if kind is not None:
        # jsonb keeps no key order: the message's own encoding, byte for byte.
        # One that does not decode goes out as it is; its consumer dead-letters it.
        with contextlib.suppress(MalformedMessage):
            body = kind.from_bytes(body).to_bytes()
    props = properties(command_id, _origin_headers(row))
    props.message_id = command_id
    props.type = row["type"]
    return body, props


@contextlib.contextmanager
def _origin(row: dict[str, Any]) -> Iterator[None]:
    """The row's request id as the logging one, and its traceparent's
    context as the current one (tracing on), for the block."""
    token = logs.request_id.set(row.get("request_id"))
    try:
        parent = tracing.extract(row)
        if parent is None:
            yield
            return
        attached = otel_context.attach(parent)
        try:
            yield
        finally:
            otel_context.detach(attached)
    finally:
        logs.request_id.reset(token)


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
        self._channel: BlockingChannel | None = None
        self._listener: psycopg2.extensions.connection | None = None
        self._stop = threading.Event()

    def _open(self) -> BlockingChannel:
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
            tracing.instrument_channel(channel)
            self._channel = channel
        return self._channel

    def publish_batch(self) -> int:
        """One round: claim, publish, mark, commit. Returns how many events
        were published. Raises :class:`BrokerUnavailable` after committing
        the events confirmed before the broker failed, and
        :class:`DatabaseUnavailable` if PostgreSQL is gone (nothing marked;
        the events go out again)."""
        channel = self._open()
        confirmed: list[uuid.UUID] = []
        failure: Exception | None = None
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT id, kind, organisation_id, type, payload, actor_id, actor_email, occurred_at, traceparent,"
                " request_id FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED",
                (self.batch_size,),
            )
            for row in cur.fetchall():
                try:
                    # Logged and traced as part of the request that wrote the row.
                    with _origin(row):
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

    def _listen(self) -> psycopg2.extensions.connection | None:
        """The connection LISTENing on :data:`CHANNEL` (opened on first use,
        autocommit); None while PostgreSQL cannot be reached (the relay
        polls then)."""
        if self._listener is None or self._listener.closed:
            try:
                listener = psycopg2.connect(self.db.dsn, connect_timeout=self.db.connect_timeout)
                listener.set_session(autocommit=True)
                with listener.cursor() as cur:
                    cur.execute(f"LISTEN {CHANNEL}")
            except psycopg2.Error as exc:
                log.warning("outbox relay cannot listen; polling", extra={"error": repr(exc)})
                return None
            self._listener = listener
        return self._listener

    def _pause(self, seconds: float) -> None:
        """Wait until an outbox insert commits (a notification on
        :data:`CHANNEL`), :meth:`stop`, or ``seconds`` pass, whichever comes
        first; then service the broker connection's heartbeats."""
        deadline = time.monotonic() + seconds
        listener = self._listen()
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if listener is None:
                self._stop.wait(min(remaining, 0.2))
                continue
            try:
                if not listener.notifies:
                    ready, _, _ = select.select([listener], [], [], min(remaining, 0.2))
                    if ready:
                        listener.poll()
                if listener.notifies:
                    listener.notifies.clear()
                    break
            except (psycopg2.Error, OSError, ValueError) as exc:  # the listening connection broke
                log.warning("outbox relay lost its listening connection", extra={"error": repr(exc)})
                self._close_listener()
                listener = None
        if self._connection is not None and self._connection.is_open:
            self._connection.process_data_events(0)

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail in any way
                listener.close()

    def run(self) -> None:
        """Publish until :meth:`stop`; a broker or database outage is waited
        out with backoff (0.5 s doubling to 10 s). An outage is one warning
        (``outbox relay cannot publish; retrying``), the attempts after it
        DEBUG lines, and the first round that succeeds again one line
        (``outbox relay recovered``, with ``outage_s``)."""
        delay = 0.5
        lost_at: float | None = None
        while not self._stop.is_set():
            try:
                published = self.publish_batch()
                delay = 0.5
                if lost_at is not None:
                    log.info("outbox relay recovered", extra={"outage_s": round(time.monotonic() - lost_at, 1)})
                    lost_at = None
                if published < self.batch_size:
                    self._pause(self.idle_seconds)
            except (BrokerUnavailable, DatabaseUnavailable, *CONNECTION_ERRORS) as exc:
                if lost_at is None:
                    lost_at = time.monotonic()
                    log.warning("outbox relay cannot publish; retrying", extra={"error": repr(exc)})
                else:
                    log.debug("outbox relay still cannot publish", extra={"error": repr(exc), "delay_s": delay})
                self.close()
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
        self.close()
        self._close_listener()

    def stop(self) -> None:
        """Make :meth:`run` return after the batch in hand."""
        self._stop.set()

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(Exception):  # closing a broken connection may fail in any way
                connection.close()


class Backlog:
    """The outbox's backlog, ``invoicer_outbox_backlog`` (unpublished rows)
    and ``invoicer_outbox_oldest_age_seconds`` (seconds since the oldest of
    them occurred, 0 when none), read from ``db`` when scraped
    (:meth:`install`), at most once per ``max_age`` seconds. While
    PostgreSQL does not answer both are NaN (a scrape never fails for it)."""

    def __init__(self, db: Database, max_age: float = 1.0) -> None:
        self.db = db
        self.max_age = max_age
        self._read_at = float("-inf")
        self._values = (float("nan"), float("nan"))
        self._lock = threading.Lock()

    def read(self) -> tuple[float, float]:
        """``(rows, oldest age in seconds)``."""
        with self._lock:
            if time.monotonic() - self._read_at >= self.max_age:
                try:
                    with self.db.transaction() as cur:
                        cur.execute(
                            "SELECT count(*) AS backlog, coalesce(extract(epoch FROM clock_timestamp()"
                            " - min(occurred_at)), 0) AS age FROM outbox WHERE published_at IS NULL"
                        )
                        row = cur.fetchone()
                    self._values = (float(row["backlog"]), float(row["age"])) if row else (0.0, 0.0)
                except DatabaseUnavailable:
                    self._values = (float("nan"), float("nan"))
                self._read_at = time.monotonic()
            return self._values

    def install(self) -> None:
        """Report :meth:`read` in this process's metrics (an
        :class:`~invoicer.common.metrics.OutboxCollector`)."""
        metrics.register_collector(metrics.OutboxCollector(self.read))


def main(batch_size: int = 100, idle_seconds: float = 0.5) -> int:
    """Run the relay until SIGTERM/SIGINT, configured from the environment
    (the ``outbox-relay`` component's factory). With ``HEALTH_PORT``,
    ``GET /healthz`` answers 503 once no round has finished for two minutes
    (the relay is stuck), as the consumers' does, and ``GET /metrics``
    (with the outbox's backlog, :class:`Backlog`)."""
    settings = Settings.from_env()
    logs.configure("outbox-relay", settings.log_level)
    # No PostgreSQL spans: the relay's polls would each be a trace of their own.
    tracing.setup("outbox-relay", settings, database=False)
    liveness = Liveness("outbox")

    class _WatchedRelay(Relay):
        def publish_batch(self) -> int:
            published = super().publish_batch()
            liveness.beat()
            return published

    relay = _WatchedRelay(
        Database(settings.database_url),
        settings.amqp_url,
        settings.amqp_prefix,
        batch_size=batch_size,
        idle_seconds=idle_seconds,
        topology=Topology.from_settings(settings),
    )

    def _stop(signum: int, _frame: object) -> None:
        log.info("stopping", extra={"signal": signum})
        relay.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if settings.health_port:
        Backlog(relay.db).install()
        serve_health(settings.health_port, [liveness])
    log.info("started", extra={"exchange": relay.exchange, "batch_size": batch_size})
    relay.run()
    tracing.shutdown()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m invoicer.common.relay", description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=100, help="rows claimed per transaction (default 100)")
    parser.add_argument("--idle-seconds", type=float, default=0.5, help="longest pause when idle (default 0.5)")
    arguments = parser.parse_args()
    raise SystemExit(main(arguments.batch_size, arguments.idle_seconds))
