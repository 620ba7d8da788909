"""Traces (OpenTelemetry): one trace per upload and per billing command,
from the gateway's request through the outbox and the broker to the worker
and the notification service.

Off unless asked for, at no cost then: without an exporter no tracer
provider is installed, no library is instrumented, and the spans our own
code opens (:func:`consumer_span`, :func:`client_span`) are the API's
non-recording no-op spans. Two settings switch it on, independently:

* ``OTEL_EXPORTER_OTLP_ENDPOINT`` (e.g. ``http://collector:4318``): spans go
  over OTLP/HTTP (protobuf) to ``<endpoint>/v1/traces``; the exporter reads
  the other standard ``OTEL_EXPORTER_OTLP_*`` variables (headers, timeout)
  itself, and the SDK ``OTEL_RESOURCE_ATTRIBUTES`` and
  ``OTEL_TRACES_SAMPLER`` (default: parent-based, always on). Each process
  is the service ``invoicer-<component>``, whatever ``OTEL_SERVICE_NAME`` says.
* ``TRACES_FILE`` (a path): a debugging aid. Every process appends each
  span as one JSON line (the SDK's ``ReadableSpan.to_json``: ``name``,
  ``context.trace_id``/``span_id`` as ``0x…`` hex, ``parent_id``, ``kind``,
  ``start_time``, ``end_time``, ``attributes``, ``resource.attributes
  ["service.name"]``) to that file. ``make up`` and the test stack write
  ``var/traces.jsonl``.

How a trace crosses processes (W3C Trace Context, ``traceparent``):

* HTTP: Flask requests are server spans (``/healthz``, ``/readyz`` and
  ``/metrics`` are not traced); calls to a sibling service (``requests``)
  are client spans that send ``traceparent``.
* Outbox: :func:`invoicer.common.outbox.command` and ``record`` store the
  writer's ``traceparent`` (and request id) in the row; the relay publishes
  the row under that context.
* AMQP: every publish on a channel given to :func:`instrument_channel` is a
  producer span (``<message type> send``, e.g. ``invoice.render send``)
  whose context goes into the message's ``traceparent`` header; the
  consumer loop handles each delivery in a consumer span ``<queue>
  process`` whose parent is that header.
* PostgreSQL (psycopg2), GridFS (pymongo) and SMTP (``smtp send``, see
  :func:`client_span`) are client spans of whatever span is current.

Under gunicorn, :func:`setup` runs in each worker after the fork
(:func:`invoicer.common.serving.options`' ``post_fork``): the span
processor's thread and the exporter's connections do not survive a fork.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import IO, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from . import logging as logs
from .config import Settings

__all__ = [
    "TRACEPARENT",
    "TRACE_IDS_ENVIRON",
    "active",
    "client_span",
    "consumer_span",
    "current_ids",
    "enabled",
    "error_status",
    "extract",
    "instrument_app",
    "instrument_channel",
    "setup",
    "shutdown",
    "traceparent",
    "use",
]

#: The W3C Trace Context header (https://www.w3.org/TR/trace-context/), in
#: HTTP requests, AMQP message headers and outbox rows.
TRACEPARENT = "traceparent"

#: The WSGI environ key under which a traced request leaves ``(trace id, span
#: id)`` of its server span (:func:`current_ids`) for gunicorn's access line,
#: written after the span ended (:mod:`invoicer.common.serving`).
TRACE_IDS_ENVIRON = "invoicer.trace_ids"

#: Paths whose requests are not traced (probes and scrapes; a regex list, as
#: the Flask instrumentation takes it).
EXCLUDED_URLS = "/healthz,/readyz,/metrics"


class _State:
    """This process's tracing: the SDK's TracerProvider once :func:`setup`
    switched tracing on (None while off), and the open ``TRACES_FILE``."""

    provider: Any = None
    trace_file: IO[str] | None = None


_state = _State()
_lock = threading.Lock()

log = logs.get_logger(__name__)


def enabled(settings: Settings) -> bool:
    """Whether ``settings`` ask for traces (an OTLP endpoint or a traces file)."""
    return bool(settings.otel_exporter_otlp_endpoint or settings.traces_file)


def active() -> bool:
    """Whether :func:`setup` switched tracing on in this process."""
    return _state.provider is not None


def setup(service: str, settings: Settings, *, database: bool = True) -> bool:
    """Switch tracing on for this process if ``settings`` ask for it (see
    the module docstring); returns whether it is on. ``service`` becomes the
    resource's ``service.name`` ``invoicer-<service>`` (attributes of
    ``OTEL_RESOURCE_ATTRIBUTES`` are added). Instruments ``requests``, pymongo
    (GridFS) and, with ``database``, psycopg2: connections opened after this
    call are traced. Idempotent; call it once per process, after any fork.
    Raises ``OSError`` if ``TRACES_FILE`` cannot be opened for appending."""
    if not enabled(settings):
        return False
    with _lock:
        if _state.provider is not None:
            return True
        # Imported here: with tracing off not even the SDK is loaded.
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor  # noqa: PLC0415
        from opentelemetry.instrumentation.requests import RequestsInstrumentor  # noqa: PLC0415
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource  # noqa: PLC0415
        from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter  # noqa: PLC0415

        # Resource.create adds OTEL_RESOURCE_ATTRIBUTES; the name given here wins over OTEL_SERVICE_NAME.
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: f"invoicer-{service}"}))
        if settings.otel_exporter_otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        if settings.traces_file:
            # Line-buffered append: one write(2) per span line, so that several
            # processes appending to one file do not interleave their lines.
            _state.trace_file = open(settings.traces_file, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            exporter = ConsoleSpanExporter(
                out=_state.trace_file, formatter=lambda span: span.to_json(indent=None) + "\n"
            )
            provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
        trace.set_tracer_provider(provider)
        _state.provider = provider
        RequestsInstrumentor().instrument(tracer_provider=provider, excluded_urls=EXCLUDED_URLS)
        PymongoInstrumentor().instrument(tracer_provider=provider)
        if database:
            from opentelemetry.instrumentation.psycopg2 import Psycopg2Instrumentor  # noqa: PLC0415

            # skip_dep_check: the instrumentation looks for the distribution "psycopg2"; ours is psycopg2-binary.
            Psycopg2Instrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    log.info(
        "tracing on",
        extra={
            "otlp_endpoint": settings.otel_exporter_otlp_endpoint or None,
            "traces_file": settings.traces_file or None,
        },
    )
    return True


def shutdown() -> None:
    """Export what is buffered and stop (at the end of a process; spans
    still open are lost). Does nothing when tracing is off."""
    if _state.provider is not None:
        _state.provider.shutdown()


def instrument_app(app: Any) -> None:
    """Trace the requests of the Flask ``app`` (server spans named
    ``<METHOD> <route>``), except :data:`EXCLUDED_URLS`, if tracing is on."""
    if _state.provider is None:
        return
    from opentelemetry.instrumentation.flask import FlaskInstrumentor  # noqa: PLC0415

    # The instrumentation ships no type hints for this function.
    FlaskInstrumentor.instrument_app(  # type: ignore[no-untyped-call]
        app, tracer_provider=_state.provider, excluded_urls=EXCLUDED_URLS
    )


def _name_send_span(span: trace.Span, _body: bytes, properties: Any) -> None:
    """Name a publish's span after the message type (``invoice.render send``)
    rather than the exchange, when the message says its type."""
    if getattr(properties, "type", None):
        span.update_name(f"{properties.type} send")


def instrument_channel(channel: Any) -> None:
    """Make every publish on the pika ``channel`` a producer span
    ``<message type> send`` (``<exchange> send`` for a message without
    ``type``) whose context travels in the message's ``traceparent`` header,
    if tracing is on. Per channel, not pika's global instrumentation (which
    made two nested send spans per publish)."""
    if _state.provider is None:
        return
    from opentelemetry.instrumentation.pika import PikaInstrumentor  # noqa: PLC0415

    PikaInstrumentor.instrument_channel(channel, tracer_provider=_state.provider, publish_hook=_name_send_span)


def error_status(description: str) -> Status:
    """The status of a span whose work failed, saying why."""
    return Status(StatusCode.ERROR, description)


def traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span (``00-<trace id>-<span
    id>-<flags>``), or None when there is none (tracing off, no span)."""
    if _state.provider is None:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT)


