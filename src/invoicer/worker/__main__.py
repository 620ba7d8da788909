"""The invoice worker process: ``invoicer worker`` or ``python -m invoicer.worker``."""

from __future__ import annotations

import time
from decimal import Decimal

from ..common.amqp import RENDER
from ..common.config import Settings
from ..common.consumer_main import run_consumer
from ..common.db import Database
from ..common.jobs import JobStore
from ..common.logging import get_logger
from ..common.storage import BlobStore
from ..invoice import formats as output_formats
from ..invoice.loader import load_invoice
from ..invoice.render import render_formats
from ..invoice.typefaces import register_fonts
from .handler import RenderHandler

log = get_logger(__name__)

# A small invoice rendered once at start-up; Latin, Greek and Cyrillic so
# that the text paths of the PDF and the XLSX all run once.
_WARM_UP = {
    "invoice_number": "WARM-UP",
    "issue_date": "2026-01-01",
    "currency": "EUR",
    "seller": {"name": "Søren Ølstad", "address": "Ulica Łódzka 1\nΑθήνα"},  # noqa: RUF001
    "buyer": {"name": "Иван Петров", "address": "Москва"},
    "lines": [{"description": "Warm-up", "quantity": Decimal("1"), "unit_price": Decimal("1.00"), "tax_rate": 19}],
}


def warm_up(settings: Settings) -> float:
    """Load what the first job would otherwise pay for, before consuming:
    every registered renderer's module (the format registry imports them
    lazily), the fonts (TTF files parsed once, :func:`register_fonts`), the
    invoice models, and Babel's locale data for ``INVOICE_LOCALE``, by
    rendering a small built-in invoice in every format once. Returns the
    seconds it took. Never raises: a failure is logged, and the jobs meet it
    (and report it) as they did before."""
    started = time.perf_counter()
    try:
        for name in output_formats.names():
            output_formats.get(name).renderer  # noqa: B018 - imports the renderer's module
        register_fonts()
        render_formats(
            load_invoice(_WARM_UP),
            output_formats.names(),
            page_size=settings.invoice_page_size,
            locale=settings.invoice_locale,
        )
    except Exception as exc:  # noqa: BLE001 - the worker still starts; jobs report the error
        log.warning("warm-up failed", extra={"error": repr(exc)})
    seconds = time.perf_counter() - started
    log.info("renderers loaded", extra={"warm_up_ms": round(seconds * 1000, 1)})
    return seconds


def main() -> None:
    """Consume ``invoice.render`` until SIGTERM/SIGINT."""

    def build(settings: Settings) -> RenderHandler:
        jobs = JobStore(Database(settings.database_url, max_connections=2))
        blobs = BlobStore(settings.mongodb_uri, settings.mongodb_database)
        warm_up(settings)  # at start-up, not during the first job
        return RenderHandler(jobs=jobs, blobs=blobs, settings=settings)

    run_consumer("worker", RENDER, build, prefetch_setting="worker_prefetch")


if __name__ == "__main__":
    main()
