"""Run the benchmarks and print each one's one-line summary (``make bench``).

    python bench/run_all.py [--quick] [--skip-e2e]

1. ``bench_render.py``  render throughput vs the legacy-style baseline (ratio)
2. ``bench_scaling.py`` 1 / 50 / 1 000 / 10 000 lines: time, peak RSS, linearity
3. ``bench_e2e.py``     upload -> done through a private stack: single jobs, 1 and 2 workers
4. ``bench_einvoice.py``  pdf / facturx / cii / ubl per invoice and profile: the Factur-X extra over the PDF

Benchmarks print ratios measured in one run; they assert nothing and are
not tests (absolute times on a shared machine are noise). ``--quick`` runs
fewer rounds and jobs. The exit status is 1 if a target is not met.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_e2e
import bench_einvoice
import bench_render
import bench_scaling
from common import machine, rl_accel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 1 repeat, 20 e-invoices, 40 e2e jobs")
    parser.add_argument("--skip-e2e", action="store_true", help="no stack (benchmarks 1 and 2 only)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    print(f"[bench] {time.strftime('%Y-%m-%d %H:%M')}; {machine()}; {rl_accel()}", flush=True)
    summaries, met = [], True
    render = bench_render.main(["--rounds", "1" if args.quick else "3"])
    summaries.append(render["summary"])
    met &= render["met"]
    scaling = bench_scaling.main(["--repeat", "1" if args.quick else "3"])
    summaries.append(scaling["summary"])
    met &= bool(scaling["met"])
    einvoice = bench_einvoice.main(["--count", "20" if args.quick else "60"])
    summaries.append(einvoice["summary"])
    met &= einvoice["met"]
    if not args.skip_e2e:
        e2e = bench_e2e.main(["--jobs", "40" if args.quick else "100"])
        summaries.append(e2e["summary"])
        met &= e2e["met"]

    print(f"\n[bench] done in {time.monotonic() - started:.0f} s")
    for line in summaries:
        print(line)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
