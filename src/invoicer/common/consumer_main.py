"""Process entry shared by the queue consumers (worker, notification):
logging, signals, the consumer loop, and a small HTTP endpoint on
``HEALTH_PORT``: ``GET /healthz`` (and ``/readyz``) and ``GET /metrics``
(the process's Prometheus metrics, :mod:`invoicer.common.metrics`)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

from . import logging as logs
from . import metrics, tracing
from .amqp import Consumer, Handler, Topology
from .config import Settings

__all__ = ["Liveness", "run_consumer", "run_consumers"]


class Liveness:
    """When the consumer loop of ``queue`` (a routing key; the outbox
    relay's is ``outbox``) last went round; the loop goes round at least
    once a second (``inactivity_timeout``) while it is healthy. Each beat
    also sets :data:`~invoicer.common.metrics.CONSUMER_LAST_POLL`."""

    def __init__(self, queue: str) -> None:
        self.last = time.monotonic()
        self._poll = metrics.CONSUMER_LAST_POLL.labels(queue)
        self._poll.set_to_current_time()

    def beat(self) -> None:
        self.last = time.monotonic()
        self._poll.set_to_current_time()


def serve_health(port: int, liveness: list[Liveness], stale_after: float = 120.0) -> None:
    class HealthHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.partition("?")[0] == "/metrics":
                self._answer(200, metrics.exposition(), metrics.CONTENT_TYPE)
                return
            if self.path not in ("/healthz", "/readyz"):
                status, body = 404, b'{"status":"not found"}'
            elif all(time.monotonic() - each.last < stale_after for each in liveness):
                status, body = 200, b'{"status":"ok"}'
            else:
                status, body = 503, b'{"status":"stale"}'
            self._answer(status, body, "application/json")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # keep health checks out of the logs
            pass

    server = ThreadingHTTPServer(("0.0.0.0", port), HealthHandler)
    threading.Thread(target=server.serve_forever, daemon=True, name="health").start()


def run_consumer(service: str, routing_key: str, build: Callable[[Settings], Handler], prefetch_setting: str) -> None:
    """Configure logging, build the handler with ``build(settings)``, and
    consume ``routing_key``'s queue until SIGTERM or SIGINT (the message in
    hand is finished and acked first). With ``HEALTH_PORT`` set, serves
    ``GET /healthz`` that turns 503 when the loop stops going round, and
    ``GET /metrics``."""
    run_consumers(service, {routing_key: build}, prefetch_setting)


def run_consumers(
    service: str,
    builds: dict[str, Callable[[Settings], Handler]],
    prefetch_setting: str,
    also_watched: tuple[Liveness, ...] = (),
) -> None:
    """:func:`run_consumer` for several queues in one process: one consumer
    (its own connection, per pika's one-connection-per-thread rule) per
    routing key of ``builds``, each on a thread of its own; SIGTERM or
    SIGINT stops them all. ``/healthz`` is 503 as soon as any loop stops
    going round, or any of ``also_watched`` (the process's other loops,
    e.g. the webhook sender's) stops beating."""
    settings = Settings.from_env()
    logs.configure(service, settings.log_level)
    log = logs.get_logger(f"invoicer.{service}")
    tracing.setup(service, settings)  # before the handlers open their connections
    topology = Topology.from_settings(settings)
    liveness = [Liveness(routing_key) for routing_key in builds]
    consumers = [
        Consumer(
            amqp_url=settings.amqp_url,
            topology=topology,
            routing_key=routing_key,
            handler=build(settings),
            prefetch=getattr(settings, prefetch_setting),
            on_idle=beat.beat,
        )
        for (routing_key, build), beat in zip(builds.items(), liveness, strict=True)
    ]

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signum})
        for consumer in consumers:
            consumer.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if settings.health_port:
        serve_health(settings.health_port, [*liveness, *also_watched])
    log.info("started")
    threads = [
        threading.Thread(target=consumer.run, name=f"consume-{consumer.routing_key}") for consumer in consumers[1:]
    ]
    for thread in threads:
        thread.start()
    consumers[0].run()  # the main thread consumes too, and keeps receiving signals
    for thread in threads:
        thread.join()
    tracing.shutdown()
    log.info("stopped")
