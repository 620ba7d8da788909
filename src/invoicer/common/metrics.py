"""The Prometheus metrics of every invoicer process, defined once.

Each process serves ``GET /metrics`` in the Prometheus text exposition format
(version 0.0.4):

* the HTTP services (auth, invoices, gateway) from the gunicorn master on a
  port of their own, ``METRICS_PORT``, never on the public one; gunicorn's
  workers write their samples into files under ``PROMETHEUS_MULTIPROC_DIR``
  (prometheus-client's multiprocess mode) and the master adds them up, so
  every worker's requests count (:mod:`invoicer.common.serving`);
* the queue consumers (worker, notification, outbox relay) beside
  ``/healthz`` on their ``HEALTH_PORT`` (:func:`exposition`, served by
  :mod:`invoicer.common.consumer_main`).

Names follow Prometheus' conventions: the ``invoicer_`` prefix, base units
(seconds, bytes), ``_total`` for counters, ``_seconds`` for durations.
Labels hold small, fixed sets of values (a route template, never a path
with an id in it; a reason code, never a message).

Adding a metric: define it below with a docstring (what is counted, where,
its labels and their values) and import it where the event happens, e.g.::

    from invoicer.common import metrics

    metrics.JOBS_DONE.inc()

A gauge that several gunicorn workers set needs a ``multiprocess_mode``
(``livesum``, ``max``, ``mostrecent``…); one set by a single consumer
process does not. A value read from elsewhere when scraped (a queue depth,
a table's backlog) is a :class:`prometheus_client.registry.Collector`
registered by the process that can read it (:func:`register_collector`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = [
    "CONSUMER_LAST_POLL",
    "CONTENT_TYPE",
    "DEAD_LETTER_MESSAGES",
    "HTTP_REQUESTS",
    "HTTP_REQUEST_DURATION",
    "INVOICES_ISSUED",
    "JOBS_ACCEPTED",
    "JOBS_DONE",
    "JOBS_FAILED",
    "JOB_UPLOAD_TO_DONE",
    "MAILS_FAILED",
    "MAILS_SENT",
    "MESSAGES_DEAD_LETTERED",
    "MESSAGES_RETRIED",
    "OUTBOX_BACKLOG",
    "OUTBOX_OLDEST_AGE",
    "PAYMENTS_RECORDED",
    "QUEUE_MESSAGES",
    "RENDER_DURATION",
    "OutboxCollector",
    "exposition",
    "observe_render",
    "register_collector",
    "set_queue_depths",
]

#: The media type of :func:`exposition`'s body (text format 0.0.4).
CONTENT_TYPE = CONTENT_TYPE_LATEST

# No ``*_created`` series beside every counter and histogram (a single process
# would export them; gunicorn's multiprocess mode does not): the same page everywhere.
disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated

# --- HTTP services -------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "invoicer_http_requests_total",
    "HTTP requests answered by an invoicer service, by route template, method and status code.",
    ["route", "method", "status"],
)
"""Every answer of a Flask app built by :func:`invoicer.common.web.make_app`
(counted by :func:`invoicer.common.web.make_app`). ``route`` is the URL rule
(``/jobs/<job_id>``), ``<unmatched>`` when no rule matched (a 404 or 405);
``method`` the request method; ``status`` the status code as a string."""

HTTP_REQUEST_DURATION = Histogram(
    "invoicer_http_request_duration_seconds",
    "Time from the request reaching the app to its answer, in seconds, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
"""Labels as :data:`HTTP_REQUESTS`; measured there too."""

# --- jobs (uploads and kept documents) --------------------------------------------------

JOBS_ACCEPTED = Counter(
    "invoicer_jobs_accepted_total",
    "Render jobs committed (job row and render request), by source.",
    ["source"],
)
"""Counted after the job's transaction committed. ``source``: ``upload``
(``POST /upload`` and the web app's upload, in the gateway) or ``record``
(the kept documents of an issued invoice or credit note, in the invoices
service)."""

JOBS_DONE = Counter("invoicer_jobs_done_total", "Render jobs the worker finished (status done).")
"""Counted by the worker when it moves a job to ``done`` (once per job)."""

JOBS_FAILED = Counter(
    "invoicer_jobs_failed_total",
    "Render jobs that failed, by reason code.",
    ["reason"],
)
"""Counted by the worker when it moves a job to ``failed`` (once per job).
``reason`` is the job's error code: ``invalid_invoice``, ``input_missing``,
``unknown_job``, ``invalid_options``, ``malformed_message``,
``render_error``, ``retries_exhausted``."""

JOB_UPLOAD_TO_DONE = Histogram(
    "invoicer_job_upload_to_done_seconds",
    "Time from a job's creation (the upload committed) to the worker finishing it, in seconds.",
    buckets=(0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0),
)
"""Observed by the worker for each job it moves to ``done``; includes the
outbox relay's and the queue's wait and any retries."""

RENDER_DURATION = Histogram(
    "invoicer_render_duration_seconds",
    "Time to render one invoice in one format, in seconds, by format.",
    ["format"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
"""Observed by the worker for each format it renders (``pdf``, ``xlsx``,
``cii``, ``ubl``, ``facturx``: the output-format registry's names),
including a format rendered only because another needs it."""

# --- messaging ----------------------------------------------------------------------

MESSAGES_RETRIED = Counter(
    "invoicer_messages_retried_total",
    "Messages a consumer sent back for a later attempt after a transient failure, by queue.",
    ["queue"],
)
"""``queue`` is the routing key of the consumed queue (``invoice.render``,
``invoice.ready``, ``invoice.mail``); counted by
:class:`invoicer.common.amqp.Consumer` when it publishes a retry."""

MESSAGES_DEAD_LETTERED = Counter(
    "invoicer_messages_dead_lettered_total",
    "Messages a consumer gave up on and dead-lettered, by queue and reason code.",
    ["queue", "reason"],
)
"""Counted by :class:`invoicer.common.amqp.Consumer` when it rejects a
message into ``<prefix>.<queue>.dead``; ``reason`` is the failure's code
(``retries_exhausted``, ``malformed_message``, ``invalid_invoice``…)."""

QUEUE_MESSAGES = Gauge(
    "invoicer_queue_messages",
    "Messages ready in a work queue, waiting for a consumer (the consumer's lag), by queue.",
    ["queue"],
)
"""Read from the broker (a passive ``queue.declare``) by the queue's
consumer every few seconds; excludes the messages consumers hold unacked."""

DEAD_LETTER_MESSAGES = Gauge(
    "invoicer_dead_letter_messages",
    "Messages in a queue's dead-letter queue, waiting for an operator, by queue.",
    ["queue"],
)
"""Read as :data:`QUEUE_MESSAGES`, for ``<prefix>.<queue>.dead``."""

CONSUMER_LAST_POLL = Gauge(
    "invoicer_consumer_last_poll_timestamp_seconds",
    "When a consumer loop last went round (Unix time, seconds), by queue.",
    ["queue"],
)
"""Set at least once a second by every consumer loop while it runs
(``queue`` is its routing key; the outbox relay's is ``outbox``): a value
falling behind ``time()`` means a stuck consumer."""

# --- mail -----------------------------------------------------------------------------

MAILS_SENT = Counter(
    "invoicer_mails_sent_total",
    "Mails the SMTP server accepted, by kind.",
    ["kind"],
)
"""Counted by the notification service; ``kind``: ``ready`` (the
uploader's "your invoice is ready") or ``invoice`` (an issued invoice to its
client)."""

MAILS_FAILED = Counter(
    "invoicer_mails_failed_total",
    "Mails given up on, by kind and reason code.",
    ["kind", "reason"],
)
"""Counted by the notification service when a mail is given up (its
message is dead-lettered); ``reason``: ``mail_refused``,
``retries_exhausted``, ``malformed_message``…"""

# --- outbox ---------------------------------------------------------------------------

OUTBOX_BACKLOG = "invoicer_outbox_backlog"
"""Gauge: outbox rows (events and commands) committed but not yet published;
read from PostgreSQL when scraped, by the outbox relay alone
(:class:`OutboxCollector`)."""

OUTBOX_OLDEST_AGE = "invoicer_outbox_oldest_age_seconds"
"""Gauge: age of the oldest unpublished outbox row, in seconds (0 when
none); read with :data:`OUTBOX_BACKLOG`."""


class OutboxCollector(Collector):
    """:data:`OUTBOX_BACKLOG` and :data:`OUTBOX_OLDEST_AGE` from ``read()``
    (``(rows, oldest age in seconds)``), called at each scrape. A collector
    rather than two module-level gauges, so that only the process that
    registers it (the outbox relay) reports the outbox, not every process
    that imports this module."""

    def __init__(self, read: Callable[[], tuple[float, float]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        rows, age = self.read()
        yield GaugeMetricFamily(OUTBOX_BACKLOG, "Outbox rows committed but not yet published.", value=rows)
        yield GaugeMetricFamily(
            OUTBOX_OLDEST_AGE, "Age of the oldest unpublished outbox row, in seconds (0 when none).", value=age
        )


# --- billing --------------------------------------------------------------------------

INVOICES_ISSUED = Counter(
    "invoicer_invoices_issued_total",
    "Invoices and credit notes issued (numbered), by kind.",
    ["kind"],
)
"""Counted by the invoices service after the issuing transaction committed
(an idempotent replay is not counted again); ``kind``: ``invoice`` or
``credit_note``."""

PAYMENTS_RECORDED = Counter("invoicer_payments_recorded_total", "Payments recorded against invoices.")
"""Counted by the invoices service after the payment committed (an
idempotent replay is not counted again)."""


# --- webhooks ---------------------------------------------------------------------------

WEBHOOK_DELIVERIES = Counter(
    "invoicer_webhook_deliveries_total",
    "Webhook delivery attempts by endpoint and result: success, failure (tried again later), dead (given up).",
    ["endpoint_id", "result"],
)
"""Counted by the webhook sender after each attempt is recorded; a 410 answer is ``dead``
(the endpoint is turned off). The alert "webhook endpoint failing for an hour" reads it."""


# --- expenses ---------------------------------------------------------------------------

EXTRACTION_DURATION = Histogram(
    "invoicer_extraction_duration_seconds",
    "Time the intake worker took to read one expense document, in seconds, by how it was read.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0),
)
"""``kind``: ``einvoice_xml``, ``einvoice_pdf``, ``text_pdf``, ``scanned_pdf``, ``image``,
``unreadable`` (:class:`invoicer.invoice.reading.Extraction`)."""

EXTRACTION_CONFIDENCE = Histogram(
    "invoicer_extraction_field_confidence",
    "Confidence (0-1) of each field the intake worker read, by source (xml, text, ocr).",
    ["source"],
    buckets=(0.25, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0),
)

EXPENSES_READ = Counter(
    "invoicer_expenses_read_total",
    "Expense documents the intake worker read, by the status they went to (needs_review, submitted, failed).",
    ["status"],
)


# --- serving ----------------------------------------------------------------------------


def exposition(registry: CollectorRegistry = REGISTRY) -> bytes:
    """The samples of ``registry`` (default: this process's) in the text
    format, with :data:`CONTENT_TYPE`."""
    return generate_latest(registry)


def register_collector(collector: Collector, registry: CollectorRegistry = REGISTRY) -> None:
    """Register ``collector`` (whose ``collect()`` reads values when
    scraped) with ``registry``."""
    registry.register(collector)


def observe_render(fmt: str, seconds: float) -> None:
    """:data:`RENDER_DURATION` for one format (the callback
    :func:`invoicer.invoice.render.render_formats` takes)."""
    RENDER_DURATION.labels(fmt).observe(seconds)


def set_queue_depths(depths: Iterable[tuple[str, int, int]]) -> None:
    """Set :data:`QUEUE_MESSAGES` and :data:`DEAD_LETTER_MESSAGES` from
    ``(routing key, ready, dead)`` triples."""
    for queue, ready, dead in depths:
        QUEUE_MESSAGES.labels(queue).set(ready)
        DEAD_LETTER_MESSAGES.labels(queue).set(dead)
