"""Benchmark 2: cost of one invoice as it grows, 1 to 10 000 lines.

    python bench/bench_scaling.py [--sizes 1,50,1000,10000] [--repeat 3] [--compare-rev REV]

For each size one invoice file (``gen_inputs.py``, non-Latin text) is
rendered to PDF + XLSX by its own ``invoicer render FILE --out DIR``
process: wall time including process start (median of ``--repeat`` runs)
and peak memory: the larger of the process's own peak RSS (``wait4``) and the
summed PSS of every process of the command, sampled in one more run (from
300 lines on, ``invoicer render`` forks to render the XLSX at the same time). Linearity shows in the marginal
cost per line between consecutive sizes, (t[n2] - t[n1]) / (n2 - n1): if the
cost grows linearly, these agree; their ratio is printed. MAX_LINES is
10 000 by default, so 10 000 lines is the largest invoice accepted.

Targets (issue 13): 1 000 lines in <= 0.5 s wall including process start, peak memory
<= 100 MB; 10 000 lines in <= 2 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import at_revision, fresh, machine, median, ours, ours_at, peak_tree_mb, precompile, run
from gen_inputs import write_batch

TARGET_SECONDS, TARGET_MB, TARGET_LINES = 0.5, 100.0, 1000
TARGET_BIG_SECONDS, TARGET_BIG_LINES = 2.0, 10_000


def measure(sizes: list[int], repeat: int, work: Path, env: dict[str, str] | None, command) -> dict[int, tuple]:
    results = {}
    for n in sizes:
        (path,) = write_batch(work / "in", 1, n_lines=n, prefix=f"scale{n}")
        seconds, peaks, cpus = [], [], []
        for _ in range(repeat):
            out = fresh(work / f"out-{n}")
            result = run(command([path], out), env=env)
            if len(list(out.iterdir())) != 2:
                raise SystemExit(f"{n} lines: expected a PDF and an XLSX in {out}")
            seconds.append(result.seconds)
            peaks.append(result.peak_mb)
            cpus.append(result.cpu_seconds)
        # invoicer render forks for long invoices: the memory target counts every
        # process of the command (summed PSS), sampled in a run of its own.
        tree_mb, processes = peak_tree_mb(command([path], fresh(work / f"out-{n}")), env=env)
        peak = max(*peaks, tree_mb)
        results[n] = (median(seconds), peak, median(cpus), min(seconds), max(seconds), processes)
    return results


def report(label: str, results: dict[int, tuple]) -> list[float]:
    sizes = sorted(results)
    print(f"[scaling] {label}")
    print(
        f"[scaling]   {'lines':>6} {'wall s':>8} {'peak MB':>8} {'ms/line':>8} {'marginal ms/line':>17} "
        f"{'CPU s':>7} {'wall min-max':>13} {'processes':>4}"
    )
    marginals = []
    for i, n in enumerate(sizes):
        t, mb, cpu, low, high, processes = results[n]
        marginal = ""
        if i:
            m = sizes[i - 1]
            per = (t - results[m][0]) / (n - m) * 1000
            marginals.append(per)
            marginal = f"{per:.3f} ({m}->{n})"
        print(
            f"[scaling]   {n:>6} {t:>8.3f} {mb:>8.0f} {t / n * 1000:>8.3f} {marginal:>17} {cpu:>7.3f} "
            f"{low:>6.2f}-{high:<6.2f} {processes:>4}"
        )
    if len(marginals) >= 2 and marginals[-2] > 0:
        print(
            f"[scaling]   marginal cost per line, last interval / previous: {marginals[-1] / marginals[-2]:.2f} "
            f"(1.00 = perfectly linear)"
        )
    return marginals


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,50,1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare-rev", help="also measure invoicer render at this git revision")
    args = parser.parse_args(argv)
    precompile()
    sizes = sorted(int(n) for n in args.sizes.split(","))

    with tempfile.TemporaryDirectory(prefix="invoicer-bench-scaling-") as tmp:
        work = Path(tmp)
        print(f"[scaling] one invoice per process, PDF + XLSX, median of {args.repeat}; {machine()}")
        results = measure(sizes, args.repeat, work, None, ours)
        marginals = report("ours (invoicer render)", results)
        if args.compare_rev:
            before = measure(sizes, args.repeat, work, at_revision(args.compare_rev, work), ours_at)
            report(f"invoicer render at {args.compare_rev}", before)
            for n in sizes:
                print(
                    f"[scaling]   {n:>6} lines: {before[n][0] / results[n][0]:.2f}x faster than "
                    f"{args.compare_rev} (CPU {before[n][2] / results[n][2]:.2f}x), peak memory {results[n][1]:.0f} vs "
                    f"{before[n][1]:.0f} MB"
                )

    parts = []
    met = None
    if TARGET_LINES in results:
        t, mb, cpu = results[TARGET_LINES][:3]
        met = t <= TARGET_SECONDS and mb <= TARGET_MB
        parts.append(
            f"{TARGET_LINES} lines in {t:.2f} s (CPU {cpu:.2f} s) / {mb:.0f} MB "
            f"(target <= {TARGET_SECONDS} s / {TARGET_MB:.0f} MB: {'met' if met else 'NOT met'})"
        )
    biggest = sizes[-1]
    t, mb, cpu = results[biggest][:3]
    big = f"{biggest} lines in {t:.2f} s (CPU {cpu:.2f} s) / {mb:.0f} MB"
    if biggest == TARGET_BIG_LINES:
        big_met = results[biggest][0] <= TARGET_BIG_SECONDS
        met = bool(met) and big_met if met is not None else big_met
        big += f" (target <= {TARGET_BIG_SECONDS:.0f} s: {'met' if big_met else 'NOT met'})"
    parts.append(big)
    if len(marginals) >= 2 and marginals[-2] > 0:
        parts.append(
            f"marginal cost/line {sizes[-2]}->{sizes[-1]} vs {sizes[-3]}->{sizes[-2]}: "
            f"{marginals[-1] / marginals[-2]:.2f}x (linear = 1)"
        )
    summary = "scaling: " + "; ".join(parts)
    print(f"[scaling] SUMMARY {summary}")
    return {"summary": summary, "results": results, "met": met}


if __name__ == "__main__":
    main()
