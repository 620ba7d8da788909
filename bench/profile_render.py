"""Where one process spends its time: per-stage costs and profiles.

    python bench/profile_render.py [--compare-rev REV] [--pyinstrument DIR]

Stages, in one process: import of the renderers (cold), and per invoice
load (parse + validate + totals), PDF and XLSX, for the 200 five-line
invoices of benchmark 1 (each rendered once: caches start cold, as in
``invoicer render``) and for one invoice of 1 000 and of 10 000 lines.
With ``--compare-rev`` the same measurement runs again on the source of
that git revision, in a child process, for a before/after table from one
run. With ``--pyinstrument DIR`` (pip install pyinstrument) text profiles of
``invoicer render`` on the batch and on the 1 000-line invoice are written
to DIR. Not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import INVOICER, PYTHON, at_revision, machine, precompile
from gen_inputs import write_batch


def measure(work: Path) -> dict[str, float]:
    """Stage costs in ms of CPU time (``process_time``: steadier than wall time on a
    shared machine; per invoice for the batch), measured in this process."""
    batch = write_batch(work / "five", 200, n_lines=5)
    big = {n: write_batch(work / f"big{n}", 1, n_lines=n, prefix=f"big{n}")[0] for n in (1000, 10000)}
    result = {}
    start = time.process_time()
    from invoicer.invoice.render_pdf import render_pdf
    from invoicer.invoice.render_xlsx import render_xlsx

    try:
        from invoicer.invoice.loader import load_invoice
        from invoicer.invoice.parsing import parse_document
    except ImportError:  # a revision before the typed invoice model (--compare-rev)
        from invoicer.invoice.validation import load_invoice, parse_document

    result["import renderers + validation (once)"] = (time.process_time() - start) * 1000
    raws = [path.read_bytes() for path in batch]
    start = time.process_time()
    invoices = [load_invoice(parse_document(raw)) for raw in raws]
    result["5 lines: load (parse, validate, totals)"] = (time.process_time() - start) * 1000 / len(raws)
    for name, render in (("PDF", render_pdf), ("XLSX", render_xlsx)):
        start = time.process_time()
        sizes = [len(render(invoice)) for invoice in invoices]
        result[f"5 lines: {name}"] = (time.process_time() - start) * 1000 / len(invoices)
        result[f"5 lines: {name} size (kB)"] = sum(sizes) / len(sizes) / 1000
    for n, path in big.items():
        raw = path.read_bytes()
        start = time.process_time()
        invoice = load_invoice(parse_document(raw))
        result[f"{n} lines: load"] = (time.process_time() - start) * 1000
        for name, render in (("PDF", render_pdf), ("XLSX", render_xlsx)):
            start = time.process_time()
            render(invoice)
            result[f"{n} lines: {name}"] = (time.process_time() - start) * 1000
        # The same two renders with the cyclic collector off, as render_formats runs
        # them now: the difference is what the collector cost them.
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            render_pdf(invoice)
            render_xlsx(invoice)
            result[f"{n} lines: PDF + XLSX, collector off"] = (time.process_time() - start) * 1000
        finally:
            gc.enable()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare-rev")
    parser.add_argument("--pyinstrument", type=Path, metavar="DIR")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)
    precompile()

    with tempfile.TemporaryDirectory(prefix="invoicer-bench-profile-") as tmp:
        work = Path(tmp)
        if args.json:
            print(json.dumps(measure(work)))
            return
        columns = {"now": measure(work)}
        if args.compare_rev:
            env = at_revision(args.compare_rev, work)
            child = subprocess.run(
                [PYTHON, __file__, "--json"],
                env={**__import__("os").environ, **env},
                check=True,
                capture_output=True,
                text=True,
            )
            columns[args.compare_rev] = json.loads(child.stdout)
        print(f"[profile] {machine()}")
        names = list(columns)
        print(
            f"[profile] {'stage (CPU ms; per invoice for 5 lines)':<42}"
            + "".join(f"{n:>12}" for n in names)
            + ("  before/now" if len(names) == 2 else "")
        )
        for stage in columns["now"]:
            values = [columns[n].get(stage) for n in names]
            ratio = f"{values[1] / values[0]:>11.2f}x" if len(names) == 2 and values[0] else ""
            print(f"[profile] {stage:<42}" + "".join(f"{v:>12.2f}" for v in values) + ratio)
        if args.pyinstrument:
            args.pyinstrument.mkdir(parents=True, exist_ok=True)
            batch = sorted((work / "five").glob("*.json"))
            big = sorted((work / "big1000").glob("*.json"))
            for label, files in (("batch-200x5", batch), ("one-1000-lines", big)):
                target = args.pyinstrument / f"{label}.txt"
                subprocess.run(
                    [
                        str(Path(PYTHON).parent / "pyinstrument"),
                        "-r",
                        "text",
                        "-o",
                        str(target),
                        INVOICER,
                        "render",
                        *map(str, files),
                        "--out",
                        str(work / "out"),
                    ],
                    check=True,
                    capture_output=True,
                )
                print(f"[profile] pyinstrument profile of invoicer render ({label}): {target}")


if __name__ == "__main__":
    main()
