"""Benchmark 3: end to end through a running stack: single jobs, then 1 and 2 workers.

    python bench/bench_e2e.py [--single 30] [--jobs 100] [--clients 4] [--keep] [--compare-rev REV]

Starts a private stack with ``tools/devstack.py`` (its own state directory
under /tmp, database ``invoicer_bench_<tag>``, AMQP prefix ``bench_<tag>``,
free ports), registers and logs in a user over HTTP, then uploads five-line
invoices (PDF + XLSX) in three phases and waits until every job is final:

* phase 0: ``--single`` jobs one at a time, each sent once the one before is
  done, on the otherwise idle stack (the first job right after start-up
  included; no warm-up): the latency of a job that waits for nothing;
* phase 1: ``--jobs`` uploads as fast as ``--clients`` client threads allow,
  on the stack's one worker process;
* phase 2: the same with a second ``invoicer worker`` (``worker-2``) beside it.

Per phase: upload -> done latency p50/p95/p99 (from the client's send time
to the job row's ``updated_at`` when it turned ``done``; one clock, one
machine), throughput (jobs / (last done - first send)), and where the time
goes, from the timestamps the services record: the job row's ``timings``
(``received`` by the gateway, ``started``/``fetched``/``rendered``/``stored``
by the worker), ``created_at``/``updated_at``, and the gateway's ``job
queued`` log line, written right after the broker confirmed the publish (a
``published`` timing is not recorded in the row). Everything is stopped and
dropped at the end (``--keep`` keeps the state directory for its logs).
``--compare-rev REV`` first runs the same phases on a stack whose services
run ``src/`` as it was at git revision REV, and prints now/REV ratios from
the one run.

Target (issue 13): phase 0's p50 <= 150 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, at_revision, machine, median, percentile
from gen_inputs import make_invoice

STAGES = (
    ("client -> gateway", "sent", "received"),
    ("gateway: validate, store upload, insert row", "received", "created"),
    # Since issue 17 the gateway commits the job and its render request (an
    # outbox command) together; the outbox relay, woken by the commit's NOTIFY,
    # publishes it. "published" is the gateway's commit.
    ("gateway: outbox command, commit", "created", "published"),
    ("relay wake + publish, broker queue wait", "published", "started"),
    ("worker: job row to running, fetch upload (GridFS)", "started", "fetched"),
    ("worker: validate, render PDF + XLSX", "fetched", "rendered"),
    ("worker: store PDF + XLSX (GridFS)", "rendered", "stored"),
    ("worker: mark done", "stored", "done"),
)
TARGET_SINGLE_P50 = 0.150  # seconds, upload -> done of one job on an idle stack (issue 13)


def _cpu_snapshot(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each named process tree
    (``roots``: name -> pid), and by the shared PostgreSQL and RabbitMQ
    servers (all processes named ``postgres``, ``beam.smp``, ...); the
    benchmark's own process is "client". Read from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        procs[int(entry.name)] = (comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    children: dict[int, list[int]] = {}
    for pid, (_, ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    used = {}
    for name, root in roots.items():
        total, stack = 0.0, [root]
        while stack:
            pid = stack.pop()
            if pid in procs:
                total += procs[pid][2]
                stack.extend(children.get(pid, []))
        used[name] = total
    used["postgresql"] = sum(cpu for comm, _, cpu in procs.values() if comm == "postgres")
    used["rabbitmq"] = sum(cpu for comm, _, cpu in procs.values() if comm in ("beam.smp", "erl_child_setup", "epmd"))
    self = resource.getrusage(resource.RUSAGE_SELF)
    used["client"] = self.ru_utime + self.ru_stime
    return used


def _log_times(log: Path, message: str) -> dict[str, float]:
    """job id -> epoch seconds of each JSON log line with ``message``."""
    found = {}
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("message") == message and record.get("job_id"):
            if isinstance(record.get("published"), (int, float)):  # an epoch field, if the gateway logs one
                found[record["job_id"]] = float(record["published"])
                continue
            stamp = datetime.strptime(record["time"], "%Y-%m-%d %H:%M:%S,%f")  # local time, 1 ms resolution
            found[record["job_id"]] = time.mktime(stamp.timetuple()) + stamp.microsecond / 1e6
    return found


def _phase(
    name: str,
    base: str,
    token: str,
    database_url: str,
    gateway_log: Path,
    jobs: int,
    clients: int,
    offset: int,
    roots: dict[str, int] | None = None,
    sequential: bool = False,
) -> dict:
    """Upload ``jobs`` invoices and wait until all are final. With
    ``sequential`` one at a time (``clients`` ignored): each upload is sent
    once the one before is final, so every job meets an idle stack."""
    import psycopg2
    import requests

    bodies = [json.dumps(make_invoice(offset + i, 5), ensure_ascii=False).encode() for i in range(jobs)]
    local = threading.local()

    def upload(body: bytes) -> tuple[str, float, float]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
        sent = time.time()
        reply = session.post(
            f"{base}/upload",
            params={"formats": "pdf,xlsx"},
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        answered = time.time()
        if reply.status_code != 202:
            raise RuntimeError(f"upload refused: {reply.status_code} {reply.text[:300]}")
        return reply.json()["job_id"], sent, answered

    connection = psycopg2.connect(database_url)
    connection.autocommit = True

    def wait_final(job_id: str) -> None:
        deadline = time.monotonic() + 60
        with connection.cursor() as cursor:
            while True:
                cursor.execute("SELECT status IN ('done', 'failed') FROM jobs WHERE id = %s::uuid", (job_id,))
                if cursor.fetchone()[0]:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name}: job {job_id} not final after 60 s")
                time.sleep(0.002)

    cpu_before = _cpu_snapshot(roots or {})
    wall_before = time.monotonic()
    if sequential:
        uploads = []
        for body in bodies:
            uploads.append(upload(body))
            wait_final(uploads[-1][0])
    else:
        with ThreadPoolExecutor(clients) as pool:
            uploads = list(pool.map(upload, bodies))
    sent = {job_id: s for job_id, s, _ in uploads}
    answered = {job_id: a for job_id, _, a in uploads}

    ids = list(sent)
    try:
        deadline = time.monotonic() + 300
        with connection.cursor() as cursor:
            while True:
                cursor.execute(
                    "SELECT count(*) FROM jobs WHERE id = ANY(%s::uuid[]) AND status IN ('done', 'failed')", (ids,)
                )
                if cursor.fetchone()[0] == len(ids):
                    cpu_after = _cpu_snapshot(roots or {})
                    wall = time.monotonic() - wall_before
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name}: jobs not final after 300 s")
                time.sleep(0.05)
            cursor.execute(
                "SELECT id::text, status, timings, extract(epoch FROM created_at), extract(epoch FROM updated_at)"
                " FROM jobs WHERE id = ANY(%s::uuid[])",
                (ids,),
            )
            rows = cursor.fetchall()
    finally:
        connection.close()

    failed = [row[0] for row in rows if row[1] != "done"]
    if failed:
        raise RuntimeError(f"{name}: {len(failed)} job(s) failed, e.g. {failed[0]}")
    time.sleep(0.3)  # let the gateway's log lines reach the file
    published = _log_times(gateway_log, "job queued")
    marks = {}
    for job_id, _, timings, created, updated in rows:
        marks[job_id] = {
            "sent": sent[job_id],
            "received": timings["received"],
            "created": float(created),
            "published": published.get(job_id),
            "started": timings["started"],
            "fetched": timings.get("fetched"),
            "rendered": timings["rendered"],
            "stored": timings["stored"],
            "done": float(updated),
            "answered": answered[job_id],
        }
    latencies = [m["done"] - m["sent"] for m in marks.values()]
    first = min(marks.values(), key=lambda m: m["sent"])
    span = max(m["done"] for m in marks.values()) - min(m["sent"] for m in marks.values())
    upload_span = max(answered.values()) - min(sent.values())
    result = {
        "name": name,
        "jobs": jobs,
        "first": first["done"] - first["sent"],
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "throughput": jobs / span,
        "upload_rate": jobs / upload_span,
        "response_p50": median(m["answered"] - m["sent"] for m in marks.values()),
        "service_p50": median(m["done"] - m["started"] for m in marks.values()),
        "stages": {},
        "cpu": {key: (cpu_after[key] - cpu_before.get(key, 0.0)) / jobs for key in cpu_after},
        "cpu_wall": wall,
    }
    for label, start, end in STAGES:
        values = [m[end] - m[start] for m in marks.values() if m[start] is not None and m[end] is not None]
        if values:
            result["stages"][label] = (sum(values) / len(values), median(values), len(values))
    return result


def _print(result: dict) -> None:
    r = result
    print(
        f"[e2e] {r['name']}: {r['jobs']} jobs; upload -> done p50 {r['p50'] * 1000:.0f} ms, "
        f"p95 {r['p95'] * 1000:.0f} ms, p99 {r['p99'] * 1000:.0f} ms; throughput {r['throughput']:.1f} jobs/s "
        f"(uploads accepted at {r['upload_rate']:.1f}/s, 202 after p50 {r['response_p50'] * 1000:.0f} ms; "
        f"worker start -> done p50 {r['service_p50'] * 1000:.0f} ms)"
    )
    total = sum(mean for mean, _, _ in r["stages"].values())
    for label, (mean, med, count) in r["stages"].items():
        share = mean / total * 100 if total else 0
        print(
            f"[e2e]     {label:<45} mean {mean * 1000:7.1f} ms  p50 {med * 1000:7.1f} ms  {share:5.1f} %"
            + ("" if count == r["jobs"] else f"  ({count} jobs)")
        )
    cpu = sorted(r["cpu"].items(), key=lambda item: -item[1])
    busy = sum(r["cpu"].values()) * r["jobs"] / r["cpu_wall"]
    print(
        "[e2e]     CPU per job by process (ms): "
        + ", ".join(f"{k} {v * 1000:.1f}" for k, v in cpu if v > 0.0005)
        + f"; {busy:.2f} of {os.cpu_count()} cores busy on average"
    )


def _run_stack(args: argparse.Namespace, label: str, pythonpath: str | None = None) -> dict:
    """One private stack (``pythonpath`` first on the services' ``PYTHONPATH``:
    another revision's ``src/``), its three phases, then stopped and dropped.
    Returns ``{"single", "one", "two"}`` results."""
    import requests

    sys.path.insert(0, str(ROOT / "tools"))  # devstack is a development tool, not in the package
    from devstack import Stack, delete_broker_objects, drop_database, wait_until

    tag = secrets.token_hex(4)
    var = Path(tempfile.mkdtemp(prefix=f"invoicer-bench-e2e-{tag}-"))
    stack = Stack(var=var, root=ROOT)
    env = None
    results = []
    saved_pythonpath = os.environ.get("PYTHONPATH")
    if pythonpath is not None:
        os.environ["PYTHONPATH"] = pythonpath  # every process the stack spawns inherits it
    print(f"[e2e] {label}: private stack in {var}; {machine()}")
    try:
        env = stack.up(gateway_port=0, database=f"invoicer_bench_{tag}", prefix=f"bench_{tag}")
        base = f"http://{env['GATEWAY_BIND']}"
        email, password = f"bench-{tag}@example.com", secrets.token_urlsafe(16)
        reply = requests.post(f"{base}/register", json={"email": email, "password": password}, timeout=30)
        if reply.status_code != 201:
            raise RuntimeError(f"register: {reply.status_code} {reply.text}")
        token = requests.post(f"{base}/login", auth=(email, password), timeout=30).json()["access_token"]
        gateway_log = stack.log_file("gateway")

        def phase(name: str, offset: int, warmup: int, jobs: int, sequential: bool = False) -> dict:
            # Warm-up jobs (not counted): first renders fill caches.
            if warmup:
                _phase(
                    f"{name} warm-up",
                    base,
                    token,
                    env["DATABASE_URL"],
                    gateway_log,
                    warmup,
                    args.clients,
                    offset + 100_000,
                    sequential=sequential,
                )
            roots = {
                service: pid
                for service in ("gateway", "auth", "worker", "worker-2", "notification", "mongodb", "smtp")
                if (pid := stack.pid(service))
            }
            result = _phase(
                f"{label}: {name}",
                base,
                token,
                env["DATABASE_URL"],
                gateway_log,
                jobs,
                args.clients,
                offset,
                roots,
                sequential=sequential,
            )
            _print(result)
            return result

        # No warm-up: the first job after start-up is in (the worker warms its renderers itself).
        single = phase("single jobs, idle stack", 200_000, 0, args.single, sequential=True)
        results.append(phase("1 worker", 0, 4, args.jobs))
        worker_log = stack.log_file("worker-2")
        stack.spawn("worker-2", stack.commands(env)["worker"], env)
        wait_until(lambda: worker_log.exists() and b"consuming" in worker_log.read_bytes(), 60, "worker-2")
        results.append(phase("2 workers", args.jobs, 8, args.jobs))
    finally:
        stack.stop("worker-2")
        stack.down()
        if env is not None:
            drop_database(env["DATABASE_URL"])
            delete_broker_objects(env)
        if not args.keep:
            shutil.rmtree(var, ignore_errors=True)
        if pythonpath is not None:
            if saved_pythonpath is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = saved_pythonpath
    one, two = results
    return {"single": single, "one": one, "two": two}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--single", type=int, default=30, help="jobs sent one at a time on the idle stack")
    parser.add_argument("--keep", action="store_true", help="keep the stack's state directory (logs)")
    parser.add_argument(
        "--compare-rev",
        metavar="REV",
        help="first run the same phases on a stack whose services run src/ at git revision REV; print now/REV ratios",
    )
    parser.add_argument("--now-first", action="store_true", help="with --compare-rev: run this tree's stack first")
    args = parser.parse_args(argv)

    before = None
    if args.now_first:
        now = _run_stack(args, "now")
    if args.compare_rev:
        workdir = Path(tempfile.mkdtemp(prefix="invoicer-bench-rev-"))
        try:
            pythonpath = at_revision(args.compare_rev, workdir)["PYTHONPATH"]
            before = _run_stack(args, args.compare_rev, pythonpath)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    if not args.now_first:
        now = _run_stack(args, "now")
    single, one, two = now["single"], now["one"], now["two"]

    def slowest(result: dict) -> str:
        return max(result["stages"].items(), key=lambda item: item[1][0])[0]

    def p50_95_99(result: dict) -> str:
        return "/".join(f"{result[q] * 1000:.0f}" for q in ("p50", "p95", "p99")) + " ms"

    met = single["p50"] <= TARGET_SINGLE_P50
    summary = (
        f"e2e: single job p50/p95/p99 {p50_95_99(single)}, first job {single['first'] * 1000:.0f} ms "
        f"(target p50 <= {TARGET_SINGLE_P50 * 1000:.0f} ms: {'met' if met else 'NOT met'}; most time: "
        f"{slowest(single)}); 1 worker {p50_95_99(one)}, {one['throughput']:.1f} jobs/s; "
        f"2 workers {p50_95_99(two)}, {two['throughput']:.1f} jobs/s ({two['throughput'] / one['throughput']:.2f}x: "
        f"two workers {'not slower than' if two['throughput'] >= one['throughput'] else 'SLOWER than'} one); "
        f"most time (1 worker): {slowest(one)}"
    )
    if before is not None:
        rev = args.compare_rev
        parts = []
        for key, label in (("one", "1 worker"), ("two", "2 workers")):
            ratio = now[key]["throughput"] / before[key]["throughput"]
            parts.append(
                f"{label} {now[key]['throughput']:.1f} vs {before[key]['throughput']:.1f} jobs/s ({ratio:.2f}x)"
            )
        cpu = ", ".join(
            f"{name} {now['one']['cpu'].get(name, 0) * 1000:.1f} vs {before['one']['cpu'].get(name, 0) * 1000:.1f} ms"
            for name in ("mongodb", "notification", "worker", "gateway")
        )
        store = "worker: store PDF + XLSX (GridFS)"
        stores = ", ".join(
            f"{label} {now[key]['stages'][store][0] * 1000:.0f} vs {before[key]['stages'][store][0] * 1000:.0f} ms"
            for key, label in (("single", "single"), ("one", "1 worker"), ("two", "2 workers"))
        )
        two_vs_one = before["two"]["throughput"] / before["one"]["throughput"]
        summary += (
            f"; now vs {rev} (same run): {'; '.join(parts)}; 2/1 workers at {rev} {two_vs_one:.2f}x; "
            f"CPU per job (1 worker) {cpu}; store stage {stores}"
        )
    print(f"[e2e] SUMMARY {summary}")
    return {"summary": summary, "results": [one, two], "single": single, "before": before, "met": met}


if __name__ == "__main__":
    main()
