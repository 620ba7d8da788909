"""Accuracy and cost of reading received invoices (``make bench-intake``, issue 19).

    python bench/bench_intake.py [DIR] [--truth TRUTH.jsonl] [--score SCORE.py] [--keep OUT]

Runs ``invoicer extract`` over every document in DIR (default
``../shared/intake-examples/docs`` beside the repository) in one process, then the examples'
``score.py`` over its outputs (accuracy per kind and field, calibration of the fields
reported with confidence >= 0.9), and prints seconds per page (per kind of document as
``invoicer extract`` read it, from the ``seconds`` and ``cpu_seconds`` of each output; on a
shared machine the CPU seconds divided by the cores say more than the wall time) and the peak memory of
that process (its maximum RSS, ``getrusage(RUSAGE_CHILDREN)``).

Targets (issue 19): key fields >= 95 %, e-invoices 100 %, text PDFs >= 90 %, scans >= 85 %,
fields at >= 0.9 right >= 98 %, <= 6 s a page, <= 1.5 GB. The exit status is 1 if one is
not met (score.py's own thresholds decide the accuracy ones). The documents are never copied
into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT.parent / "shared" / "intake-examples"
SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".xml"}
MAX_SECONDS_PER_PAGE = 6.0
MAX_PEAK_MB = 1536


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _load() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", default=str(EXAMPLES / "docs"))
    parser.add_argument("--truth", help="truth.jsonl (default: beside DIR)")
    parser.add_argument("--score", help="score.py (default: beside DIR)")
    parser.add_argument("--keep", metavar="OUT", help="write the outputs here instead of a temporary folder")
    args = parser.parse_args(argv)
    docs = Path(args.dir)
    files = sorted(p for p in docs.iterdir() if p.suffix.lower() in SUFFIXES) if docs.is_dir() else []
    if not files:
        print(f"[bench-intake] no documents in {docs}", file=sys.stderr)
        return 2
    base = docs.parent
    truth = Path(args.truth) if args.truth else base / "truth.jsonl"
    score = Path(args.score) if args.score else base / "score.py"
    invoicer = Path(sys.executable).with_name("invoicer")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        done = subprocess.run(
            [str(invoicer), "extract", *map(str, files), "--out", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if done.returncode not in (0, 1):
            print(done.stderr, file=sys.stderr)
            return 2
        per_kind: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0.0])
        for path in files:
            result = json.loads((out / f"{path.stem}.json").read_text(encoding="utf-8"))
            kind = per_kind[result["kind"]]
            kind[0] += result.get("seconds", 0.0)
            kind[1] += max(1, result.get("pages") or 1)
            kind[2] += result.get("cpu_seconds", 0.0)
        print(f"[bench-intake] {len(files)} documents from {docs}, {wall:.1f} s wall in one process")
        status = 0
        if truth.exists() and score.exists():
            scored = subprocess.run(
                [
                    sys.executable,
                    str(score),
                    str(out),
                    "--truth",
                    str(truth),
                    "--show-errors",
                    "--min-key-accuracy",
                    "0.95",
                    "--min-kind",
                    "einvoice_pdf=1.0",
                    "--min-kind",
                    "text_pdf=0.90",
                    "--min-kind",
                    "image=0.85",
                    "--min-kind",
                    "scanned_pdf=0.85",
                    "--min-high-conf-accuracy",
                    "0.98",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            print(scored.stdout.rstrip())
            status = 1 if scored.returncode else 0
        else:
            print(f"[bench-intake] no truth.jsonl/score.py beside {docs}: accuracy not scored")
        print(f"\nseconds per page (as read; CPU seconds are all threads', {_cpus()} CPUs here; load {_load()}):")
        worst = 0.0
        for kind, (seconds, pages, cpu) in sorted(per_kind.items()):
            per_page = seconds / pages
            worst = max(worst, per_page)
            print(f"  {kind:13s} {per_page:6.2f} s/page wall, {cpu / pages:6.2f} CPU s/page, over {pages:.0f} page(s)")
        print(f"peak memory (max RSS of the extract process): {peak_mb:.0f} MB")
        speed_ok, memory_ok = worst <= MAX_SECONDS_PER_PAGE, peak_mb <= MAX_PEAK_MB
        print(
            f"targets: <= {MAX_SECONDS_PER_PAGE:.0f} s a page {'met' if speed_ok else 'NOT met'} (worst {worst:.2f}); "
            f"<= {MAX_PEAK_MB} MB {'met' if memory_ok else 'NOT met'}"
        )
        return status if speed_ok and memory_ok else 1


if __name__ == "__main__":
    sys.exit(main())
