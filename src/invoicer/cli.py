"""The ``invoicer`` command.

    invoicer create-user EMAIL [--role user|admin] --password-stdin
    invoicer migrate
    invoicer render FILE... --out DIR [--formats pdf,xlsx]
    invoicer auth | gateway | invoices [--bind HOST:PORT]   (HTTP services, under gunicorn)
    invoicer worker | notification                          (queue consumers)
    invoicer outbox-relay [--batch-size N] [--idle-seconds S]   (domain events to RabbitMQ)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _settings():
    from .common.config import ConfigError, Settings  # noqa: PLC0415

    try:
        return Settings.from_env()
    except ConfigError as exc:
        sys.exit(f"invoicer: {exc}")


def cmd_migrate(args) -> int:
    from .common.db import Database, migrate  # noqa: PLC0415

    db = Database(_settings().database_url)
    applied = [name for package in ("invoicer.migrations", "invoicer.invoices.migrations") for name in migrate(db, package)]
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def cmd_create_user(args) -> int:
    # The same rules as POST /register, without the web layer (no Flask here).
    from .auth.accounts import Accounts, EmailTaken  # noqa: PLC0415
    from .common.db import Database, DatabaseUnavailable  # noqa: PLC0415
    from .common.errors import DomainError  # noqa: PLC0415

    settings = _settings()
    if not args.password_stdin:
        sys.exit("invoicer: pass the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    accounts = Accounts(Database(settings.database_url), settings)
    try:
        user = accounts.create(args.email, password, [args.role])
    except EmailTaken as exc:
        sys.exit(f"invoicer: an account for {exc.email} exists already")
    except DomainError as exc:
        sys.exit(f"invoicer: {exc.message}")
    except DatabaseUnavailable as exc:
        sys.exit(f"invoicer: the database is unavailable: {exc}")
    print(f"created {user.email} ({', '.join(user.roles)}) id={user.id}")
    return 0


def cmd_render(args) -> int:
    from .invoice import formats as output_formats  # noqa: PLC0415
    from .invoice.render import output_filename, render_formats  # noqa: PLC0415
    from .invoice.errors import InvalidInvoice, MalformedDocument  # noqa: PLC0415
    from .invoice.loader import load_invoice  # noqa: PLC0415
    from .invoice.parsing import parse_document  # noqa: PLC0415

    settings = _settings()
    formats = [part.strip().lower() for part in args.formats.split(",") if part.strip()]
    known = output_formats.names()
    unknown = [fmt for fmt in formats if fmt not in known]
    if unknown or not formats:
        sys.exit(f"invoicer: --formats takes a comma list of {', '.join(known)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for name in args.files:
        path = Path(name)
        try:
            invoice = load_invoice(parse_document(path.read_bytes()), max_lines=settings.max_lines,
                                   legacy_currency=settings.legacy_currency)
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            failures += 1
            continue
        except MalformedDocument as exc:
            where = f" (line {exc.line}, column {exc.column})" if exc.line else ""
            print(f"{path}: not valid JSON{where}: {exc.message}", file=sys.stderr)
            failures += 1
            continue
        except InvalidInvoice as exc:
            for error in exc.errors:
                print(f"{path}: {error.pointer or '/'}: {error.message}", file=sys.stderr)
            failures += 1
            continue
        rendered = render_formats(invoice, formats, page_size=settings.invoice_page_size,
                                  locale=settings.invoice_locale)
        for fmt, data in rendered.items():
            # Name after the input file: two inputs may share an invoice number.
            target = out / output_filename(path.stem, fmt)
            target.write_bytes(data)
            print(target)
    return 1 if failures else 0


def _serve(app_factory: str, bind: str, settings) -> int:
    from gunicorn.app.base import BaseApplication  # noqa: PLC0415

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", [bind])
            self.cfg.set("workers", settings.web_workers)
            self.cfg.set("threads", settings.web_threads)
            self.cfg.set("worker_tmp_dir", "/tmp")
            self.cfg.set("accesslog", "-")
            # gunicorn's default line plus the request id (X-Request-ID) the app answered with.
            self.cfg.set("access_log_format", '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" '
                         'request_id=%({x-request-id}o)s')
            self.cfg.set("graceful_timeout", 20)
            self.cfg.set("timeout", 60)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn >= 25 opens one control socket per user by default,
                # which several instances on one machine would fight over.
                self.cfg.set("control_socket_disable", True)

        def load(self):
            module_name, _, factory = app_factory.partition(":")
            module = __import__(module_name, fromlist=[factory])
            return getattr(module, factory)(settings)

    _App().run()
    return 0


def cmd_auth(args) -> int:
    from .common import logging as logs  # noqa: PLC0415

    settings = _settings()
    logs.configure("auth", settings.log_level)
    return _serve("invoicer.auth.app:create_app", args.bind or settings.auth_bind, settings)


def cmd_gateway(args) -> int:
    from .common import logging as logs  # noqa: PLC0415

    settings = _settings()
    logs.configure("gateway", settings.log_level)
    return _serve("invoicer.gateway.app:create_app", args.bind or settings.gateway_bind, settings)


def cmd_invoices(args: argparse.Namespace) -> int:
    from .common import logging as logs

    settings = _settings()
    logs.configure("invoices", settings.log_level)
    return _serve("invoicer.invoices.app:create_app", args.bind or settings.invoices_bind, settings)


def cmd_outbox_relay(args: argparse.Namespace) -> int:
    """Publish the invoices service's outbox until SIGTERM/SIGINT; with
    HEALTH_PORT, GET /healthz answers 503 once no round has finished for
    two minutes (the relay is stuck), as the consumers' does."""
    import signal

    from .common import logging as logs
    from .common.consumer_main import _Liveness, _serve_health
    from .common.db import Database
    from .invoices.relay import Relay

    settings = _settings()
    logs.configure("outbox-relay", settings.log_level)
    log = logs.get_logger("invoicer.outbox-relay")
    liveness = _Liveness()

    class _WatchedRelay(Relay):
        def publish_batch(self) -> int:
            published = super().publish_batch()
            liveness.beat()
            return published

    relay = _WatchedRelay(
        Database(settings.database_url),
        settings.amqp_url,
        settings.amqp_prefix,
        batch_size=args.batch_size,
        idle_seconds=args.idle_seconds,
    )

    def _stop(signum: int, _frame: object) -> None:
        log.info("stopping", extra={"signal": signum})
        relay.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if settings.health_port:
        _serve_health(settings.health_port, liveness)
    log.info("started", extra={"exchange": relay.exchange, "batch_size": args.batch_size})
    relay.run()
    return 0


