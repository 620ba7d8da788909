"""RabbitMQ topology, a confirming publisher, the retry policy and the
consumer loop (pika).

Topology, for a prefix ``P`` (``AMQP_PREFIX``) and each routing key ``K``
a consumer of the component registry owns (:func:`invoicer.common.components.queues`:
``invoice.render``, ``invoice.ready``, ``invoice.mail`` today)::

    exchange P        (direct, durable)  --K-->            queue P.K
    queue P.K         dead-letters to    exchange P.dlx --K--> queue P.K.dead
    exchange P.retry  --K.<ms>-->        queue P.K.retry.<ms>  (x-message-ttl <ms>)
    queue P.K.retry.<ms> dead-letters back to exchange P with routing key K

Policy lives here, not in the handlers (as in dramatiq's ``Retries``
middleware): a handler returns :class:`Done` or raises — :class:`Transient`
to be retried, :class:`Permanent` to be dead-lettered now, anything else
counts as transient — and :func:`settle` applies the queue's
:class:`QueuePolicy`. A transient failure is retried by publishing the
message to the retry queue whose TTL is the backoff delay (one queue per
delay, so no message waits behind a longer one); when the TTL runs out the
broker routes it back to the work queue. After the queue's retry limit, or
at once for a permanent failure, the handler's ``on_dead_letter`` hook
records why and the message is rejected without requeue and so
dead-lettered to ``P.K.dead``.

Messages are persistent JSON with ``version`` and a correlation id (see
:mod:`invoicer.common.messages`), published with publisher confirms and
``mandatory`` so that an unroutable or nacked message raises instead of
vanishing. Consumers ack manually with a prefetch.

Where a message came from travels in two headers: ``x-request-id``
(:data:`REQUEST_ID_HEADER`, the ``X-Request-ID`` of the HTTP request that
started the work; every publish made while handling a request or a message
copies it) and, with tracing on, ``traceparent`` (W3C Trace Context,
:mod:`invoicer.common.tracing`). The consumer loop logs each delivery's
lines with that request id and handles it in a consumer span that continues
the sender's trace.

When the broker goes away each consumer logs one warning (``broker
connection lost``), retries quietly with backoff, and logs one line when it
is consuming again (``broker connection recovered``, with the outage's
length); pika's own error lines for the lost connection are not repeated.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Protocol, cast

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from . import components, metrics, tracing
from . import logging as logs
from .components import ACCOUNT_MAIL, INTAKE, MAIL, READY, RENDER
from .config import Settings

__all__ = [
    "ACCOUNT_MAIL",
    "INTAKE",
    "MAIL",
    "READY",
    "RENDER",
    "REQUEST_ID_HEADER",
    "RETRY_HEADER",
    "BrokerUnavailable",
    "Consumer",
    "DeadLetter",
    "Done",
    "Handler",
    "Message",
    "Outcome",
    "Permanent",
    "Publisher",
    "QueuePolicy",
    "Retry",
    "Topology",
    "Transient",
    "settle",
]

log = logs.get_logger(__name__)

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


class Message(Protocol):
    """What :class:`Publisher` and :class:`Done` send: a message of
    :mod:`invoicer.common.messages`."""

    ROUTING_KEY: ClassVar[str]

    def to_bytes(self) -> bytes: ...


class BrokerUnavailable(RuntimeError):
    """The message could not be handed to the broker (down, unroutable or
    nacked). Nothing was queued; the caller decides what to tell its client."""


@dataclass(frozen=True)
class QueuePolicy:
    """What the consumer of one queue does when its handler fails (the
    dramatiq ``Retries`` middleware's rule, applied by :func:`settle`).

    A :class:`Transient` failure, or any exception the handler did not
    classify, is retried after ``delays_ms[retry - 1]`` milliseconds (retries
    past the end reuse the last delay) while fewer than ``max_retries``
    retries were made; the delivery after that is dead-lettered instead, so a
    message is handled at most ``max_retries + 1`` times. A
    :class:`Permanent` failure is dead-lettered at once.
    """

    max_retries: int = 5
    delays_ms: tuple[int, ...] = (1000, 4000, 16000, 64000, 256000)

    def delay_ms(self, retry: int) -> int:
        """Delay before retry number ``retry`` (1-based), in milliseconds."""
        return self.delays_ms[min(retry, len(self.delays_ms)) - 1]


def _default_policies() -> dict[str, QueuePolicy]:
    """Every registered queue with the default :class:`QueuePolicy`."""
    return {queue.routing_key: QueuePolicy() for queue in components.queues()}


def _default_bindings() -> dict[str, tuple[str, ...]]:
    """The event types each registered queue is bound to (those that have any)."""
    return {queue.routing_key: queue.events for queue in components.queues() if queue.events}


@dataclass(frozen=True)
class Topology:
    """Names of the exchanges and queues for ``prefix``, and the
    :class:`QueuePolicy` of each routing key (``policies``)."""

    prefix: str = "invoicer"
    policies: Mapping[str, QueuePolicy] = field(default_factory=_default_policies)
    #: routing key -> event types of :attr:`events_exchange` also bound to its queue.
    bindings: Mapping[str, tuple[str, ...]] = field(default_factory=_default_bindings)

    @property
    def exchange(self) -> str:
        return self.prefix

    @property
    def events_exchange(self) -> str:
        """The topic exchange of domain events (the outbox relay's)."""
        return f"{self.prefix}.events"

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

    def policy(self, routing_key: str) -> QueuePolicy:
        """The retry policy of ``routing_key``'s queue; KeyError if it has none."""
        return self.policies[routing_key]

    @classmethod
    def from_settings(cls, settings: Settings) -> Topology:
        """The topology for ``AMQP_PREFIX``: every queue of the component
        registry (:func:`invoicer.common.components.queues`), each retried
        up to the setting its :class:`~invoicer.common.components.Queue`
        names (``JOB_MAX_RETRIES`` for ``invoice.render``,
        ``NOTIFY_MAX_RETRIES`` for ``invoice.ready`` and ``invoice.mail``),
        all after ``RETRY_BASE_DELAY_MS`` x 1, 4, 16, 64, 256. Every process
        must declare the same delays: RabbitMQ refuses a queue redeclared
        with other arguments."""
        base = settings.retry_base_delay_ms
        delays = tuple(base * 4**step for step in range(5))
        return cls(
            settings.amqp_prefix,
            {
                queue.routing_key: QueuePolicy(getattr(settings, queue.retries_setting), delays)
                for queue in components.queues()
            },
            _default_bindings(),
        )

    def retry_queue(self, routing_key: str, delay_ms: int) -> str:
        return f"{self.prefix}.{routing_key}.retry.{delay_ms}ms"

    def _retry_delays(self, routing_key: str) -> list[int]:
        return sorted(set(self.policy(routing_key).delays_ms))

    def queue_names(self) -> list[str]:
        """Every queue :meth:`declare` makes."""
        names = []
        for key in self.policies:
            names += [self.queue(key), self.dead_letter_queue(key)]
            names += [self.retry_queue(key, delay) for delay in self._retry_delays(key)]
        return names

    def exchange_names(self) -> list[str]:
        return [self.exchange, self.dead_letter_exchange, self.retry_exchange]

    def declare(self, channel: BlockingChannel) -> None:
        """Declare everything (idempotent: same arguments every time)."""
        channel.exchange_declare(self.exchange, "direct", durable=True)
        channel.exchange_declare(self.dead_letter_exchange, "direct", durable=True)
        channel.exchange_declare(self.retry_exchange, "direct", durable=True)
        for key in self.policies:
            channel.queue_declare(
                self.queue(key),
                durable=True,
                arguments={"x-dead-letter-exchange": self.dead_letter_exchange},
            )
            channel.queue_bind(self.queue(key), self.exchange, routing_key=key)
            if self.bindings.get(key):
                channel.exchange_declare(self.events_exchange, "topic", durable=True)
                for event_type in self.bindings[key]:
                    channel.queue_bind(self.queue(key), self.events_exchange, routing_key=event_type)
            channel.queue_declare(self.dead_letter_queue(key), durable=True)
            channel.queue_bind(self.dead_letter_queue(key), self.dead_letter_exchange, routing_key=key)
            for delay in self._retry_delays(key):
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


#: The AMQP header that carries the ``X-Request-ID`` the work started from.
REQUEST_ID_HEADER = "x-request-id"


def properties(correlation_id: str, headers: Mapping[str, Any] | None = None) -> pika.BasicProperties:
    """Persistent JSON message properties with ``correlation_id``, a new
    ``message_id``, the time, and ``headers``; the request id in hand
    (:data:`invoicer.common.logging.request_id`) is added as
    :data:`REQUEST_ID_HEADER` unless ``headers`` bring one."""
    all_headers = dict(headers or {})
    origin = logs.request_id.get()
    if origin is not None:
        all_headers.setdefault(REQUEST_ID_HEADER, origin)
    return pika.BasicProperties(
        content_type="application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        correlation_id=correlation_id,
        message_id=str(uuid.uuid4()),
        timestamp=int(time.time()),
        headers=all_headers,
    )


def _header_text(headers: Mapping[str, Any], name: str) -> str | None:
    """A header's value as text (pika gives str or bytes), None if absent or of another type."""
    raw = headers.get(name)
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return raw if isinstance(raw, str) and raw else None


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
            tracing.instrument_channel(channel)
            self._channel = channel
        return self._channel

    def publish(self, message: Message, correlation_id: str) -> None:
        """Publish ``message`` (one of :mod:`invoicer.common.messages`)
        persistently to the work exchange with its ``ROUTING_KEY`` and wait
        for the broker's confirm. Raises :class:`BrokerUnavailable` when it
        cannot be confirmed after one reconnect."""
        body = message.to_bytes()
        self._with_channel(
            lambda channel: publish_confirmed(
                channel, self.topology.exchange, message.ROUTING_KEY, body, properties(correlation_id)
            )
        )

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
                channel.connection.process_data_events(0)
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
            with contextlib.suppress(Exception):  # closing a broken connection may fail in any way
                connection.close()


# --- consumer side -------------------------------------------------------


class Transient(Exception):
    """Raised by a handler: this attempt failed but a later one may succeed
    (a dependency is down). The consumer retries the message with backoff
    up to its queue's :attr:`QueuePolicy.max_retries`, then dead-letters it
    with ``code`` (default ``retries_exhausted``). Any exception a handler
    does not classify is treated the same way."""

    def __init__(self, reason: str, code: str = "retries_exhausted") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class Permanent(Exception):
    """Raised by a handler: this message can never succeed. The consumer
    dead-letters it at once; ``code`` (e.g. ``input_missing``) and ``reason``
    go to the handler's ``on_dead_letter`` hook."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Done:
    """The message was handled: publish ``follow_ups`` (messages of
    :mod:`invoicer.common.messages`, each to its ``ROUTING_KEY``) with
    confirms, then ack."""

    follow_ups: tuple[Message, ...] = ()


@dataclass(frozen=True)
class Retry:
    """A transient failure: publish the message again after a backoff delay,
    then ack this delivery."""

    reason: str


@dataclass(frozen=True)
class DeadLetter:
    """The message will not be tried again: reject it without requeue, so
    the broker moves it to the dead-letter queue. ``code`` and ``reason`` are
    logged (the handler's hook has recorded them)."""

    code: str
    reason: str


Outcome = Done | Retry | DeadLetter

#: ``handler(body, correlation_id) -> Done``, or raises :class:`Transient`,
#: :class:`Permanent` or anything else (counted as transient). It may have
#: a method ``on_dead_letter(body, code, reason)`` that records why the
#: message is given up (see :func:`settle`).
Handler = Callable[[bytes, str | None], Done]

#: How many times a message was retried before; absent on first delivery.
RETRY_HEADER = "x-invoicer-retries"


def settle(
    handler: Handler, policy: QueuePolicy, body: bytes, retries: int, correlation_id: str | None = None
) -> Outcome:
    """Run ``handler`` on one delivery and decide by ``policy`` what becomes
    of it (pure: no broker involved; :class:`Consumer` carries it out).

    ``retries`` is how many times this message was retried before (0 on
    first delivery). Returns the handler's :class:`Done`; :class:`Retry` for
    a transient failure (:class:`Transient` or an unexpected exception) while
    ``retries < policy.max_retries``; otherwise, and at once for
    :class:`Permanent`, :class:`DeadLetter` after calling
    ``handler.on_dead_letter(body, code, reason)`` if it has one. If that
    hook raises (its database is down), the result is :class:`Retry`
    instead: a message is never dead-lettered without its failure being
    recorded. Never raises.
    """
    try:
        return handler(body, correlation_id)
    except Permanent as exc:
        return _give_up(handler, body, exc.code, exc.reason)
    except Transient as exc:
        code, reason = exc.code, exc.reason
    except Exception as exc:
        log.exception("handler raised an unexpected error")
        code, reason = "retries_exhausted", f"unexpected {type(exc).__name__}: {exc}"
    if retries >= policy.max_retries:
        return _give_up(handler, body, code, f"gave up after {retries} retries: {reason}")
    return Retry(reason)


def _give_up(handler: Handler, body: bytes, code: str, reason: str) -> Outcome:
    hook = getattr(handler, "on_dead_letter", None)
    if hook is not None:
        try:
            hook(body, code, reason)
        except Exception as exc:  # noqa: BLE001 - e.g. DatabaseUnavailable
            log.warning(
                "cannot record the failure yet; retrying instead of dead-lettering",
                extra={"code": code, "reason": reason, "error": repr(exc)},
            )
            return Retry(f"cannot record the failure yet ({type(exc).__name__}: {exc}); {code}: {reason}")
    return DeadLetter(code, reason)


def _wake(connection: pika.BlockingConnection) -> None:
    """Make the connection's thread return from ``process_data_events``."""
    with contextlib.suppress(Exception):  # the connection closed meanwhile; nobody waits
        connection.add_callback_threadsafe(lambda: None)


@dataclass
class Consumer:
    """Consume ``routing_key``'s queue with manual ack and ``prefetch``,
    passing each message to ``handler`` and carrying out what :func:`settle`
    decides with the queue's policy from ``topology``.

    The handler runs on a worker thread, one message at a time; the thread
    that owns the connection meanwhile keeps calling
    ``process_data_events``, so heartbeats are answered however long the
    handler takes (pika's ``basic_consumer_threaded.py`` pattern), and it
    alone acks and publishes afterwards (pika objects are not thread-safe;
    the worker wakes it with ``add_callback_threadsafe``). ``heartbeat`` is
    the interval asked of the broker, in seconds.

    Metrics (:mod:`invoicer.common.metrics`): retries and dead-letterings
    are counted per queue, and every ``depth_seconds`` while it waits for
    messages it reads how many are ready in its queue and in its
    dead-letter queue (a passive ``queue.declare``).

    Reconnects with backoff when the broker goes away; unacked messages are
    redelivered by the broker then. ``stop()`` (e.g. from SIGTERM) ends
    :meth:`run` after the message in hand. ``connections`` counts the
    connections opened.
    """

    amqp_url: str
    topology: Topology
    routing_key: str
    handler: Handler
    prefetch: int = 4
    on_idle: Callable[[], None] | None = None
    heartbeat: int = 30
    connections: int = 0
    depth_seconds: float = 5.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lost_at: float | None = None  # when the broker connection was lost (monotonic), until it is back
    _depth_read: float = field(default=float("-inf"))

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Consume until :meth:`stop`. A lost broker connection is one
        warning; the attempts to reconnect (0.5 s doubling to 10 s apart) are
        logged at DEBUG only, and the first success as ``broker connection
        recovered`` with ``outage_s``."""
        delay = 0.5
        self._lost_at = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.routing_key}-handler") as executor:
            while not self._stop.is_set():
                try:
                    self._consume(executor)
                    delay = 0.5
                except CONNECTION_ERRORS as exc:
                    if self._lost_at is None:
                        self._lost_at = time.monotonic()
                        log.warning(
                            "broker connection lost; reconnecting",
                            extra={"queue": self.topology.queue(self.routing_key), "error": repr(exc)},
                        )
                    else:
                        log.debug("broker still unreachable", extra={"error": repr(exc), "delay_s": delay})
                    self._stop.wait(delay)
                    delay = min(delay * 2, 10.0)

    def _consume(self, executor: ThreadPoolExecutor) -> None:
        connection = connect(self.amqp_url, heartbeat=self.heartbeat)
        self.connections += 1
        try:
            channel = connection.channel()
            self.topology.declare(channel)
            channel.confirm_delivery()
            channel.basic_qos(prefetch_count=self.prefetch)
            tracing.instrument_channel(channel)
            queue = self.topology.queue(self.routing_key)
            if self._lost_at is not None:
                outage = round(time.monotonic() - self._lost_at, 1)
                self._lost_at = None
                log.info("broker connection recovered", extra={"queue": queue, "outage_s": outage})
            log.info("consuming", extra={"queue": queue, "prefetch": self.prefetch})
            for method, props, body in channel.consume(
                self.topology.queue(self.routing_key), auto_ack=False, inactivity_timeout=1.0
            ):
                if self.on_idle is not None:
                    self.on_idle()
                self._read_depths(channel)
                if method is None or props is None or body is None:  # all three or none: no delivery
                    if self._stop.is_set():
                        break
                    continue
                # Every delivery has a tag; the stub's None is Basic.Deliver's constructor default.
                tag = cast(int, method.delivery_tag)
                self._deliver(executor, connection, channel, tag, props, body)
                if self._stop.is_set():
                    break
            channel.cancel()
        finally:
            if connection.is_open:
                with contextlib.suppress(Exception):  # closing a broken connection may fail in any way
                    connection.close()

    def _read_depths(self, channel: BlockingChannel) -> None:
        """Set the queue's :data:`~invoicer.common.metrics.QUEUE_MESSAGES` and
        :data:`~invoicer.common.metrics.DEAD_LETTER_MESSAGES` from the broker,
        at most every ``depth_seconds``."""
        now = time.monotonic()
        if now - self._depth_read < self.depth_seconds:
            return
        self._depth_read = now
        ready = channel.queue_declare(self.topology.queue(self.routing_key), passive=True)
        dead = channel.queue_declare(self.topology.dead_letter_queue(self.routing_key), passive=True)
        metrics.set_queue_depths([(self.routing_key, ready.method.message_count, dead.method.message_count)])

    def _settle(self, body: bytes, retries: int, correlation_id: str | None, origin: str | None, span: Any) -> Outcome:
        """:func:`settle` on the worker thread, logging with the message's
        correlation id and request id (``origin``), in the delivery's ``span``."""
        token = logs.correlation_id.set(correlation_id)
        origin_token = logs.request_id.set(origin)
        try:
            with tracing.use(span):
                return settle(self.handler, self.topology.policy(self.routing_key), body, retries, correlation_id)
        finally:
            logs.request_id.reset(origin_token)
            logs.correlation_id.reset(token)

    def _deliver(
        self,
        executor: ThreadPoolExecutor,
        connection: pika.BlockingConnection,
        channel: BlockingChannel,
        delivery_tag: int,
        props: pika.BasicProperties,
        body: bytes,
    ) -> None:
        headers = props.headers or {}
        # Written by _carry_out as an int; a header of another type (datetime, table)
        # that no publisher of ours writes counts as no retry yet.
        raw = headers.get(RETRY_HEADER) or 0
        retries = int(raw) if isinstance(raw, int | Decimal | str | bytes) else 0
        correlation_id = props.correlation_id
        origin = _header_text(headers, REQUEST_ID_HEADER)
        queue = self.topology.queue(self.routing_key)
        span = None
        if tracing.active():
            attributes = {"messaging.destination.name": queue, "messaging.rabbitmq.retries": retries}
            if props.message_id:
                attributes["messaging.message.id"] = props.message_id
            if correlation_id:
                attributes["messaging.message.conversation_id"] = correlation_id
            span = tracing.consumer_span(queue, tracing.extract(headers), attributes)
        future = executor.submit(self._settle, body, retries, correlation_id, origin, span)
        future.add_done_callback(lambda _future: _wake(connection))
        while not future.done():
            # Answers heartbeats; returns early when _wake() runs.
            connection.process_data_events(time_limit=1.0)
        try:
            outcome = future.result()
        except Exception as exc:  # noqa: BLE001 - settle() does not raise; be sure anyway
            outcome = Retry(f"unexpected {type(exc).__name__}: {exc}")
        token = logs.correlation_id.set(correlation_id)
        origin_token = logs.request_id.set(origin)
        try:
            with tracing.use(span):
                try:
                    self._carry_out(channel, delivery_tag, headers, body, retries, correlation_id, outcome)
                except BrokerUnavailable as exc:
                    # The broker nacked a follow-up or retry publish: give the
                    # delivery back so that it is handled again, never dropped.
                    log.warning("broker refused a publish; requeueing", extra={"error": repr(exc)})
                    self._stop.wait(1.0)
                    channel.basic_nack(delivery_tag, requeue=True)
        finally:
            logs.request_id.reset(origin_token)
            logs.correlation_id.reset(token)
            if span is not None:
                if not isinstance(outcome, Done):
                    span.set_status(tracing.error_status(f"{type(outcome).__name__}: {outcome}"))
                span.end()

    def _carry_out(
        self,
        channel: BlockingChannel,
        delivery_tag: int,
        headers: Mapping[str, Any],
        body: bytes,
        retries: int,
        correlation_id: str | None,
        outcome: Outcome,
    ) -> None:
        """Publish, ack or reject as ``outcome`` says (see :data:`Outcome`)."""
        if isinstance(outcome, Done):
            for message in outcome.follow_ups:
                props = properties(correlation_id or str(uuid.uuid4()))
                props.type = message.ROUTING_KEY
                publish_confirmed(channel, self.topology.exchange, message.ROUTING_KEY, message.to_bytes(), props)
            channel.basic_ack(delivery_tag)
        elif isinstance(outcome, Retry):
            delay = self.topology.policy(self.routing_key).delay_ms(retries + 1)
            log.warning("retrying message", extra={"reason": outcome.reason, "retry": retries + 1, "delay_ms": delay})
            new_headers = dict(headers)
            new_headers[RETRY_HEADER] = retries + 1
            publish_confirmed(
                channel,
                self.topology.retry_exchange,
                f"{self.routing_key}.{delay}ms",
                body,
                properties(correlation_id or str(uuid.uuid4()), new_headers),
            )
            channel.basic_ack(delivery_tag)
            metrics.MESSAGES_RETRIED.labels(self.routing_key).inc()
        else:
            log.error(
                "dead-lettering message", extra={"code": outcome.code, "reason": outcome.reason, "retries": retries}
            )
            channel.basic_reject(delivery_tag, requeue=False)
            metrics.MESSAGES_DEAD_LETTERED.labels(self.routing_key, outcome.code).inc()
            self._depth_read = float("-inf")  # read the dead-letter queue's depth again at once
