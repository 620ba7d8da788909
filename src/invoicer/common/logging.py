"""JSON logs on stderr, one object per line (python-json-logger), for every
process of invoicer, gunicorn's own lines included.

Every line carries ``time``, ``level``, ``logger``, ``message`` and
``service``, plus ``correlation_id`` whenever there is something to
correlate: in the HTTP services the request id (``X-Request-ID``, see
:mod:`invoicer.common.web`), in the queue consumers the message's
correlation id, which is the job id. Lines written outside any request or
message (start-up, shutdown) have no ``correlation_id`` rather than a null
one. Fields passed with ``extra=`` (e.g. ``job_id``) follow.

A line written for a request, or for a message a request caused, also
carries ``request_id``: the ``X-Request-ID`` of the HTTP request the work
started from, in every service it passes through (it travels in the
outbox row and the AMQP header ``x-request-id``, see
:mod:`invoicer.common.amqp`). With tracing on (:mod:`invoicer.common.tracing`)
such a line carries ``trace_id`` (32 hex digits) and ``span_id`` (16) of
the current span as well, the ids a trace viewer searches by.

gunicorn's access lines (logger ``gunicorn.access``, see
:class:`invoicer.common.serving.JsonLogger`) add ``method``, ``path`` (without
the query string, which may hold secrets), ``status``, ``duration_ms``,
``bytes``, ``remote_addr`` and ``request_id``; never the user name of HTTP
Basic, which is an e-mail address here.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from types import TracebackType

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

__all__ = ["configure", "correlation_id", "get_logger", "request_id"]

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

#: The ``X-Request-ID`` of the request the work in hand started from (HTTP
#: services: this request's; consumers: the one that queued the message).
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class _ContextFilter(logging.Filter):
    """Adds ``service`` and, when there are ones, ``correlation_id``,
    ``request_id``, ``trace_id`` and ``span_id`` (a record may bring its
    own, as gunicorn's access lines do after the request ended)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        if getattr(record, "correlation_id", None) is None:
            current = correlation_id.get()
            if current is None:
                record.__dict__.pop("correlation_id", None)
            else:
                record.correlation_id = current
        if getattr(record, "request_id", None) is None:
            origin = request_id.get()
            if origin is None:
                record.__dict__.pop("request_id", None)
            else:
                record.request_id = origin
        if getattr(record, "trace_id", None) is None:
            span_context = trace.get_current_span().get_span_context()
            if span_context.is_valid:
                record.trace_id = format(span_context.trace_id, "032x")
                record.span_id = format(span_context.span_id, "016x")
        return True


#: pika's modules that log a connection's failure before raising it.
_PIKA_CONNECTION_LOGGERS = (
    "pika.adapters.base_connection",
    "pika.adapters.blocking_connection",
    "pika.adapters.utils.connection_workflow",
    "pika.adapters.utils.io_services_utils",
)


def _log_uncaught(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None, thread: str | None = None
) -> None:
    """A crash is one JSON line too, not a bare traceback on stderr."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    logging.getLogger("invoicer").critical(
        "uncaught exception", exc_info=(exc_type, exc, tb), extra={"thread": thread} if thread else None
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback, args.thread.name if args.thread else None)


def configure(service: str, level: str = "INFO") -> None:
    """Send every log record of this process to stderr as JSON (the fields
    the module docstring lists), with Python's warnings and uncaught
    exceptions (main and other threads) as log records too.

    Safe to call more than once (the handler is replaced, not added twice).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{service}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pika logs every connection step at INFO; keep its warnings only.
    logging.getLogger("pika").setLevel(logging.WARNING)
    # A lost or refused broker connection: pika logs it at ERROR from several
    # modules (five lines per attempt) and raises it to our code, which logs
    # it once per outage (invoicer.common.amqp, invoicer.common.relay).
    for name in _PIKA_CONNECTION_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``; here so modules import one logging module."""
    return logging.getLogger(name)
