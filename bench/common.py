"""Helpers shared by the benchmarks: paths, the commands under test, child
processes measured with their own peak memory, and order statistics."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
INVOICER = str(Path(sys.executable).parent / "invoicer")


@dataclass(frozen=True)
class Run:
    """One child process: wall time (s) including start-up, peak RSS (MB),
    CPU time (s, user + system, its own: ``wait4`` rusage)."""

    seconds: float
    peak_mb: float
    stdout: str
    cpu_seconds: float = float("nan")


def run(argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Run ``argv`` to completion; its own peak RSS comes from ``wait4``
    (``getrusage(RUSAGE_CHILDREN)`` would be the maximum over every child
    so far). Raises ``RuntimeError`` with its stderr if it fails."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... exited {process.returncode}:\n{stderr[-3000:]}")
    # ru_maxrss is in KiB on Linux
    return Run(seconds, usage.ru_maxrss / 1024, stdout, usage.ru_utime + usage.ru_stime)


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from ``/proc/PID/task/*/children``."""
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split():
                pids += _process_tree(int(child))
    except OSError:  # it ended meanwhile
        pass
    return pids


def _pss_kib(pid: int) -> int:
    """Proportional set size of ``pid`` in KiB (``/proc/PID/smaps_rollup``): its
    private pages plus its share of the pages it shares, so that the PSS of
    processes sharing pages (a fork) adds up to what they hold together."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_tree_mb(argv: list[str], env: dict[str, str] | None = None, interval: float = 0.002) -> tuple[float, int]:
    """Run ``argv`` and sample, every ``interval`` s, the summed PSS of it and
    every process it forks: ``(peak MB, most processes seen at once)``. The
    memory a command holds in all, where ``wait4``'s peak RSS is that of its
    largest single process. Linux only; sampling can miss a peak shorter than
    ``interval``, and the sampling loop costs CPU, so this is a run of its own,
    never a timed one."""
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env={**os.environ, **(env or {})}
    )
    peak, most = 0, 0
    while process.poll() is None:
        pids = _process_tree(process.pid)
        peak = max(peak, sum(_pss_kib(pid) for pid in pids))
        most = max(most, len(pids))
        time.sleep(interval)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... exited {process.returncode}")
    return peak / 1024, most


def precompile(*trees: Path) -> None:
    """Write the bytecode of ``trees`` (default: ``src/``) as an install does.

    A wheel install (the container image) compiles every module when it is
    installed; this development checkout is an editable install, and a
    machine that sets ``PYTHONDONTWRITEBYTECODE`` (this one does) would make
    every ``invoicer render`` compile our ~20 modules from source, some 20 ms
    of start-up that no deployed process pays. The benchmarks measure the
    installed kind of start-up, for every revision they run."""
    for tree in trees or (ROOT / "src",):
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(tree)], check=True)


def ours(files: list[Path], out: Path, formats: str = "pdf,xlsx") -> list[str]:
    """``invoicer render FILE... --out DIR --formats ...``: the command users run."""
    return [INVOICER, "render", *map(str, files), "--out", str(out), "--formats", formats]


def legacy(files: list[Path], out: Path) -> list[str]:
    """The legacy-style baseline on the same files (PDF and XLSX each)."""
    return [PYTHON, str(BENCH / "baseline_legacy.py"), *map(str, files), "--out", str(out)]


def at_revision(rev: str, workdir: Path) -> dict[str, str]:
    """An environment that runs ``src/`` as it was at git revision ``rev``
    (extracted into ``workdir``, put first on ``PYTHONPATH``), for
    before/after numbers from one run."""
    target = workdir / f"src-{rev}"
    if not target.exists():
        archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, check=True, capture_output=True).stdout
        target.mkdir(parents=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
        precompile(target / "src")
    return {"PYTHONPATH": str(target / "src")}


def ours_at(files: list[Path], out: Path, formats: str = "pdf,xlsx") -> list[str]:
    """``invoicer render`` through ``python -c``, so that ``PYTHONPATH`` (see
    :func:`at_revision`) decides which source runs."""
    code = "import sys; from invoicer.cli import main; sys.exit(main())"
    return [PYTHON, "-c", code, "render", *map(str, files), "--out", str(out), "--formats", formats]


def fresh(directory: Path) -> Path:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def median(values) -> float:
    return statistics.median(values)


def percentile(values, q: float) -> float:
    """The ``q``-th percentile (0-100), linear between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {sys.version.split()[0]}"


def rl_accel() -> str:
    try:
        import _rl_accel  # noqa: F401
    except ImportError:
        return "ReportLab C accelerator (rl_accel) NOT installed"
    return "ReportLab C accelerator (rl_accel) installed"
