"""Benchmark 1: render throughput against the legacy-style baseline.

    python bench/bench_render.py [--count 200] [--rounds 3] [--compare-rev REV] [--without-accel]

200 five-line invoices with Greek, Cyrillic, Polish and Danish text
(``gen_inputs.py``), PDF + XLSX each. Ours is ONE ``invoicer render FILE...
--out DIR --formats pdf,xlsx`` process for all files; the baseline is ONE
``python bench/baseline_legacy.py FILE... --out DIR`` process for the same
files. Both are timed as wall time including process start, in alternating
order over ``--rounds`` rounds; the median of each side is reported, and the
ratio of the medians. Absolute numbers on a shared machine are noise; the
ratio, measured in the same run, is the result.

``--compare-rev REV`` adds ``invoicer render`` as it was at git revision
REV (e.g. the commit before the optimisations); ``--without-accel`` adds
ours with ReportLab's C accelerator hidden. Both are for RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import at_revision, fresh, legacy, machine, median, ours, ours_at, precompile, rl_accel, run
from gen_inputs import write_batch

TARGET = 2.0  # issue 13


def _check_outputs(out: Path, count: int, embeds_unicode: bool) -> None:
    pdfs, xlsxs = sorted(out.glob("*.pdf")), sorted(out.glob("*.xlsx"))
    if len(pdfs) != count or len(xlsxs) != count:
        raise SystemExit(f"{out}: expected {count} PDF and {count} XLSX files, found {len(pdfs)} and {len(xlsxs)}")
    if embeds_unicode and b"/FontFile2" not in pdfs[0].read_bytes():
        raise SystemExit(f"{pdfs[0]} embeds no TrueType (Unicode) font")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare-rev", help="also time invoicer render at this git revision")
    parser.add_argument("--without-accel", action="store_true", help="also time ours without rl_accel")
    args = parser.parse_args(argv)
    precompile()

    with tempfile.TemporaryDirectory(prefix="invoicer-bench-render-") as tmp:
        work = Path(tmp)
        files = write_batch(work / "in", args.count, n_lines=5)
        contenders: dict[str, tuple[list[str], dict[str, str] | None, bool]] = {
            "legacy": (legacy(files, work / "out-legacy"), None, False),
            "ours": (ours(files, work / "out-ours"), None, True),
        }
        if args.compare_rev:
            contenders[f"ours@{args.compare_rev}"] = (
                ours_at(files, work / "out-rev"),
                at_revision(args.compare_rev, work),
                True,
            )
        if args.without_accel:
            hide = work / "no-accel"
            hide.mkdir()
            (hide / "_rl_accel.py").write_text("raise ImportError('hidden by the benchmark')\n")
            contenders["ours-no-accel"] = (ours(files, work / "out-no-accel"), {"PYTHONPATH": str(hide)}, True)

        print(
            f"[render] {args.count} five-line invoices, PDF + XLSX, one process per side; "
            f"{args.rounds} alternating rounds; {machine()}; {rl_accel()}"
        )
        times: dict[str, list[float]] = {name: [] for name in contenders}
        peaks: dict[str, list[float]] = {name: [] for name in contenders}
        cpus: dict[str, list[float]] = {name: [] for name in contenders}
        names = list(contenders)
        for round_no in range(args.rounds):
            order = names if round_no % 2 == 0 else names[::-1]
            for name in order:
                argv_, env, unicode_font = contenders[name]
                out = fresh(Path(argv_[argv_.index("--out") + 1]))
                result = run(argv_, env=env)
                _check_outputs(out, args.count, unicode_font)
                times[name].append(result.seconds)
                peaks[name].append(result.peak_mb)
                cpus[name].append(result.cpu_seconds)
            print(f"[render] round {round_no + 1}: " + ", ".join(f"{name} {times[name][-1]:.2f} s" for name in names))

        rates = {name: args.count / median(times[name]) for name in names}
        for name in names:
            print(
                f"[render] {name:>16}: {rates[name]:7.1f} invoices/s  (median {median(times[name]):.2f} s "
                f"for {args.count}, CPU {median(cpus[name]):.2f} s, peak RSS {max(peaks[name]):.0f} MB)"
            )
        ratio = rates["ours"] / rates["legacy"]
        cpu_ratio = median(cpus["legacy"]) / median(cpus["ours"])
        spread = ", ".join(f"{lg / o:.2f}" for lg, o in zip(times["legacy"], times["ours"], strict=True))
        print(f"[render] per round legacy/ours wall: {spread}; CPU time ratio (medians): {cpu_ratio:.2f}x")
        for name in names[2:]:
            print(f"[render] ours vs {name}: {rates['ours'] / rates[name]:.2f}x")
        verdict = "met" if ratio >= TARGET else "NOT met"
        summary = (
            f"render: ours {rates['ours']:.1f} inv/s vs legacy {rates['legacy']:.1f} inv/s -> "
            f"{ratio:.2f}x (target >= {TARGET}x: {verdict}; CPU time {cpu_ratio:.2f}x; ours embeds DejaVu Sans, "
            "legacy Helvetica)"
        )
        print(f"[render] SUMMARY {summary}")
        return {"summary": summary, "ratio": ratio, "cpu_ratio": cpu_ratio, "rates": rates, "met": ratio >= TARGET}


if __name__ == "__main__":
    main()
