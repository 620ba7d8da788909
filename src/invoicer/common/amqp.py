"""RabbitMQ topology, a confirming publisher and the consumer loop (pika).

Topology, for a prefix ``P`` (``AMQP_PREFIX``) and each routing key ``K``
(``invoice.render``, ``invoice.ready``)::

    exchange P        (direct, durable)  --K-->            queue P.K
    queue P.K         dead-letters to    exchange P.dlx --K--> queue P.K.dead
    exchange P.retry  --K.<ms>-->        queue P.K.retry.<ms>  (x-message-ttl <ms>)
    queue P.K.retry.<ms> dead-letters back to exchange P with routing key K

A transient failure is retried by publishing the message to the retry queue
whose TTL is the backoff delay (one queue per delay, so no message waits
behind a longer one); when the TTL runs out the broker routes it back to the
work queue. A message that can never succeed is rejected without requeue and
so dead-lettered to ``P.K.dead``.

Messages are persistent JSON with ``version`` and a correlation id, published
with publisher confirms and ``mandatory`` so that an unroutable or nacked
message raises instead of vanishing. Consumers ack manually with a prefetch.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from . import logging as logs

__all__ = [
    "BrokerUnavailable",
    "Consumer",
    "DeadLetter",
    "Done",
    "Outcome",
    "Publisher",
    "Retry",
    "Topology",
    "READY",
    "RENDER",
]

log = logs.get_logger(__name__)

RENDER = "invoice.render"
READY = "invoice.ready"

#: Errors that mean "the broker connection or channel is gone".
CONNECTION_ERRORS = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.AMQPChannelError,
    pika.exceptions.StreamLostError,
    pika.exceptions.ConnectionWrongStateError,
    pika.exceptions.ChannelWrongStateError,
    ConnectionError,
    OSError,
)


class BrokerUnavailable(RuntimeError):
    """The message could not be handed to the broker (down, unroutable or
    nacked). Nothing was queued; the caller decides what to tell its client."""


@dataclass(frozen=True)
class Topology:
    """Names of the exchanges and queues for ``prefix``, and the retry
    schedule (``retry_delays_ms``: delay before retry 1, 2, ...; retries past
    the end reuse the last delay)."""

    prefix: str = "invoicer"
    retry_delays_ms: tuple[int, ...] = (1000, 4000, 16000, 60000, 300000)

    @property
    def exchange(self) -> str:
        return self.prefix

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.prefix}.dlx"

    @property
    def retry_exchange(self) -> str:
        return f"{self.prefix}.retry"

    def queue(self, routing_key: str) -> str:
        return f"{self.prefix}.{routing_key}"

    def dead_letter_queue(self, routing_key: str) -> str:
        return f"{self.prefix}.{routing_key}.dead"

    @classmethod
    def from_settings(cls, settings) -> "Topology":
        """The topology for ``AMQP_PREFIX``, with retry delays of
        ``RETRY_BASE_DELAY_MS`` x 1, 4, 16, 64, 256. Every process must
        declare the same delays: RabbitMQ refuses a queue redeclared with
        other arguments."""
        base = settings.retry_base_delay_ms
        return cls(settings.amqp_prefix, tuple(base * 4**step for step in range(5)))

    def retry_delay_ms(self, retry: int) -> int:
        """Delay before retry number ``retry`` (1-based), in milliseconds."""
        return self.retry_delays_ms[min(retry, len(self.retry_delays_ms)) - 1]

    def retry_queue(self, routing_key: str, delay_ms: int) -> str:
        return f"{self.prefix}.{routing_key}.retry.{delay_ms}ms"

    def queue_names(self) -> list[str]:
        """Every queue :meth:`declare` makes."""
        names = []
        for key in (RENDER, READY):
            names += [self.queue(key), self.dead_letter_queue(key)]
            names += [self.retry_queue(key, delay) for delay in sorted(set(self.retry_delays_ms))]
        return names

    def exchange_names(self) -> list[str]:
        return [self.exchange, self.dead_letter_exchange, self.retry_exchange]

    def declare(self, channel: BlockingChannel) -> None:
        """Declare everything (idempotent: same arguments every time)."""
        channel.exchange_declare(self.exchange, "direct", durable=True)
        channel.exchange_declare(self.dead_letter_exchange, "direct", durable=True)
        channel.exchange_declare(self.retry_exchange, "direct", durable=True)
        for key in (RENDER, READY):
            channel.queue_declare(
                self.queue(key),
                durable=True,
                arguments={"x-dead-letter-exchange": self.dead_letter_exchange},
            )
            channel.queue_bind(self.queue(key), self.exchange, routing_key=key)
            channel.queue_declare(self.dead_letter_queue(key), durable=True)
            channel.queue_bind(self.dead_letter_queue(key), self.dead_letter_exchange, routing_key=key)
            for delay in sorted(set(self.retry_delays_ms)):
                name = self.retry_queue(key, delay)
                channel.queue_declare(
                    name,
                    durable=True,
                    arguments={
                        "x-message-ttl": delay,
                        "x-dead-letter-exchange": self.exchange,
                        "x-dead-letter-routing-key": key,
                    },
                )
                channel.queue_bind(name, self.retry_exchange, routing_key=f"{key}.{delay}ms")


def connect(amqp_url: str, heartbeat: int = 30) -> pika.BlockingConnection:
    """A blocking connection to ``amqp_url`` (``amqp://user:pass@host:port/vhost``)
    that gives up quickly when the broker is down."""
    params = pika.URLParameters(amqp_url)
    params.heartbeat = heartbeat
    params.blocked_connection_timeout = 30
    params.socket_timeout = 5
    params.stack_timeout = 10
    params.connection_attempts = 1
    return pika.BlockingConnection(params)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), default=str).encode()


def properties(correlation_id: str, headers: dict | None = None) -> pika.BasicProperties:
    return pika.BasicProperties(
        content_type="application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        correlation_id=correlation_id,
        message_id=str(uuid.uuid4()),
        timestamp=int(time.time()),
        headers=headers or {},
    )


def publish_confirmed(
    channel: BlockingChannel,
    exchange: str,
    routing_key: str,
    body: bytes,
    props: pika.BasicProperties,
) -> None:
    """Publish on a channel in confirm mode; raises :class:`BrokerUnavailable`
    if the broker nacks it or cannot route it, and pika's connection errors
    if the connection is gone."""
    try:
        channel.basic_publish(exchange, routing_key, body, props, mandatory=True)
    except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
        raise BrokerUnavailable(f"broker refused the message: {exc!r}") from exc


class Publisher:
    """One connection and one confirming channel per process, opened lazily
    and reopened once when a publish finds it broken (the broker restarted or
    dropped an idle connection). Not thread-safe: one per thread."""

    def __init__(self, amqp_url: str, topology: Topology) -> None:
        self.amqp_url = amqp_url
        self.topology = topology
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _open(self) -> BlockingChannel:
        if self._channel is None or not self._channel.is_open:
            self.close()
            self._connection = connect(self.amqp_url)
            channel = self._connection.channel()
            channel.confirm_delivery()
            self.topology.declare(channel)
            self._channel = channel
        return self._channel

    def publish(self, routing_key: str, payload: dict[str, Any], correlation_id: str) -> None:
        """Publish ``payload`` (JSON) persistently to the work exchange with
        ``routing_key`` and wait for the broker's confirm. Raises
        :class:`BrokerUnavailable` when it cannot be confirmed after one
        reconnect."""
        body = encode(payload)
        self._with_channel(lambda channel: publish_confirmed(
            channel, self.topology.exchange, routing_key, body, properties(correlation_id)))

    def ping(self) -> None:
        """Raises :class:`BrokerUnavailable` if the broker cannot be reached."""
        self._with_channel(lambda channel: None)

    def _with_channel(self, action: Callable[[BlockingChannel], None]) -> None:
        """Run ``action`` on a live channel; a connection found broken (the
        broker restarted, or dropped it while idle) is reopened once."""
        for attempt in (1, 2):
            try:
                channel = self._open()
                # Service heartbeats and notice a dead connection first.
                self._connection.process_data_events(0)
                action(channel)
                return
            except BrokerUnavailable:
                raise
            except CONNECTION_ERRORS as exc:
                self.close()
                if attempt == 2:
                    raise BrokerUnavailable(f"broker unavailable: {exc!r}") from exc

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass


# --- consumer side -------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """The message was handled: publish ``follow_ups`` (routing key, payload)
    with confirms, then ack."""

    follow_ups: tuple[tuple[str, dict[str, Any]], ...] = ()


@dataclass(frozen=True)
class Retry:
    """A transient failure: publish the message again after a backoff delay,
    then ack this delivery."""

    reason: str


@dataclass(frozen=True)
class DeadLetter:
    """The message can never succeed: reject it without requeue, so the broker
    moves it to the dead-letter queue. ``reason`` is logged."""

    reason: str


Outcome = Done | Retry | DeadLetter

#: ``handler(body, retries, correlation_id) -> Outcome``; ``retries`` is how
#: many times this message was retried before (0 on first delivery).
Handler = Callable[[bytes, int, str | None], Outcome]

RETRY_HEADER = "x-invoicer-retries"


@dataclass
class Consumer:
    """Consume ``routing_key``'s queue with manual ack and ``prefetch``,
    passing each message to ``handler`` and carrying out its outcome.

    Reconnects with backoff when the broker goes away; unacked messages are
    redelivered by the broker then. ``stop()`` (e.g. from SIGTERM) ends
    :meth:`run` after the message in hand.
    """

    amqp_url: str
    topology: Topology
    routing_key: str
    handler: Handler
    prefetch: int = 4
    on_idle: Callable[[], None] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                self._consume()
                delay = 0.5
            except CONNECTION_ERRORS as exc:
                log.warning("broker connection lost, reconnecting", extra={"error": repr(exc), "delay_s": delay})
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _consume(self) -> None:
        connection = connect(self.amqp_url)
        try:
            channel = connection.channel()
            self.topology.declare(channel)
            channel.confirm_delivery()
            channel.basic_qos(prefetch_count=self.prefetch)
            log.info("consuming", extra={"queue": self.topology.queue(self.routing_key), "prefetch": self.prefetch})
            for method, props, body in channel.consume(
                self.topology.queue(self.routing_key), auto_ack=False, inactivity_timeout=1.0
            ):
                if self.on_idle is not None:
                    self.on_idle()
                if method is None:
                    if self._stop.is_set():
                        break
                    continue
                self._deliver(channel, method, props, body)
                if self._stop.is_set():
                    break
            channel.cancel()
        finally:
            if connection.is_open:
                try:
                    connection.close()
                except Exception:  # noqa: BLE001
                    pass

    def _deliver(self, channel: BlockingChannel, method, props: pika.BasicProperties, body: bytes) -> None:
        headers = props.headers or {}
        retries = int(headers.get(RETRY_HEADER, 0) or 0)
        correlation_id = props.correlation_id
        token = logs.correlation_id.set(correlation_id)
        try:
            try:
                outcome = self.handler(body, retries, correlation_id)
            except Exception as exc:  # noqa: BLE001 - a handler bug must not kill the loop
                log.exception("handler raised; retrying the message")
                outcome = Retry(f"unexpected error: {exc!r}")
            try:
                self._carry_out(channel, method, headers, body, retries, correlation_id, outcome)
            except BrokerUnavailable as exc:
                # The broker nacked a follow-up or retry publish: give the
                # delivery back so that it is handled again, never dropped.
                log.warning("broker refused a publish; requeueing", extra={"error": repr(exc)})
                self._stop.wait(1.0)
                channel.basic_nack(method.delivery_tag, requeue=True)
        finally:
            logs.correlation_id.reset(token)

    def _carry_out(self, channel, method, headers, body, retries, correlation_id, outcome: Outcome) -> None:
        """Publish, ack or reject as ``outcome`` says (see :data:`Outcome`)."""
        if isinstance(outcome, Done):
            for key, payload in outcome.follow_ups:
                publish_confirmed(
                    channel, self.topology.exchange, key, encode(payload),
                    properties(correlation_id or str(uuid.uuid4())),
                )
            channel.basic_ack(method.delivery_tag)
        elif isinstance(outcome, Retry):
            delay = self.topology.retry_delay_ms(retries + 1)
            log.warning("retrying message", extra={"reason": outcome.reason, "retry": retries + 1, "delay_ms": delay})
            new_headers = dict(headers)
            new_headers[RETRY_HEADER] = retries + 1
            publish_confirmed(
                channel, self.topology.retry_exchange, f"{self.routing_key}.{delay}ms", body,
                properties(correlation_id or str(uuid.uuid4()), new_headers),
            )
            channel.basic_ack(method.delivery_tag)
        else:
            log.error("dead-lettering message", extra={"reason": outcome.reason})
            channel.basic_reject(method.delivery_tag, requeue=False)
