"""JSON logs on stderr, one object per line, with the service name and the
correlation id of the message or request being handled (python-json-logger)."""

from __future__ import annotations

import contextvars
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

__all__ = ["configure", "correlation_id", "get_logger"]

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.correlation_id = correlation_id.get()
        return True


def configure(service: str, level: str = "INFO") -> None:
    """Send every log record of this process to stderr as JSON.

    Each line carries ``time``, ``level``, ``logger``, ``message``,
    ``service`` and ``correlation_id`` plus any ``extra=`` fields. Safe to
    call more than once (the handler is replaced, not added twice).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{service}{correlation_id}",
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


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``; here so modules import one logging module."""
    return logging.getLogger(name)