def extract(headers: Mapping[str, Any] | None) -> otel_context.Context | None:
    """The context a ``traceparent`` in ``headers`` (AMQP headers, values
    str or bytes) names; None when tracing is off or there is none."""
    if _state.provider is None or not headers:
        return None
    raw = headers.get(TRACEPARENT)
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    if not isinstance(raw, str):
        return None
    return propagate.extract({TRACEPARENT: raw})


def current_ids() -> tuple[str, str] | None:
    """``(trace id, span id)`` of the current span as 32 and 16 lower-case
    hex digits, or None when there is no valid span (tracing off)."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def _tracer() -> trace.Tracer:
    return trace.get_tracer("invoicer")


def consumer_span(queue: str, parent: otel_context.Context | None, attributes: Mapping[str, Any]) -> trace.Span:
    """A consumer span ``<queue> process`` (OpenTelemetry messaging
    conventions), child of ``parent`` (from :func:`extract`), not yet
    current; the caller ends it. A no-op span when tracing is off."""
    return _tracer().start_span(
        f"{queue} process",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={"messaging.system": "rabbitmq", "messaging.operation": "process", **attributes},
    )


@contextlib.contextmanager
def use(span: trace.Span | None) -> Iterator[None]:
    """Make ``span`` current for the block (any thread), without ending it."""
    if span is None:
        yield
        return
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield
    finally:
        otel_context.detach(token)


@contextlib.contextmanager
def client_span(name: str, attributes: Mapping[str, Any]) -> Iterator[trace.Span]:
    """A client span ``name`` (e.g. ``smtp send``), current for the block,
    child of the current span; an exception escaping the block is recorded
    and marks it failed. A no-op span when tracing is off."""
    with _tracer().start_as_current_span(name, kind=SpanKind.CLIENT, attributes=dict(attributes)) as span:
        yield span
