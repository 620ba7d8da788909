"""Settings from environment variables: the only module that reads ``os.environ``.

Every setting has a default that runs against the local stack (``make up``),
except the JWT signing key, which must come from the environment (the local
stack generates one into ``var/secrets.env``). The README's configuration table
lists the same names; keep the two in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from .components import COMPONENTS

__all__ = ["ConfigError", "Settings", "export"]


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _fraction(name: str, raw: str) -> float:
    """A number from 0 to 1 (a confidence)."""
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number from 0 to 1, got {raw!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be a number from 0 to 1, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """All of invoicer's configuration. Build it with :meth:`from_env`.

    Field names are the lower-case environment variable names.
    """

    # Connections
    database_url: str = "postgresql://postgres@127.0.0.1:5432/invoicer"
    mongodb_uri: str = "mongodb://127.0.0.1:27017/invoicer"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    amqp_prefix: str = "invoicer"
    auth_url: str = "http://127.0.0.1:8081"
    invoices_url: str = "http://127.0.0.1:8082"
    expenses_url: str = "http://127.0.0.1:8083"
    public_url: str = "http://127.0.0.1:8080"
    # Tokens and accounts
    jwt_secret: str = ""
    jwt_issuer: str = "invoicer-auth"
    jwt_audience: str = "invoicer"
    jwt_ttl_seconds: int = 900
    registration_enabled: bool = True
    password_min_length: int = 12
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_window_seconds: int = 300
    trusted_proxy_hops: int = 0
    session_max_seconds: int = 12 * 3600
    email_verification_ttl_seconds: int = 48 * 3600
    password_reset_ttl_seconds: int = 3600
    invitation_ttl_seconds: int = 14 * 24 * 3600
    password_reset_max_per_address: int = 3
    password_reset_max_per_client: int = 10
    password_reset_window_seconds: int = 3600
    # Uploads and rendering
    max_upload_bytes: int = 1024 * 1024
    max_lines: int = 10_000
    legacy_currency: str = "USD"
    invoice_page_size: str = "A4"
    invoice_locale: str = "en_GB"
    # Consumers
    worker_prefetch: int = 4
    job_max_retries: int = 5
    retry_base_delay_ms: int = 1000
    notify_max_retries: int = 5
    # Expenses: documents read one at a time (OCR needs about 1 GB), retried thrice
    intake_prefetch: int = 1
    intake_max_retries: int = 3
    expense_max_bytes: int = 10 * 1024 * 1024
    expense_review_threshold: float = 0.9
    # Webhooks (invoicer.webhook): networks let through the address policy (CIDRs), the
    # seconds between delivery attempts (after the first; then dead), the HTTP timeout,
    # how long a rotated secret still signs, and retries of recording an event.
    webhook_allowed_networks: str = ""
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,36000"
    webhook_timeout_seconds: int = 5
    webhook_secret_grace_seconds: int = 86400
    webhook_max_retries: int = 5
    # Mail
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: int = 10
    mail_from: str = "invoicer@localhost"
    # Retention (invoicer cleanup)
    retention_days: int = 90
    retention_legal_years: int = 10
    # Operations
    log_level: str = "INFO"
    health_port: int = 0
    # HTTP services: the gunicorn master's /metrics port (0: off) and where its
    # workers keep their samples (empty: a new temporary directory per start).
    metrics_port: int = 0
    prometheus_multiproc_dir: str = ""
    gateway_bind: str = "127.0.0.1:8080"
    auth_bind: str = "127.0.0.1:8081"
    invoices_bind: str = "127.0.0.1:8082"
    expenses_bind: str = "127.0.0.1:8083"
    web_workers: int = 2
    web_threads: int = 4
    # Traces (common/tracing.py): off unless one of these is set.
    otel_exporter_otlp_endpoint: str = ""
    traces_file: str = ""
    # Time limits: the services give up on PostgreSQL well before the gateway gives up on them
    database_statement_timeout_ms: int = 20_000
    database_lock_timeout_ms: int = 5_000
    forward_timeout_seconds: int = 50
    # The bind and URL settings of registry components that have no field
    # above (a new service's <NAME>_BIND and <NAME>_URL), as (variable, value)
    # pairs; only the variables registry entries name are read.
    component_settings: tuple[tuple[str, str], ...] = field(default=(), metadata={"env": False})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every field from ``environ`` (default ``os.environ``).

        Raises :class:`ConfigError` naming the variable when a value does not
        parse. Unknown variables are ignored.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}  # each value of its field's type, by the branches below
        for f in _env_fields():
            name = f.name.upper()
            if name not in env:
                continue
            raw = env[name]
            if f.type in ("bool", bool):
                values[f.name] = _bool(name, raw)
            elif f.type in ("int", int):
                values[f.name] = _int(name, raw)
            elif f.type in ("float", float):
                values[f.name] = _fraction(name, raw)
            else:
                values[f.name] = raw
        own = set(cls.names())
        values["component_settings"] = tuple(
            (name, env[name])
            for component in COMPONENTS
            for name in (component.bind_setting, component.url_setting)
            if name and name not in own and name in env
        )
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Check rules a single field's type cannot state; raises
        :class:`ConfigError` naming the variable. ``INVOICE_LOCALE`` must be
        a CLDR locale identifier Babel knows (``Locale.parse``, the same call
        the renderers make), so a typo stops every command at start-up
        instead of failing each job."""
        # Imported here: `invoicer --help` reads no settings and loads no Babel.
        from babel import Locale, UnknownLocaleError  # noqa: PLC0415

        try:
            Locale.parse(self.invoice_locale)
        except (UnknownLocaleError, ValueError, TypeError):
            raise ConfigError(f"INVOICE_LOCALE {self.invoice_locale!r} is not a locale Babel knows") from None
        if self.invoice_page_size.upper() not in {"A4", "LETTER"}:
            raise ConfigError("INVOICE_PAGE_SIZE must be A4 or LETTER")
        if self.smtp_ssl and self.smtp_starttls:
            raise ConfigError("SMTP_SSL and SMTP_STARTTLS exclude each other")
        if self.retention_days < 1:
            raise ConfigError(f"RETENTION_DAYS must be at least 1, got {self.retention_days}")
        if self.retention_legal_years < 1:
            raise ConfigError(f"RETENTION_LEGAL_YEARS must be at least 1, got {self.retention_legal_years}")
        self.allowed_networks  # noqa: B018 - raises ConfigError
        self.retry_schedule  # noqa: B018 - raises ConfigError
        if self.webhook_timeout_seconds < 1:
            raise ConfigError("WEBHOOK_TIMEOUT_SECONDS must be at least 1")

    @property
    def allowed_networks(self) -> tuple[Any, ...]:
        """``WEBHOOK_ALLOWED_NETWORKS`` parsed (``ipaddress`` networks);
        :class:`ConfigError` naming a bad CIDR."""
        from .webhooks import parse_networks  # noqa: PLC0415 - loads standardwebhooks

        try:
            return parse_networks(self.webhook_allowed_networks)
        except ValueError as exc:
            raise ConfigError(f"WEBHOOK_ALLOWED_NETWORKS: {exc}") from None

    @property
    def retry_schedule(self) -> tuple[float, ...]:
        """``WEBHOOK_RETRY_SCHEDULE``: seconds before each retry of a webhook
        delivery (comma-separated, each more than 0, at least one);
        :class:`ConfigError` otherwise."""
        try:
            delays = tuple(float(item) for item in self.webhook_retry_schedule.split(","))
        except ValueError:
            delays = ()
        if not delays or any(not 0 < delay <= 7 * 86400 for delay in delays):
            raise ConfigError(
                "WEBHOOK_RETRY_SCHEDULE must be seconds separated by commas, each more than 0"
                f" and at most a week, got {self.webhook_retry_schedule!r}"
            )
        return delays

    def require_jwt_secret(self) -> str:
        """The JWT signing key; raises :class:`ConfigError` if it is unset or
        shorter than 32 characters (RFC 7518 section 3.2 asks HS256 keys to be
        at least as long as the hash, 256 bits)."""
        if len(self.jwt_secret) < 32:
            raise ConfigError("JWT_SECRET must be set to at least 32 characters")
        return self.jwt_secret

    def component_setting(self, name: str) -> str | None:
        """The value of a registry component's bind or URL setting ``name``
        (``AUTH_BIND``, ``GREETINGS_URL``): the field of that name if there
        is one, else what the environment gave (``None`` if nothing)."""
        value = getattr(self, name.lower(), None) if name in self.names() else dict(self.component_settings).get(name)
        return value if isinstance(value, str) and value else None

    @property
    def mongodb_database(self) -> str:
        """Database name from ``MONGODB_URI``'s path, ``invoicer`` if none."""
        path = urlsplit(self.mongodb_uri).path.lstrip("/")
        return path or "invoicer"

    @staticmethod
    def names() -> list[str]:
        """Every environment variable this module reads as a field (besides
        those of :attr:`component_settings`)."""
        return [f.name.upper() for f in _env_fields()]


def export(name: str, value: str) -> None:
    """Put ``name=value`` into this process's environment, which the
    processes it starts inherit: for a library configured only through the
    environment (prometheus-client reads ``PROMETHEUS_MULTIPROC_DIR`` when
    imported). Here because this module is the one that touches ``os.environ``."""
    os.environ[name] = value


def _env_fields() -> list[Any]:
    """The fields of :class:`Settings` read from a variable of their name."""
    return [f for f in fields(Settings) if f.metadata.get("env", True)]
