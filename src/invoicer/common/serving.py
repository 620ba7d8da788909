"""How every HTTP service runs under gunicorn: its settings (:func:`options`),
the logger class that makes gunicorn's lines JSON (:class:`JsonLogger`) and
the worker class that answers gunicorn's own errors as JSON
(:class:`JsonErrorWorker`).

gunicorn writes its error log (start-up, worker boots, refusals) and one
access line per request as text, through handlers of its own.
:class:`JsonLogger` drops those handlers and lets both loggers propagate to
the root logger, which :func:`invoicer.common.logging.configure` has given
the JSON formatter; access lines become records with the fields listed in
:mod:`invoicer.common.logging`.

gunicorn refuses some requests before any app sees them: a request line
longer than ``limit_request_line`` (414), a header over
``limit_request_field_size`` or more than ``limit_request_fields`` of them
(431), and anything that does not parse as HTTP/1 (400). Its
``Worker.handle_error`` writes those as an HTML page; :class:`JsonErrorWorker`
writes the body every other error has (:mod:`invoicer.common.errors`)::

    {"error": {"code": "uri_too_long", "message": "...", "details": []}}

with a fresh ``X-Request-ID`` and the security headers the apps send
(:mod:`invoicer.common.web`). Nothing the client sent is echoed back.
"""

from __future__ import annotations

import json
import shutil
import ssl
import tempfile
import uuid
from collections.abc import Callable, MutableMapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gunicorn import glogging, util
from gunicorn.http import errors as http_errors
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.gthread import ThreadWorker

from . import config, tracing
from . import logging as logs
from .config import Settings

__all__ = [
    "JsonErrorWorker",
    "JsonLogger",
    "closing_on_request",
    "metrics_hooks",
    "options",
    "prepare_metrics",
    "refusal",
]

log = logs.get_logger(__name__)

# A header the app tried to send is the app's fault (gunicorn >= 24 names it).
_APP_HEADER_ERRORS = tuple(
    getattr(http_errors, name)
    for name in ("InvalidResponseHeader", "InvalidResponseHeaderName")
    if hasattr(http_errors, name)
)

# (exception types, status, reason, code, message), first match wins; the
# statuses are gunicorn's own (gunicorn.workers.base.Worker.handle_error).
_REFUSALS: tuple[tuple[tuple[type[BaseException], ...], int, str, str, str], ...] = (
    (
        _APP_HEADER_ERRORS,
        500,
        "Internal Server Error",
        "internal_error",
        "internal server error",
    ),
    (
        (http_errors.LimitRequestLine,),
        414,
        "URI Too Long",
        "uri_too_long",
        "the request line is too long; send parameters in the body",
    ),
    (
        (http_errors.LimitRequestHeaders,),
        431,
        "Request Header Fields Too Large",
        "request_header_fields_too_large",
        "a request header is too large, or there are too many of them",
    ),
    (
        (http_errors.UnsupportedTransferCoding,),
        501,
        "Not Implemented",
        "not_implemented",
        "unsupported transfer coding",
    ),
    (
        (http_errors.ExpectationFailed,),
        417,
        "Expectation Failed",
        "expectation_failed",
        "cannot meet the Expect header",
    ),
    ((http_errors.ForbiddenProxyRequest, ssl.SSLError), 403, "Forbidden", "forbidden", "request forbidden"),
    ((http_errors.ConfigurationProblem,), 500, "Internal Server Error", "internal_error", "internal server error"),
    ((http_errors.ParseException,), 400, "Bad Request", "bad_request", "malformed HTTP request"),
)
_UNEXPECTED = (500, "Internal Server Error", "internal_error", "internal server error")

_HEADERS = (
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Connection", "close"),
)


def refusal(exc: BaseException) -> tuple[int, str, str, str]:
    """``(status, reason phrase, code, message)`` for an exception gunicorn
    raised while reading or answering a request: 414, 431, 501, 417, 403 or
    400 for what the client sent (as gunicorn answers them), 500 for
    anything else."""
    for types, status, reason, code, message in _REFUSALS:
        if isinstance(exc, types):
            return status, reason, code, message
    return _UNEXPECTED


