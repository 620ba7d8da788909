"""Records at scale (issue 21): one organisation with N invoices, through the gateway.

    python bench/bench_records.py [--sizes 10000,100000,1000000] [--repeat 30] [--keep]
    make bench-records [SIZES=10000,100000]

Starts a private stack with ``tools/devstack.py`` (database
``invoicer_bench_<tag>``, free ports), registers a user over HTTP (who owns
a new organisation), then for each size, smallest first, tops the
organisation up to N invoices with ``COPY`` (not one HTTP call each): issue
dates spread over ten years, the most recent 1 000 open (issued, sent or
partly paid, some overdue), the rest paid but one in fifty credited;
payments are written for the invoices paid in the last 120 days. COPY fires
the database's summary triggers like any writer. Then ``VACUUM ANALYZE``, and
``--repeat`` timed requests (after 3 untimed) of each of:

* the first list page (``GET /invoices?per_page=20``);
* a filtered, sorted page (``?status=paid&sort=issue_date&order=asc``);
* a deep page: halfway down the list by its cursor, and the same page by
  ``?page=`` (an OFFSET, for comparison);
* search by a number (``?q=S-0005000``) and by a client's name;
* ``GET /dashboard``; the web app's dashboard (``/app/``) and invoice list
  (``/app/invoices``), served by the gateway;
* issuing one draft (``POST /invoices/{id}/issue``) and recording a payment.

Times are wall times at the client on the same machine (loopback), so they
include the gateway's hop to the invoices service. Prints p50/p95 per
operation and size, the growth from the smallest to the largest size, the
targets met or not, checks the dashboard against a full recomputation, and
writes ``EXPLAIN (ANALYZE, BUFFERS)`` of the SQL behind the slowest API
operation at the largest size into ``bench/RESULTS-records-explain.txt``.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine, median, percentile

#: p50 targets at 1 000 000 invoices (issue 21), in ms; None: reported only.
TARGETS = {
    "first list page": 30,
    "filtered, sorted page": 30,
    "deep page (cursor)": None,
    "deep page (?page=, OFFSET)": None,
    "search by number": 100,
    "search by client name": 100,
    "API dashboard": 50,
    "web dashboard": 150,
    "web invoice list": 150,
    "issue one invoice": 50,
    "record a payment": None,
}
OPEN = 1_000  # the most recent invoices stay open at every size
CLIENTS = 200
SPAN_DAYS = 3650


def seed(conn: Any, org: uuid.UUID, clients: list[tuple[uuid.UUID, str]], start: int, stop: int, n_max: int) -> None:
    """Invoices ``start`` .. ``stop - 1`` of the organisation by COPY. Invoice
    ``i`` of ``n_max`` is issued ``SPAN_DAYS * (n_max - i) / n_max`` days ago,
    so each size's history spans ten years; the numbering leaves the most
    recent invoices of the largest size last."""
    today = date.today()
    line = json.dumps([{"description": "Consulting", "quantity": "1", "unit_price": "100.00", "tax_rate": "19"}])
    columns = (
        "id, organisation_id, kind, status, series, number, client_id, currency, issue_date, due_date, lines,"
        " buyer, totals, amount_paid, amount_credited, issued_at, created_at"
    )
    payments: list[str] = []
    chunk = 50_000
    with conn.cursor() as cur:
        for first in range(start, stop, chunk):
            buffer = io.StringIO()
            for i in range(first, min(first + chunk, stop)):
                issued = today - timedelta(days=SPAN_DAYS * (n_max - i) // n_max)
                due = issued + timedelta(days=30)
                gross = f"{100 + i % 900}.{i % 100:02d}"
                client_id, name = clients[i % len(clients)]
                recent = i >= n_max - OPEN
                if recent:
                    status = ("issued", "sent", "partially_paid")[i % 3]
                    paid = f"{50 + i % 40}.00" if status == "partially_paid" else "0"
                    credited = "0"
                elif i % 50 == 0:
                    status, paid, credited = "credited", "0", gross
                else:
                    status, paid, credited = "paid", gross, "0"
                invoice_id = uuid.uuid4()
                totals = json.dumps({"currency": "EUR", "net": gross, "tax": "0.00", "gross": gross})
                buyer = json.dumps({"name": name})
                created = f"{issued.isoformat()} 09:00:00+00"
                row = (
                    invoice_id, org, "invoice", status, "seed", f"S-{i:07d}", client_id, "EUR", issued, due,
                    line, buyer, totals, paid, credited, created,
                    f"{issued.isoformat()} 08:{i % 60:02d}:{i % 59:02d}.{i % 999999:06d}+00",
                )  # fmt: skip
                buffer.write("\t".join(str(value).replace("\\", "\\\\") for value in row) + "\n")
                if paid != "0" and (today - issued).days <= 120:
                    payments.append(f"{org}\t{invoice_id}\t{paid}\t{min(due, today)}\n")
            buffer.seek(0)
            cur.copy_expert(f"COPY invoices ({columns}) FROM STDIN", buffer)
        if payments:
            cur.copy_expert(
                "COPY payments (organisation_id, invoice_id, amount, date) FROM STDIN", io.StringIO("".join(payments))
            )
    conn.commit()


def timed(call: Any, repeat: int) -> dict[str, float]:
    """p50 and p95 (ms) of ``repeat`` calls after 3 untimed ones."""
    for _ in range(3):
        call()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return {"p50": median(times), "p95": percentile(times, 95)}


class ExplainingCursor:
    """A cursor that runs ``EXPLAIN (ANALYZE, BUFFERS)`` of each statement
    before the statement itself, keeping the plans."""

    def __init__(self, cur: Any) -> None:
        self.cur, self.plans = cur, []

    def execute(self, query: str, params: Any = None) -> None:
        if query.lstrip().upper().startswith("SELECT"):
            self.cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, params)
            plan = "\n".join(row["QUERY PLAN"] for row in self.cur.fetchall())
            self.plans.append(f"{' '.join(query.split())[:300]}\n{plan}")
        self.cur.execute(query, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cur, name)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=os.environ.get("SIZES") or "10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the stack and its database")
    args = parser.parse_args(argv)
    sizes = sorted(int(size.replace("_", "")) for size in args.sizes.split(",") if size.strip())

    import psycopg2
    import psycopg2.extras
    import requests

    sys.path.insert(0, str(ROOT / "tools"))
    from devstack import Stack, delete_broker_objects, drop_database

    from invoicer.invoices import queries
    from invoicer.invoices.principals import Actor, Member

    tag = secrets.token_hex(4)
    var = Path(tempfile.mkdtemp(prefix=f"invoicer-bench-records-{tag}-"))
    stack = Stack(var=var, root=ROOT)
    env = None
    table: dict[int, dict[str, dict[str, float]]] = {}
    sql_times: dict[int, dict[str, dict[str, float]]] = {size: {} for size in sizes}
    exact: dict[int, bool] = {}
    explain = ""
    print(f"[records] private stack in {var}; {machine()}", flush=True)
    try:
        env = stack.up(gateway_port=0, database=f"invoicer_bench_{tag}", prefix=f"bench_{tag}")
        base = f"http://{env['GATEWAY_BIND']}"
        email, password = f"bench-{tag}@example.com", secrets.token_urlsafe(16)
        requests.post(f"{base}/register", json={"email": email, "password": password}, timeout=30).raise_for_status()
        token = requests.post(f"{base}/login", auth=(email, password), timeout=30).json()["access_token"]
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        web = requests.Session()
        web.cookies.set("invoicer_session", token, path="/app/")

        def api(method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
            reply = http.request(method, f"{base}{path}", timeout=120, **kwargs)
            if reply.status_code != status:
                raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text[:500]}")
            return reply.json()

        def page(path: str) -> None:
            reply = web.get(f"{base}{path}", timeout=120, allow_redirects=False)
            if reply.status_code != 200:
                raise RuntimeError(f"GET {path}: {reply.status_code} {reply.text[:300]}")

        api("PATCH", "/organisation", json={"name": "Bench Traders", "currency": "EUR", "payment_terms_days": 30})
        buyer = api("POST", "/clients", 201, json={"name": "Live Client GmbH", "email": "ap@live.example"})
        conn = psycopg2.connect(env["DATABASE_URL"], cursor_factory=psycopg2.extras.RealDictCursor)
        with conn.cursor() as cur:
            cur.execute("SELECT organisation_id FROM memberships WHERE email = %s", (email,))
            org = cur.fetchone()["organisation_id"]
            cur.execute(
                "INSERT INTO clients (organisation_id, name, company) SELECT %s, 'Client ' || g, 'Company ' || g"
                " FROM generate_series(1, %s) AS g RETURNING id, name",
                (org, CLIENTS),
            )
            clients = [(row["id"], row["name"]) for row in cur.fetchall()]
        conn.commit()
        member = Member(Actor(uuid.uuid4(), email), org, "owner")
        for size in sizes:
            began = time.perf_counter()
            # Each size is a history of its own: what an earlier size seeded is removed
            # (as a bulk delete behind the frozen-invoice trigger), then COPY.
            with conn.cursor() as cur:
                cur.execute("SET session_replication_role = replica")
                cur.execute(
                    "DELETE FROM payments p USING invoices i WHERE i.id = p.invoice_id AND i.series = 'seed'"
                    " AND p.organisation_id = %s",
                    (org,),
                )
                cur.execute("DELETE FROM invoices WHERE organisation_id = %s AND series = 'seed'", (org,))
                cur.execute("SET session_replication_role = DEFAULT")
                queries.rebuild_summary(cur, org)
            conn.commit()
            seed(conn, org, clients, 0, size, size)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("VACUUM ANALYZE invoices")
                cur.execute("VACUUM ANALYZE payments")
                cur.execute("VACUUM ANALYZE invoice_summary")
            conn.autocommit = False
            print(f"[records] {size:>9,} invoices seeded by COPY in {time.perf_counter() - began:.0f} s", flush=True)

            middle = f"S-{size // 2:07d}"
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT created_at::text AS c, id::text AS i FROM invoices WHERE organisation_id = %s"
                    " ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
                    (org, size // 2),
                )
                row = cur.fetchone()
            conn.commit()
            deep = base64.urlsafe_b64encode(
                json.dumps({"s": "created_at", "o": "desc", "d": "next", "k": [row["c"], row["i"]]}).encode()
            ).decode()
            drafts = [
                api("POST", "/invoices", 201, json={"client_id": buyer["id"], "lines": [
                    {"description": "Work", "quantity": "1", "unit_price": "10.00", "tax_rate": "19"}]})["id"]
                for _ in range(args.repeat + 3)
            ]  # fmt: skip
            to_issue = iter(drafts)
            to_pay = iter(drafts)
            results = {
                "first list page": timed(lambda: api("GET", "/invoices?per_page=20"), args.repeat),
                "filtered, sorted page": timed(
                    lambda: api("GET", "/invoices?status=paid&sort=issue_date&order=asc&per_page=20"), args.repeat
                ),
                "deep page (cursor)": timed(
                    lambda deep=deep: api("GET", f"/invoices?per_page=20&cursor={deep}"), args.repeat
                ),
                "deep page (?page=, OFFSET)": timed(
                    lambda size=size: api("GET", f"/invoices?per_page=20&page={size // 40}"), max(5, args.repeat // 3)
                ),
                "search by number": timed(
                    lambda middle=middle: api("GET", f"/invoices?q={middle}&per_page=20"), args.repeat
                ),
                "search by client name": timed(lambda: api("GET", "/invoices?q=Client%20137&per_page=20"), args.repeat),
                "API dashboard": timed(lambda: api("GET", "/dashboard"), args.repeat),
                "web dashboard": timed(lambda: page("/app/"), args.repeat),
                "web invoice list": timed(lambda: page("/app/invoices"), args.repeat),
                "issue one invoice": timed(
                    lambda to_issue=to_issue: api("POST", f"/invoices/{next(to_issue)}/issue"), args.repeat
                ),
                "record a payment": timed(
                    lambda to_pay=to_pay: api(
                        "POST", f"/invoices/{next(to_pay)}/payments", 201, json={"amount": "5.00"}
                    ),
                    args.repeat,
                ),
            }
            table[size] = results
            # The same reads in process, straight on the database: the SQL's own share.
            deep_key = [row["c"], row["i"]]
            cursor_for_deep = base64.urlsafe_b64encode(
                json.dumps({"s": "created_at", "o": "desc", "d": "next", "k": deep_key}).encode()
            ).decode()
            sql_reads = {
                "first list page": lambda cur: queries.list_invoices(cur, member, per_page=20),
                "filtered, sorted page": lambda cur: queries.list_invoices(
                    cur, member, status="paid", sort="issue_date", order="asc", per_page=20
                ),
                "deep page (cursor)": lambda cur, c=cursor_for_deep: queries.list_invoices(
                    cur, member, per_page=20, cursor=c
                ),
                "deep page (?page=, OFFSET)": lambda cur, size=size: queries.list_invoices(
                    cur, member, per_page=20, page=size // 40
                ),
                "search by number": lambda cur, middle=middle: queries.list_invoices(cur, member, q=middle),
                "search by client name": lambda cur: queries.list_invoices(cur, member, q="Client 137"),
                "API dashboard": lambda cur: queries.dashboard(cur, member),
            }
            for name, read in sql_reads.items():

                def run_read(read: Any = read) -> None:
                    with conn.cursor() as cur:
                        read(cur)
                    conn.rollback()

                sql_times[size][name] = timed(run_read, args.repeat)
            with conn.cursor() as cur:
                exact[size] = not queries.summary_differences(cur, org)
                served = queries.dashboard(cur, member)
                cur.execute(
                    "SELECT sum(balance_due) AS o FROM invoices WHERE organisation_id = %s AND kind = 'invoice'"
                    " AND status IN ('issued', 'sent', 'partially_paid')",
                    (org,),
                )
                exact[size] = exact[size] and served["currencies"]["EUR"]["outstanding"] == cur.fetchone()["o"]
            conn.commit()
            for name, figures in results.items():
                sql = sql_times[size].get(name)
                in_sql = f"  (SQL p50 {sql['p50']:6.1f} ms)" if sql else ""
                print(
                    f"[records] {size:>9,}  {name:<28} p50 {figures['p50']:7.1f} ms"
                    f"  p95 {figures['p95']:7.1f} ms{in_sql}"
                )
            print(f"[records] {size:>9,}  figures identical to a full recomputation: {exact[size]}", flush=True)
        # EXPLAIN of the SQL behind the slowest API read at the largest size.
        largest = table[sizes[-1]]
        reads = {
            "first list page": lambda cur: queries.list_invoices(cur, member, per_page=20),
            "filtered, sorted page": lambda cur: queries.list_invoices(
                cur, member, status="paid", sort="issue_date", order="asc", per_page=20
            ),
            "search by number": lambda cur: queries.list_invoices(cur, member, q=f"S-{sizes[-1] // 2:07d}"),
            "search by client name": lambda cur: queries.list_invoices(cur, member, q="Client 137"),
            "API dashboard": lambda cur: queries.dashboard(cur, member),
        }
        slowest = max(reads, key=lambda name: largest[name]["p50"])
        with conn.cursor() as cur:
            explaining = ExplainingCursor(cur)
            reads[slowest](explaining)
        conn.rollback()
        explain = f"-- {slowest} at {sizes[-1]:,} invoices (the slowest API read)\n\n" + "\n\n".join(explaining.plans)
        conn.close()
    finally:
        if not args.keep:
            stack.down()
            if env is not None:
                drop_database(env["DATABASE_URL"])
                delete_broker_objects(env)
            shutil.rmtree(var, ignore_errors=True)

    lines = [
        f"machine: {machine()}",
        "",
        "| operation | " + " | ".join(f"{s:,} p50 / p95 ms" for s in sizes) + " | growth p50 | target p50 | met |",
    ]
    lines.append("|" + " --- |" * (len(sizes) + 4))
    met_all = True
    for name, target in TARGETS.items():
        cells = [f"{table[s][name]['p50']:.1f} / {table[s][name]['p95']:.1f}" for s in sizes]
        growth = table[sizes[-1]][name]["p50"] / table[sizes[0]][name]["p50"]
        if target is None:
            verdict = "-"
        elif sizes[-1] < 1_000_000:
            verdict = "not measured at 1,000,000"
        else:
            ok = table[sizes[-1]][name]["p50"] <= target
            met_all = met_all and ok
            verdict = "met" if ok else "NOT met"
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | x{growth:.2f} | {target if target else '-'} | {verdict} |"
        )
    lines += ["", "The same reads in process, SQL only (p50 / p95 ms):", ""]
    lines.append(f"| read | {' | '.join(f'{s:,}' for s in sizes)} | growth p50 |")
    lines.append("|" + " --- |" * (len(sizes) + 2))
    for name in sql_times[sizes[0]]:
        cells = [f"{sql_times[s][name]['p50']:.1f} / {sql_times[s][name]['p95']:.1f}" for s in sizes]
        growth = sql_times[sizes[-1]][name]["p50"] / sql_times[sizes[0]][name]["p50"]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | x{growth:.2f} |")
    lines.append("")
    lines.append("figures identical to a full recomputation: " + ", ".join(f"{s:,}: {exact[s]}" for s in sizes))
    report = "\n".join(lines)
    print(report)
    (ROOT / "bench" / "RESULTS-records-explain.txt").write_text(explain + "\n")
    print("[records] EXPLAIN (ANALYZE, BUFFERS) of the slowest API read in bench/RESULTS-records-explain.txt")
    return {"table": table, "sql": sql_times, "exact": exact, "met": met_all, "report": report}


if __name__ == "__main__":
    main()
