"""The component registry: every invoicer process, once, and what each one
owns. The CLI (one generic command per HTTP service and per consumer),
``invoicer migrate``, the local stack (``tools/devstack.py``), the gateway's
forwarding, the RabbitMQ topology and the tests read it; a test compares it
with the Helm chart's ``components:`` map (names and kinds).

A :class:`Component` is data only: its factory is a ``"module:callable"``
string imported on first use (:meth:`Component.load`), so reading the
registry (``invoicer --help``) imports neither Flask, pika nor pydantic.
This module imports nothing of invoicer's, so every other module may import it.

Kinds:

* ``http``: a Flask app built by ``factory(settings) -> WSGI app``, served by
  gunicorn (``invoicer NAME [--bind HOST:PORT]``); it listens where its
  ``bind_setting`` says and the others reach it where its ``url_setting``
  says; the gateway forwards the paths under its ``prefixes`` to it.
* ``consumer``: a long-running process without HTTP API,
  ``factory(**options) -> None`` (``invoicer NAME [--option ...]``); it
  consumes its ``queues`` (AMQP routing keys on the work exchange, each with
  its retry policy, see :class:`Queue`).
* ``job``: a run-once command, ``factory(**options) -> int | None`` (the
  exit status; ``invoicer NAME [--option ...]``): ``migrate`` (a Helm hook in
  the chart), ``cleanup`` (a CronJob in the chart).

Adding one: README "Extending it".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ACCOUNT_MAIL",
    "COMPONENTS",
    "INFRASTRUCTURE_MIGRATIONS",
    "MAIL",
    "READY",
    "RENDER",
    "WEBHOOK",
    "WEBHOOK_EVENTS",
    "Component",
    "Kind",
    "Option",
    "Queue",
    "by_name",
    "forwarded_prefixes",
    "migration_packages",
    "names",
    "of_kind",
    "queues",
    "register",
    "unregister",
]

Kind = Literal["http", "consumer", "job"]

#: AMQP routing keys of the work exchange (``<AMQP_PREFIX>``, direct), one
#: per queue; the messages of :mod:`invoicer.common.messages` name theirs.
RENDER = "invoice.render"
READY = "invoice.ready"
MAIL = "invoice.mail"
INTAKE = "expense.read"
#: The webhook sender's queue: the domain events it delivers reach it from the
#: events exchange (its :attr:`Queue.events`); retries come back under this key.
WEBHOOK = "webhook.event"
#: The event types a webhook endpoint may subscribe to (issue 20): the invoices
#: service's, the render jobs' outcome (:mod:`invoicer.common.jobs`) and the
#: expenses service's (:mod:`invoicer.expenses.records`).
WEBHOOK_EVENTS = (
    "invoice.issued",
    "invoice.sent",
    "invoice.paid",
    "credit_note.issued",
    "payment.recorded",
    "job.done",
    "job.failed",
    "expense.received",
    "expense.submitted",
    "expense.approved",
    "expense.rejected",
    "expense.paid",
    "expense.failed",
)
ACCOUNT_MAIL = "account.mail"
#: The notification service's queue of expenses waiting for a decision: the
#: ``expense.submitted`` events reach it from the events exchange (its
#: :attr:`Queue.events`); retries come back under this key.
EXPENSE_REVIEW = "expense.review"

#: Migration packages of the shared infrastructure in ``common`` (the
#: transactional outbox), applied before every component's.
INFRASTRUCTURE_MIGRATIONS = ("invoicer.common.migrations",)


@dataclass(frozen=True)
class Queue:
    """A queue a consumer owns: ``routing_key`` on the work exchange (the
    queue is ``<AMQP_PREFIX>.<routing_key>``, dead-lettering to
    ``<AMQP_PREFIX>.<routing_key>.dead``), retried at most as many times as
    the integer setting ``retries_setting`` says (a field of
    :class:`~invoicer.common.config.Settings`, e.g. ``job_max_retries``),
    then dead-lettered (see :class:`~invoicer.common.amqp.QueuePolicy`).
    ``events``: domain event types (routing keys of the topic exchange
    ``<AMQP_PREFIX>.events`` the outbox relay publishes to) bound to the
    queue as well, for a consumer of events rather than commands."""

    routing_key: str
    retries_setting: str
    help: str = ""
    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    """A command-line option of a consumer's or job's command, passed to its
    factory as the keyword ``flag`` names (``--batch-size`` -> ``batch_size``).
    ``switch``: an on/off flag without a value (``--dry-run``), False unless
    given; ``type`` and ``default`` are then unused."""

    flag: str
    type: Callable[[str], Any]
    default: Any
    help: str
    switch: bool = False

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Component:
    """One invoicer process (see the module's docstring for the kinds).

    ``factory``: ``"module:callable"``. ``bind_setting`` / ``url_setting``:
    environment variable names (``AUTH_BIND``, ``AUTH_URL``) of an HTTP
    service; ``None`` when it has none (the gateway has no URL setting, a
    consumer neither). ``migrations``: the package of its SQL migrations
    (``invoicer.invoices.migrations``) or ``None``. ``prefixes``: the first
    path segments the gateway forwards to it (``invoices`` forwards
    ``/invoices`` and ``/invoices/...``). ``queues``: the queues it consumes.
    ``needs_jwt_secret``: refuse to start without ``JWT_SECRET``.
    ``ready_line``: what a consumer logs once ready (the local stack waits
    for it). ``help``: one line for ``invoicer --help``. ``contract``:
    ``"module:function"`` building the service's OpenAPI fragment from its
    models (no Flask, no database), which the gateway merges into
    ``/openapi.json`` (:mod:`invoicer.common.contracts`)."""

    name: str
    kind: Kind
    factory: str
    help: str
    bind_setting: str | None = None
    url_setting: str | None = None
    migrations: str | None = None
    #: the integer setting (a field of Settings) bounding its request bodies when larger than
    #: MAX_UPLOAD_BYTES, so the gateway forwards them (None: the gateway's own limit)
    max_body_setting: str | None = None
    prefixes: tuple[str, ...] = ()
    queues: tuple[Queue, ...] = ()
    options: tuple[Option, ...] = ()
    needs_jwt_secret: bool = False
    ready_line: str = '"consuming"'
    contract: str | None = None

    def load(self) -> Callable[..., Any]:
        """Import the factory (``ImportError`` / ``AttributeError`` if it is wrong)."""
        module_name, _, attribute = self.factory.partition(":")
        factory: Callable[..., Any] = getattr(importlib.import_module(module_name), attribute)
        return factory

    def bind(self, settings: Any) -> str | None:
        """Where it listens (``HOST:PORT``) by its bind setting in
        ``settings`` (a :class:`~invoicer.common.config.Settings`); None if
        it has none or the setting is not set."""
        return settings.component_setting(self.bind_setting) if self.bind_setting else None

    @property
    def metrics_port_setting(self) -> str | None:
        """The setting naming the port of its ``GET /metrics``: ``METRICS_PORT``
        for an HTTP service (the gunicorn master's own port, off the public
        one), ``HEALTH_PORT`` for a consumer (beside ``/healthz``); None for
        a job."""
        return {"http": "METRICS_PORT", "consumer": "HEALTH_PORT"}.get(self.kind)

    @property
    def metrics_url_variable(self) -> str | None:
        """``METRICS_URL_<NAME>`` (upper case, ``-`` as ``_``): the variable
        ``make up`` writes its metrics address into (``var/stack.env``);
        None for a job."""
        if self.metrics_port_setting is None:
            return None
        return "METRICS_URL_" + self.name.upper().replace("-", "_")

    def url(self, settings: Any) -> str | None:
        """Where the others reach it (``http://host:port``) by its URL
        setting in ``settings``; None if it has none or it is not set."""
        return settings.component_setting(self.url_setting) if self.url_setting else None


_RELAY_OPTIONS = (
    Option("--batch-size", int, 100, "outbox rows claimed per transaction (default 100)"),
    Option("--idle-seconds", float, 0.5, "longest pause when idle; a commit wakes it at once (default 0.5)"),
)

#: Every component, in start order (the local stack starts them so, ``invoicer
#: migrate`` applies their migrations so).
COMPONENTS: list[Component] = [
    Component(
        "auth",
        "http",
        "invoicer.auth.app:create_app",
        "run the auth service",
        bind_setting="AUTH_BIND",
        url_setting="AUTH_URL",
        # The first schema (users, jobs, mails): shared by auth, gateway, worker and notification.
        migrations="invoicer.migrations",
        needs_jwt_secret=True,
    ),
    Component(
        "invoices",
        "http",
        "invoicer.invoices.app:create_app",
        "run the invoices service (billing records)",
        bind_setting="INVOICES_BIND",
        url_setting="INVOICES_URL",
        migrations="invoicer.invoices.migrations",
        prefixes=(
            "organisation",
            "organisations",
            "invitations",
            "clients",
            "clients.csv",
            "invoices",
            "invoices.csv",
            "orders",
            "dashboard",
            "webhooks",
        ),
        contract="invoicer.invoices.contract:openapi_fragment",
    ),
    Component(
        "expenses",
        "http",
        "invoicer.expenses.app:create_app",
        "run the expenses service (received invoices and receipts)",
        bind_setting="EXPENSES_BIND",
        url_setting="EXPENSES_URL",
        migrations="invoicer.expenses.migrations",
        prefixes=("expenses", "expenses.csv"),
        max_body_setting="expense_max_bytes",
        contract="invoicer.expenses.contract:openapi_fragment",
    ),
    Component(
        "gateway",
        "http",
        "invoicer.gateway.app:create_app",
        "run the gateway",
        bind_setting="GATEWAY_BIND",
        needs_jwt_secret=True,
    ),
    Component(
        "worker",
        "consumer",
        "invoicer.worker.__main__:main",
        "run the invoice worker",
        queues=(Queue(RENDER, "job_max_retries", "render an uploaded or issued invoice"),),
    ),
    Component(
        "notification",
        "consumer",
        "invoicer.notification.__main__:main",
        "run the notification service",
        queues=(
            Queue(READY, "notify_max_retries", 'mail the uploader "your invoice is ready"'),
            Queue(MAIL, "notify_max_retries", "mail an issued invoice to its client"),
            Queue(ACCOUNT_MAIL, "notify_max_retries", "mail an account link: verification, reset, invitation"),
            Queue(
                EXPENSE_REVIEW,
                "notify_max_retries",
                "mail the approvers of an expense submitted for their decision",
                events=("expense.submitted",),
            ),
        ),
    ),
    Component(
        "intake",
        "consumer",
        "invoicer.expenses.intake:main",
        "run the intake worker (reads uploaded expense documents: e-invoice XML, text, OCR)",
        queues=(Queue(INTAKE, "intake_max_retries", "read an uploaded expense document"),),
    ),
    Component(
        "webhook",
        "consumer",
        "invoicer.webhook.__main__:main",
        "run the webhook sender (signed deliveries of domain events to registered endpoints)",
        queues=(
            Queue(
                WEBHOOK,
                "webhook_max_retries",
                "record domain events as webhook deliveries",
                events=WEBHOOK_EVENTS,
            ),
        ),
    ),
    Component(
        "outbox-relay",
        "consumer",
        "invoicer.common.relay:main",
        "publish the transactional outbox (domain events, commands) to RabbitMQ",
        options=_RELAY_OPTIONS,
        ready_line='"started"',
    ),
    Component("migrate", "job", "invoicer.cli:cmd_migrate", "create or upgrade the PostgreSQL schema"),
    Component(
        "cleanup",
        "job",
        "invoicer.retention.command:main",
        "delete uploads, rendered files, job rows and delivery logs past RETENTION_DAYS (README: Retention)",
        options=(Option("--dry-run", str, False, "count what would be deleted, delete nothing", switch=True),),
    ),
]


#: Room for a multipart envelope around a body of a component's ``max_body_setting``.
MULTIPART_OVERHEAD = 64 * 1024


def body_limits(settings: Any) -> dict[str, int]:
    """``{"/prefix": bytes}``: the larger request bodies the gateway lets through to the
    components that take them (their ``max_body_setting`` in ``settings``, plus a multipart
    envelope), for :func:`invoicer.common.web.make_app`'s ``body_limits``."""
    limits: dict[str, int] = {}
    for component in COMPONENTS:
        if component.max_body_setting:
            limit = int(getattr(settings, component.max_body_setting)) + MULTIPART_OVERHEAD
            limits.update({f"/{prefix}": limit for prefix in component.prefixes})
    return limits


def by_name(name: str) -> Component:
    """The component called ``name``; KeyError if there is none."""
    for component in COMPONENTS:
        if component.name == name:
            return component
    raise KeyError(name)


def register(component: Component) -> Component:
    """Add ``component`` to the registry (before the consumers, so an HTTP
    service starts with the others); ValueError if the name is taken. For
    a new service, add its entry to :data:`COMPONENTS` instead: this is for
    tests that make a throw-away one."""
    if any(existing.name == component.name for existing in COMPONENTS):
        raise ValueError(f"a component called {component.name!r} exists already")
    COMPONENTS.append(component)
    return component


def unregister(name: str) -> None:
    """Remove the component ``name`` (tests clean up with it)."""
    COMPONENTS[:] = [component for component in COMPONENTS if component.name != name]


def of_kind(*kinds: Kind) -> list[Component]:
    """The components of the given kinds, in registry order."""
    return [component for component in COMPONENTS if component.kind in kinds]


def migration_packages() -> list[str]:
    """The migration packages ``invoicer migrate`` applies, in this order:
    the infrastructure's (:data:`INFRASTRUCTURE_MIGRATIONS`), then each
    component's in registry order, each once."""
    packages = list(INFRASTRUCTURE_MIGRATIONS)
    for component in COMPONENTS:
        if component.migrations and component.migrations not in packages:
            packages.append(component.migrations)
    return packages


def queues() -> list[Queue]:
    """Every queue of every consumer, in registry order; ValueError if two
    components claim one routing key."""
    found: list[Queue] = []
    seen: set[str] = set()
    for component in COMPONENTS:
        for queue in component.queues:
            if queue.routing_key in seen:
                raise ValueError(f"two components consume {queue.routing_key!r}")
            seen.add(queue.routing_key)
            found.append(queue)
    return found


def forwarded_prefixes() -> dict[str, Component]:
    """First path segment -> the HTTP component the gateway forwards it to;
    ValueError if two components claim one prefix."""
    found: dict[str, Component] = {}
    for component in of_kind("http"):
        for prefix in component.prefixes:
            if prefix in found:
                raise ValueError(f"{found[prefix].name} and {component.name} both claim /{prefix}")
            found[prefix] = component
    return found


def names(components: Iterable[Component] | None = None) -> list[str]:
    """The names of ``components`` (default all), in registry order."""
    return [component.name for component in (COMPONENTS if components is None else components)]