def _response_bytes(status: int, reason: str, code: str, message: str, request_id: str) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()
    head = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in _HEADERS)]
    head += [f"Content-Length: {len(body)}", f"X-Request-ID: {request_id}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class JsonLogger(glogging.Logger):
    """gunicorn's logger with its lines sent through our JSON logging.

    Set up by gunicorn in the master and again in each worker; it only
    removes gunicorn's text handlers, so :func:`invoicer.common.logging.configure`
    must have run in the master first (``invoicer auth|gateway`` do)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True

    def access(self, resp: Any, req: Any, environ: MutableMapping[str, Any], request_time: timedelta) -> None:
        """One record per answered request: ``"POST /login 200"`` with
        ``method``, ``path`` (no query string), ``status`` (int),
        ``duration_ms`` (float), ``bytes``, ``remote_addr``, ``request_id``
        (what ``X-Request-ID`` answered, also the ``correlation_id``)."""
        if not self.access_log_enabled:
            return
        try:
            status = int(str(resp.status).split(None, 1)[0])
        except (TypeError, ValueError):
            status = 0
        request_id = next((value for name, value in resp.headers if name.lower() == "x-request-id"), None)
        method = environ.get("REQUEST_METHOD", "-")
        path = environ.get("PATH_INFO", "-")
        self.access_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "bytes": getattr(resp, "sent", None),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "request_id": request_id,
                "correlation_id": request_id,
                **_trace_fields(environ),
            },
        )


def _trace_fields(environ: MutableMapping[str, Any]) -> dict[str, str]:
    """``trace_id`` and ``span_id`` of a traced request's server span, which
    has ended by the time the access line is written."""
    ids = environ.get(tracing.TRACE_IDS_ENVIRON)
    return {"trace_id": ids[0], "span_id": ids[1]} if ids else {}


def closing_on_request(app: Any) -> Any:
    """The WSGI ``app`` wrapped so that an answer carrying ``Connection:
    close`` (e.g. a 413, :mod:`invoicer.common.web`) makes gunicorn close
    the connection after it. gunicorn drops hop-by-hop headers an app sends
    (PEP 3333) and would otherwise keep the connection alive, reading and
    discarding the rest of a refused body before the next request."""

    def wrapped(environ: Any, start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if any(name.lower() == "connection" and value.lower() == "close" for name, value in headers):
                response = getattr(start_response, "__self__", None)  # gunicorn's Response
                if response is not None and hasattr(response, "force_close"):
                    response.force_close()
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wrapped


class JsonErrorWorker(ThreadWorker):
    """gunicorn's threaded worker (``gthread``), answering the errors
    gunicorn handles itself with the JSON error body instead of HTML, and
    closing the connection after an answer that says ``Connection: close``
    (:func:`closing_on_request`)."""

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = closing_on_request(self.wsgi)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """Log, write the access line and answer ``exc`` as JSON; replaces
        ``gunicorn.workers.base.Worker.handle_error``, whose statuses it keeps."""
        started = datetime.now()
        addr = addr or ("", -1)  # a unix socket has no address
        status, reason, code, message = refusal(exc)
        request_id = str(uuid.uuid4())
        token = logs.correlation_id.set(request_id)
        origin = logs.request_id.set(request_id)
        try:
            if status >= 500:
                log.error("error handling request", exc_info=exc)
            else:
                log.warning(
                    "refused a request gunicorn could not accept",
                    extra={"status": status, "error": type(exc).__name__, "remote_addr": addr[0]},
                )
            if req is None:
                req = getattr(exc, "req", None)  # a header error keeps what was parsed
            if req is not None:
                environ = default_environ(req, client, self.cfg)
                environ["REMOTE_ADDR"] = addr[0]
                environ["REMOTE_PORT"] = str(addr[1])
                resp = Response(req, client, self.cfg)
                resp.status = f"{status} {reason}"
                resp.headers = [("X-Request-ID", request_id)]
                self.log.access(resp, req, environ, datetime.now() - started)
        finally:
            logs.request_id.reset(origin)
            logs.correlation_id.reset(token)
        try:
            util.write_nonblock(client, _response_bytes(status, reason, code, message, request_id))
        except Exception:  # noqa: BLE001 - the client may be gone; nothing left to tell it
            log.debug("could not send the error answer")


def options(bind: str, settings: Settings, service: str | None = None) -> dict[str, Any]:
    """gunicorn's settings for an HTTP service listening on ``bind``
    (``HOST:PORT``): ``WEB_WORKERS`` processes of ``WEB_THREADS`` threads of
    :class:`JsonErrorWorker`, JSON lines through :class:`JsonLogger` at
    ``LOG_LEVEL``, an access line per request, a 60 s request timeout and
    20 s to finish requests on SIGTERM. With ``service`` (its component
    name) and tracing asked for, each worker starts tracing after the fork."""
    return {
        "bind": [bind],
        "workers": settings.web_workers,
        "threads": settings.web_threads,
        "worker_class": f"{__name__}.JsonErrorWorker",
        "worker_tmp_dir": "/tmp",
        "logger_class": f"{__name__}.JsonLogger",
        "loglevel": settings.log_level.lower(),
        "accesslog": "-",  # switches access lines on; JsonLogger sends them to the JSON handler
        "graceful_timeout": 20,
        "timeout": 60,
        **_tracing_hooks(service, settings),
    }


# --- tracing (common/tracing.py): started in each worker, after the fork ------------


def _tracing_hooks(service: str | None, settings: Settings) -> dict[str, Any]:
    """gunicorn's ``post_fork`` hook that starts tracing in each worker
    (:func:`invoicer.common.tracing.setup`; a span processor's thread does
    not survive a fork), when ``service`` is named and tracing is asked for."""
    if service is None or not tracing.enabled(settings):
        return {}

    def post_fork(_server: Any, _worker: Any) -> None:
        tracing.setup(service, settings)

    return {"post_fork": post_fork}


# --- Prometheus metrics in gunicorn's multiprocess mode ------------------------------------
#
# prometheus-client keeps a worker's samples in memory unless PROMETHEUS_MULTIPROC_DIR is
# set when it is imported; then each process writes them into files there and a
# MultiProcessCollector adds up every file. So: the directory is made (or emptied) and put
# into the environment in the master before anything imports prometheus_client
# (prepare_metrics), the workers inherit it when forked, the master serves /metrics on
# METRICS_PORT once it is ready (when_ready), and a worker that exits is marked dead
# (child_exit) so its live gauges stop counting while its counters are kept.


def prepare_metrics(settings: Settings, export: Callable[[str, str], None] = config.export) -> str | None:
    """Make the multiprocess directory for an HTTP service about to start
    (``PROMETHEUS_MULTIPROC_DIR``, emptied of the ``*.db`` sample files of an
    earlier start, or a new temporary directory when the setting is empty)
    and ``export`` it (by default into the master's environment, which its
    workers inherit; before ``prometheus_client`` is imported: the library
    reads it at import).
    Returns the directory, or None when ``METRICS_PORT`` is 0 (no metrics
    served, nothing prepared)."""
    if not settings.metrics_port:
        return None
    if settings.prometheus_multiproc_dir:
        directory = Path(settings.prometheus_multiproc_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="invoicer-metrics-"))
    export("PROMETHEUS_MULTIPROC_DIR", str(directory))
    return str(directory)


def metrics_hooks(settings: Settings, directory: str | None, bind: str) -> dict[str, Any]:
    """gunicorn's ``when_ready`` (serve ``/metrics`` on ``METRICS_PORT`` from
    the master, on the host of the service's ``bind``, summing every
    worker's samples) and ``child_exit`` (mark a
    gone worker dead), when :func:`prepare_metrics` prepared ``directory``;
    ``on_exit`` removes a directory it made itself. Empty without one."""
    if directory is None:
        return {}
    port = settings.metrics_port
    host = bind.rpartition(":")[0].strip("[]") or "0.0.0.0"
    made_here = not settings.prometheus_multiproc_dir

    def when_ready(server: Any) -> None:
        from prometheus_client import CollectorRegistry, multiprocess, start_http_server  # noqa: PLC0415

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]  # unannotated
        start_http_server(port, addr=host, registry=registry)
        log.info("serving metrics", extra={"host": host, "port": port, "path": "/metrics"})

    def child_exit(server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess  # noqa: PLC0415

        multiprocess.mark_process_dead(worker.pid, path=directory)  # type: ignore[no-untyped-call]  # unannotated

    def on_exit(server: Any) -> None:
        if made_here:
            shutil.rmtree(directory, ignore_errors=True)

    return {"when_ready": when_ready, "child_exit": child_exit, "on_exit": on_exit}
