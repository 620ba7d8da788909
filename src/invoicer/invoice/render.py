"""Rendering an invoice in the requested formats: the one code path used by
the worker and by ``invoicer render``. The formats themselves (renderer,
media type, suffix) are in the registry, :mod:`invoicer.invoice.formats`."""

from __future__ import annotations

import gc
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import formats as registry
from .formats import RenderOptions
from .model import Invoice

__all__ = ["output_filename", "render_formats"]

# Anything but letters and digits of any script, "." and "-": separators, spaces, punctuation.
_UNSAFE = re.compile(r"[^\w.-]+|_+")


def output_filename(invoice_number: str, fmt: str) -> str:
    """A file name for the invoice in format ``fmt``: its number with
    anything but letters and digits (of any script), ``.`` and ``-``
    replaced by ``_`` and the format's suffix, e.g. ``INV-2026-0001.pdf``,
    ``СЧ-2026-7.pdf``. A download names it with RFC 6266's ``filename*``
    (UTF-8) beside an ASCII ``filename`` (Werkzeug's ``send_file``), so a
    non-Latin number keeps its name. Raises
    :class:`~invoicer.invoice.formats.UnknownFormat`."""
    stem = _UNSAFE.sub("_", invoice_number).strip("._")[:100] or "invoice"
    return f"{stem}.{registry.get(fmt).suffix}"


def render_formats(
    invoice: Invoice,
    formats: list[str],
    *,
    page_size: str = "A4",
    locale: str = "en_GB",
    processes: int = 1,
    einvoice: str | None = None,
    on_rendered: Callable[[str, float], None] | None = None,
) -> dict[str, bytes]:
    """``{format: file bytes}`` for each name in ``formats`` (``pdf``,
    ``xlsx``, …), in that order. Raises
    :class:`~invoicer.invoice.formats.UnknownFormat` (a ``KeyError``) for an
    unknown format, ``ValueError`` for an unknown page size or locale or a
    cycle of needs.

    A format that ``needs`` others (:attr:`~invoicer.invoice.formats.OutputFormat.needs`)
    is rendered after them, with their bytes in ``options.inputs``; a needed
    format is rendered even if not asked for, but only the asked ones are
    returned (:func:`invoicer.invoice.formats.plan`).

    With ``processes`` > 1, up to ``processes - 1`` of the formats that need
    none after the first are rendered at the same time in forked child
    processes (POSIX ``fork``), the first in this one; the formats that need
    others follow here, in order. The same bytes, sooner on a machine
    with more than one core. Only for a process without threads (the CLI;
    the worker scales by processes instead). A child that fails changes
    nothing: its format is rendered again here, which raises what the
    renderer raises. ``einvoice`` names the e-invoice profile of the
    ``cii``, ``ubl`` and ``facturx`` formats (see
    :class:`~invoicer.invoice.formats.RenderOptions`). ``on_rendered(format,
    seconds)`` is called after each format this process rendered (wall time;
    a needed format too; not those rendered in a child process)."""
    options = RenderOptions(page_size=page_size, locale=locale, einvoice=einvoice)

    def render(fmt: registry.OutputFormat, opts: RenderOptions) -> bytes:
        started = time.perf_counter()
        data = fmt(invoice, opts)
        if on_rendered is not None:
            on_rendered(fmt.name, time.perf_counter() - started)
        return data

    chosen = registry.plan(formats)  # every name (and every need) checked before any work
    free = [fmt for fmt in chosen if not fmt.needs]
    with _no_cycle_collection():
        done: dict[str, bytes] = {}
        if processes < 2 or len(free) < 2 or not hasattr(os, "fork"):
            for fmt in free:
                done[fmt.name] = render(fmt, options)
        else:
            pending = {fmt.name: _in_child(fmt, invoice, options) for fmt in free[1:processes]}
            done[free[0].name] = render(free[0], options)
            for fmt in free[1:]:
                collect = pending.get(fmt.name)
                data = collect() if collect is not None else None
                done[fmt.name] = data if data is not None else render(fmt, options)
        for fmt in chosen:
            if fmt.needs:  # after everything it needs: plan() put those first
                inputs = {name: done[name] for name in fmt.needs}
                done[fmt.name] = render(fmt, options._replace(inputs=inputs))
        return {name: done[name] for name in dict.fromkeys(formats)}


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block, then resumed.

    A render allocates hundreds of thousands of short-lived objects (laid-out
    lines, cells, PDF operators), which set off collections that traverse
    everything alive, the invoice included, again and again: a fifth to a
    quarter of a 10 000-line render (``bench/RESULTS.md``). Reference counting
    still frees what is not in a cycle at once; the few cycles a render makes
    wait for the next collection after it. Process-wide (``gc.disable``):
    another thread's block that ends first resumes collection early, which
    costs speed, never correctness."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _in_child(fmt: registry.OutputFormat, invoice: Invoice, options: RenderOptions) -> Callable[[], bytes | None]:
    """Start rendering ``invoice`` as ``fmt`` in a forked child; the returned
    function waits for it and gives its bytes, or ``None`` if it failed."""
    import multiprocessing  # noqa: PLC0415 - only for a parallel render: ~10 ms to import

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_render_to, args=(sender, fmt, invoice, options), daemon=True)
    # Forked inside _no_cycle_collection: the child's collector stays paused too, so it
    # does not walk (and copy on write) the pages of the parent's objects.
    child.start()
    sender.close()  # the child holds the only sending end: EOF when it dies

    def collect() -> bytes | None:
        try:
            data = receiver.recv_bytes()
        except (EOFError, OSError):
            data = None
        finally:
            receiver.close()
            child.join()
        return data if child.exitcode == 0 else None

    return collect


def _render_to(sender: Any, fmt: registry.OutputFormat, invoice: Invoice, options: RenderOptions) -> None:
    """In the child: render and send the bytes. An exception ends the child
    quietly with exit status 1: the parent renders that format itself and
    raises what the renderer raises, with its own traceback."""
    try:
        sender.send_bytes(fmt(invoice, options))
    except BaseException:  # noqa: BLE001 - reported by the parent's own render
        sys.exit(1)
    finally:
        sender.close()
