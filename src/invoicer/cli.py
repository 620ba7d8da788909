"""The ``invoicer`` command.

invoicer create-user EMAIL [--role user|admin] --password-stdin
invoicer migrate
invoicer cleanup [--dry-run]                               (retention: README "Retention")
invoicer render FILE... --out DIR [--formats pdf,xlsx] [--serial]    (FILE "-" is standard input)
invoicer auth | gateway | invoices [--bind HOST:PORT]   (HTTP services, under gunicorn)
invoicer worker | notification                          (queue consumers)
invoicer outbox-relay [--batch-size N] [--idle-seconds S]   (the outbox to RabbitMQ)
invoicer einvoice validate FILE... [--xrechnung]       (EN 16931 rules; exit 1 on a fatal one)
invoicer records rebuild-summary [--organisation ID] [--check]   (the dashboard's summary, from the invoices)
invoicer --version

One command per HTTP service and per consumer of the component registry
(:mod:`invoicer.common.components`), made by :func:`cmd_http` and
:func:`cmd_consumer`, and per run-once job (:func:`cmd_job`: ``migrate``,
``cleanup``): a component added there has its command here.

A setting that does not parse (e.g. an ``INVOICE_LOCALE`` Babel does not
know) or a database that does not answer stops any command at start-up with
one line on standard error, ``invoicer: …``, and exit status 1; never a
traceback.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import os
import re
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # at run time each command imports what it needs
    from .common.components import Component
    from .common.config import Settings

__all__ = ["main"]


def _settings() -> Settings:
    from .common.config import ConfigError, Settings

    try:
        return Settings.from_env()
    except ConfigError as exc:
        sys.exit(f"invoicer: {exc}")


def _without_password(dsn: str) -> str:
    """``dsn`` (a libpq URI or ``key=value`` string) with its password shown as ``***``."""
    parts = urlsplit(dsn)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", dsn)


def _database_down(settings: Settings, exc: Exception) -> NoReturn:
    """Exit with one line naming the database (without its password) and why."""
    reason = " ".join(str(exc).split())  # libpq's messages span lines
    sys.exit(f"invoicer: the database at {_without_password(settings.database_url)} is unavailable: {reason}")


def cmd_migrate(args: argparse.Namespace | None = None) -> int:
    from .common.components import migration_packages
    from .common.db import Database, DatabaseUnavailable, migrate

    settings = _settings()
    db = Database(settings.database_url)
    try:
        applied = [name for package in migration_packages() for name in migrate(db, package)]
    except DatabaseUnavailable as exc:
        _database_down(settings, exc)
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def cmd_records_rebuild_summary(args: argparse.Namespace) -> int:
    """Recompute everything derived from the invoices (``invoice_summary``)
    for one organisation or all; with ``--check`` only compare, exiting 1
    when something differs. Needed after rows reached the table without its
    triggers (``TRUNCATE``, ``session_replication_role = replica``, a
    data-only restore with ``--disable-triggers``)."""
    import uuid

    from .common.db import Database, DatabaseUnavailable
    from .invoices.queries import rebuild_summary, summary_differences

    organisation = None
    if args.organisation:
        try:
            organisation = uuid.UUID(args.organisation)
        except ValueError:
            sys.exit(f"invoicer: --organisation {args.organisation!r} is not an organisation id (a UUID)")
    settings = _settings()
    db = Database(settings.database_url)
    try:
        with db.transaction() as cur:
            wrong = len(summary_differences(cur, organisation)) if args.check else rebuild_summary(cur, organisation)
    except DatabaseUnavailable as exc:
        _database_down(settings, exc)
    scope = f"organisation {organisation}" if organisation else "every organisation"
    if args.check:
        print(f"summary of {scope}: {wrong} key(s) differ from the invoices")
        return 1 if wrong else 0
    print(f"summary of {scope} rebuilt from the invoices; {wrong} key(s) were wrong")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    # The same rules as POST /register, without the web layer (no Flask here).
    from .auth.accounts import Accounts, EmailTaken
    from .common.db import Database, DatabaseUnavailable
    from .common.errors import DomainError

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
        _database_down(settings, exc)
    print(f"created {user.email} ({', '.join(user.roles)}) id={user.id}")
    return 0


#: What ``invoicer render`` writes unless ``--formats`` says otherwise.
DOCUMENT_FORMATS = ("pdf", "xlsx")

PARALLEL_MIN_LINES = 300
"""From this many lines on, ``invoicer render`` renders an invoice's formats
at the same time in forked processes, one per core (``--serial`` turns that
off); below it a fork costs more than it saves (``bench/RESULTS.md``)."""


def _cpus() -> int:
    """The CPUs this process may run on (its affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cmd_render(args: argparse.Namespace) -> int:
    from .invoice import formats as output_formats
    from .invoice.errors import InvalidInvoice, MalformedDocument
    from .invoice.loader import load_invoice
    from .invoice.parsing import parse_document
    from .invoice.render import output_filename, render_formats

    settings = _settings()
    formats = [part.strip().lower() for part in args.formats.split(",") if part.strip()]
    known = output_formats.names()
    unknown = [fmt for fmt in formats if fmt not in known]
    if unknown or not formats:
        sys.exit(f"invoicer: --formats takes a comma list of {', '.join(known)}")
    if args.files.count("-") > 1:
        sys.exit("invoicer: standard input (-) can be read only once")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for name in args.files:
        from_stdin = name == "-"
        path = Path("<stdin>" if from_stdin else name)
        try:
            raw = sys.stdin.buffer.read() if from_stdin else path.read_bytes()
            invoice = load_invoice(
                parse_document(raw), max_lines=settings.max_lines, legacy_currency=settings.legacy_currency
            )
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
        rendered = render_formats(
            invoice,
            formats,
            page_size=settings.invoice_page_size,
            locale=settings.invoice_locale,
            processes=1 if args.serial or len(invoice.lines) < PARALLEL_MIN_LINES else _cpus(),
        )
        for fmt, data in rendered.items():
            # Name after the input file: two inputs may share an invoice number.
            # Standard input has no name: use the invoice number, as the worker does.
            target = out / output_filename(invoice.invoice_number if from_stdin else path.stem, fmt)
            target.write_bytes(data)
            print(target)
    return 1 if failures else 0


def cmd_einvoice_validate(args: argparse.Namespace) -> int:
    """Validate each FILE (CII, UBL, or a PDF carrying one) with the official
    EN 16931 rules (and XRechnung/Peppol's where BT-24 names them); print each
    failed rule; exit 1 if any file has a fatal one or is not an e-invoice."""
    from .invoice.einvoice.validation import NotAnEInvoice, validate

    status = 0
    for name in args.files:
        path = Path(name)
        try:
            report = validate(path.read_bytes(), xrechnung=True if args.xrechnung else None)
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        except NotAnEInvoice as exc:
            print(f"{path}: not an e-invoice: {exc}", file=sys.stderr)
            status = 1
            continue
        what = f"{report.syntax} {report.document}" + (f" ({report.attachment})" if report.attachment else "")
        verdict = "valid" if report.valid else f"INVALID, {len(report.fatal)} fatal"
        print(f"{path}: {what}, {report.specification or 'no BT-24'}: {verdict} (rules: {', '.join(report.rule_sets)})")
        for finding in report.findings:
            if finding.flag == "information" and not args.verbose:
                continue
            where = f" at {finding.location}" if finding.location else ""
            print(f"  {finding.rule} {finding.flag}: {finding.text}{where}")
        if not report.valid:
            status = 1
    return status


def cmd_extract(args: argparse.Namespace) -> int:
    """Read each FILE (a received invoice or receipt: PDF, PNG, JPEG, TIFF, CII/UBL XML) and
    write ``<stem>.json`` into --out (``Extraction.to_json``: fields with value, confidence,
    source, page and box; checks; plus the ``seconds`` and ``cpu_seconds`` (all threads) the
    reading took); print one summary line
    per file. Exit 1 if a file could not be read at all (its JSON still says why)."""
    import json
    import time

    from .invoice.reading import extract

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    status = 0
    for name in args.files:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        started, cpu_started = time.perf_counter(), time.process_time()
        result = extract(data, path.name)
        document = result.to_json() | {
            "seconds": round(time.perf_counter() - started, 3),
            "cpu_seconds": round(time.process_time() - cpu_started, 3),
        }
        (out / f"{path.stem}.json").write_text(
            json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        if result.error and not result.fields:
            print(f"{path}: {result.kind}: {result.error}", file=sys.stderr)
            status = 1
            continue
        found = ", ".join(f"{k}={v.value} ({v.confidence:.2f})" for k, v in result.fields.items())
        print(f"{path}: {result.kind}: {found}")
    return status


def _serve(app_factory: str, bind: str, settings: Settings, service: str | None = None) -> int:
    from gunicorn.app.base import BaseApplication

    from .common import serving

    # Before anything imports prometheus_client: its multiprocess directory.
    metrics_dir = serving.prepare_metrics(settings)

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in serving.options(bind, settings, service).items():
                self.cfg.set(key, value)
            for key, value in serving.metrics_hooks(settings, metrics_dir, bind).items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn >= 25 opens one control socket per user by default,
                # which several instances on one machine would fight over.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:  # the WSGI app the factory builds
            module_name, _, factory = app_factory.partition(":")
            module = __import__(module_name, fromlist=[factory])
            return getattr(module, factory)(settings)

    _App().run()
    return 0


def cmd_http(component: Component, args: argparse.Namespace) -> int:
    """``invoicer NAME [--bind HOST:PORT]`` for an HTTP component of the
    registry: its app (``factory(settings)``) under gunicorn, listening on
    ``--bind`` or its bind setting."""
    from .common import logging as logs

    settings = _settings()
    if component.needs_jwt_secret:
        settings.require_jwt_secret()  # here, once, rather than in every gunicorn worker
    logs.configure(component.name, settings.log_level)
    bind = args.bind or component.bind(settings)
    if not bind:
        sys.exit(f"invoicer: {component.name} needs --bind HOST:PORT (it has no bind setting)")
    return _serve(component.factory, bind, settings, component.name)


def cmd_consumer(component: Component, args: argparse.Namespace) -> int:
    """``invoicer NAME [--option ...]`` for a consumer of the registry: its
    factory with the options as keywords, until SIGTERM/SIGINT. A bad
    setting stops it here with one line, before any connection."""
    _settings()
    component.load()(**{option.dest: getattr(args, option.dest) for option in component.options})
    return 0


def cmd_job(component: Component, args: argparse.Namespace) -> int:
    """``invoicer NAME [--option ...]`` for a run-once job of the registry
    (``migrate``, ``cleanup``): its factory with the options as keywords;
    its return value is the exit status."""
    status: int | None = component.load()(**{option.dest: getattr(args, option.dest) for option in component.options})
    return status or 0


def build_parser() -> argparse.ArgumentParser:
    from .common import components  # data only: no service is imported
    from .invoice import formats as output_formats  # no renderer is imported

    parser = argparse.ArgumentParser(prog="invoicer", description="Invoice rendering pipeline")
    parser.add_argument("--version", action="version", version=f"invoicer {importlib.metadata.version('invoicer')}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("create-user", help="create an account")
    p.add_argument("email")
    p.add_argument("--role", choices=["user", "admin"], default="user")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("render", help="render invoice JSON files locally, with the worker's code")
    p.add_argument("files", nargs="+", metavar="FILE", help="invoice JSON files; - reads standard input")
    p.add_argument("--out", required=True, metavar="DIR")
    known = output_formats.names()
    p.add_argument(
        "--formats",
        default=",".join(DOCUMENT_FORMATS),
        help=f"comma list of {', '.join(known)} (default {','.join(DOCUMENT_FORMATS)}: the documents people read;"
        " cii, ubl and facturx are e-invoices)",
    )
    p.add_argument(
        "--serial",
        action="store_true",
        help=f"render the formats one after another in this process (by default an invoice of "
        f"{PARALLEL_MIN_LINES} lines or more has its formats rendered at the same time, one process per core)",
    )
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("einvoice", help="EN 16931 e-invoices (Factur-X, XRechnung, Peppol)")
    einvoice = p.add_subparsers(dest="einvoice_command", required=True)
    p = einvoice.add_parser(
        "validate",
        help="check CII/UBL files, or PDFs carrying them, with the official EN 16931 rules (exit 1 on a fatal one)",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--xrechnung", action="store_true", help="also apply the XRechnung and Peppol rules")
    p.add_argument("--verbose", action="store_true", help="also print findings of level information")
    p.set_defaults(func=cmd_einvoice_validate)

    p = sub.add_parser("records", help="the invoices service's records")
    records = p.add_subparsers(dest="records_command", required=True)
    p = records.add_parser(
        "rebuild-summary", help="recompute the dashboard's summary from the invoices (after a load behind the triggers)"
    )
    p.add_argument("--organisation", metavar="ID", help="only this organisation (default: all)")
    p.add_argument("--check", action="store_true", help="only compare; exit 1 when the summary differs")
    p.set_defaults(func=cmd_records_rebuild_summary)

    p = sub.add_parser("extract", help="read received invoices and receipts (e-invoice XML, text PDF, OCR)")
    p.add_argument("files", nargs="+", metavar="FILE", help="PDF, PNG, JPEG, TIFF or CII/UBL XML files")
    p.add_argument("--out", default=".", metavar="DIR", help="where <stem>.json goes (default .)")
    p.set_defaults(func=cmd_extract)

    for component in components.of_kind("http", "consumer", "job"):
        p = sub.add_parser(component.name, help=component.help)
        if component.kind == "http":
            default = f" (default from {component.bind_setting})" if component.bind_setting else ""
            p.add_argument("--bind", help=f"HOST:PORT{default}")
            p.set_defaults(func=partial(cmd_http, component))
            continue
        for option in component.options:
            if option.switch:
                p.add_argument(option.flag, action="store_true", help=option.help)
            else:
                p.add_argument(option.flag, type=option.type, default=option.default, help=option.help)
        p.set_defaults(func=partial(cmd_consumer if component.kind == "consumer" else cmd_job, component))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` names (default ``sys.argv[1:]``); returns the
    exit status. Settings errors exit with status 1 and one ``invoicer: …`` line."""
    from .common.config import ConfigError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except ConfigError as exc:
        sys.exit(f"invoicer: {exc}")


def run() -> NoReturn:
    """The ``invoicer`` program (its console script): :func:`main`, then exit
    with its status.

    On the way out everything still alive is put beyond the cyclic garbage
    collector's reach (``gc.freeze``): the interpreter's shutdown would
    otherwise traverse all of it (pydantic's validators, ReportLab's fonts,
    Babel's locale data) once more, some 80 ms of a one-invoice
    ``invoicer render`` (``bench/RESULTS.md``). Output files are closed
    already and atexit handlers run as usual; objects in reference cycles are
    left to the operating system, as an interpreter exit may leave them anyway."""
    try:
        status = main()
    finally:
        gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    run()