def cmd_worker(args) -> int:
    from .worker.__main__ import main as worker_main  # noqa: PLC0415

    worker_main()
    return 0


def cmd_notification(args) -> int:
    from .notification.__main__ import main as notification_main  # noqa: PLC0415

    notification_main()
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .invoice import formats as output_formats  # noqa: PLC0415  (no renderer is imported)

    parser = argparse.ArgumentParser(prog="invoicer", description="Invoice rendering pipeline")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("create-user", help="create an account")
    p.add_argument("email")
    p.add_argument("--role", choices=["user", "admin"], default="user")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("migrate", help="create or upgrade the PostgreSQL schema")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("render", help="render invoice JSON files locally, with the worker's code")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--out", required=True, metavar="DIR")
    known = output_formats.names()
    p.add_argument("--formats", default=",".join(known),
                   help=f"comma list of {', '.join(known)} (default all)")
    p.set_defaults(func=cmd_render)

    for name, func, help_text in (("auth", cmd_auth, "run the auth service"),
                                  ("gateway", cmd_gateway, "run the gateway"),
                                  ("invoices", cmd_invoices, "run the invoices service (billing records)")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--bind", help="HOST:PORT (default from AUTH_BIND / GATEWAY_BIND / INVOICES_BIND)")
        p.set_defaults(func=func)
    sub.add_parser("worker", help="run the invoice worker").set_defaults(func=cmd_worker)
    sub.add_parser("notification", help="run the notification service").set_defaults(func=cmd_notification)
    p = sub.add_parser("outbox-relay", help="publish the invoices service's domain events to RabbitMQ")
    p.add_argument("--batch-size", type=int, default=100, help="events claimed per transaction (default 100)")
    p.add_argument("--idle-seconds", type=float, default=0.5, help="pause when idle (default 0.5)")
    p.set_defaults(func=cmd_outbox_relay)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
