"""Records at scale (issue 21): the dashboard's figures are exact whichever
way invoices reach the table (the services, a bulk load, rows written behind
the triggers' back and then rebuilt), the monthly series counts every invoice
(not a page of the list), and keyset cursors neither skip nor repeat while
invoices are being added."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest

from invoicer.invoices import clients, credit_notes, invoices, payments
from invoicer.invoices.errors import Unprocessable
from invoicer.invoices.queries import (
    AGEING_BUCKETS,
    STATUSES,
    dashboard,
    list_invoices,
    rebuild_summary,
    summary_differences,
)

TODAY = date(2026, 6, 30)


def make(cur, member, client, amount, issued, due, *, currency=None, issue=True):
    fields = {
        "client_id": client["id"],
        "issue_date": issued,
        "due_date": due,
        "lines": [{"description": "Work", "quantity": "1", "unit_price": amount, "tax_rate": "0"}],
    }
    if currency:
        fields["currency"] = currency
    draft = invoices.create_draft(cur, member, fields)
    return invoices.issue(cur, member, draft["id"], today=TODAY) if issue else draft


def bulk_load(cur, member, client, count, *, first_day, amount="10.00", paid="4.00", days=360, prefix="B"):
    """``count`` issued invoices written straight into the table in one
    statement, as a bulk load (COPY, a restore) would: issue dates spread
    over ``days`` days from ``first_day``, each of gross ``amount`` with
    ``paid`` paid, every third one paid in full."""
    cur.execute(
        """
        INSERT INTO invoices (organisation_id, kind, status, series, number, client_id, currency,
                              issue_date, due_date, lines, buyer, totals, amount_paid, issued_at)
        SELECT %(org)s, 'invoice', CASE WHEN g %% 3 = 0 THEN 'paid' ELSE 'partially_paid' END,
               'bulk', %(prefix)s || '-' || lpad(g::text, 7, '0'), %(client)s, 'EUR',
               %(first)s::date + (g %% %(days)s), %(first)s::date + (g %% %(days)s) + 30,
               '[]'::jsonb, jsonb_build_object('name', 'Bulk Buyer ' || g),
               jsonb_build_object('currency', 'EUR', 'net', %(amount)s, 'tax', '0', 'gross', %(amount)s),
               CASE WHEN g %% 3 = 0 THEN %(amount)s::numeric ELSE %(paid)s::numeric END, now()
          FROM generate_series(1, %(count)s) AS g
        """,
        {
            "org": member.organisation_id,
            "client": client["id"],
            "first": first_day,
            "days": days,
            "amount": amount,
            "paid": paid,
            "count": count,
            "prefix": prefix,
        },
    )


def recomputed(cur, member, today):
    """The dashboard computed the slow way, from every invoice and payment
    row of the organisation (what the service did before issue 21)."""
    org = member.organisation_id
    cur.execute(
        """
        SELECT currency, status, kind, issue_date, due_date, gross, amount_paid, balance_due
          FROM invoices WHERE organisation_id = %s AND kind = 'invoice'
        """,
        (org,),
    )
    figures: dict = {}
    first_month = date(today.year - 1, today.month + 1, 1) if today.month < 12 else date(today.year, 1, 1)
    for row in cur.fetchall():
        currency = figures.setdefault(
            row["currency"],
            {
                "outstanding": Decimal(0),
                "overdue": Decimal(0),
                "counts": dict.fromkeys(STATUSES, 0),
                "ageing": dict.fromkeys(AGEING_BUCKETS, Decimal(0)),
                "months": {},
            },
        )
        is_open = row["status"] in ("issued", "sent", "partially_paid")
        late = is_open and row["balance_due"] > 0 and row["due_date"] is not None and row["due_date"] < today
        currency["counts"]["overdue" if late else row["status"]] += 1
        if is_open:
            currency["outstanding"] += row["balance_due"]
            if late:
                currency["overdue"] += row["balance_due"]
                days = (today - row["due_date"]).days
                bucket = "1_30" if days <= 30 else "31_60" if days <= 60 else "61_90" if days <= 90 else "over_90"
                currency["ageing"][bucket] += row["balance_due"]
            elif row["balance_due"] > 0:
                currency["ageing"]["not_due"] += row["balance_due"]
        if row["status"] != "draft" and row["issue_date"] and first_month <= row["issue_date"] <= today:
            month = currency["months"].setdefault(row["issue_date"].strftime("%Y-%m"), [Decimal(0), Decimal(0)])
            month[0] += row["gross"]
            month[1] += row["amount_paid"]
    cur.execute(
        "SELECT i.currency, sum(p.amount) AS paid FROM payments p JOIN invoices i ON i.id = p.invoice_id"
        " WHERE p.organisation_id = %s AND p.date BETWEEN %s AND %s GROUP BY 1",
        (org, today - timedelta(days=29), today),
    )
    paid = {row["currency"]: row["paid"] for row in cur.fetchall()}
    return figures, paid


def assert_exact(cur, member, today=TODAY):
    """The service's dashboard equals the recomputation, figure for figure."""
    served = dashboard(cur, member, today=today)["currencies"]
    expected, paid = recomputed(cur, member, today)
    assert set(served) == set(expected)
    for code, want in expected.items():
        got = served[code]
        assert got["outstanding"] == want["outstanding"] and got["overdue"] == want["overdue"], code
        assert got["counts"] == want["counts"], code
        assert got["ageing"] == want["ageing"], code
        assert got["paid_last_30_days"] == paid.get(code, 0), code
        months = {m["month"]: [m["invoiced"], m["paid"]] for m in got["months"] if m["invoiced"] or m["paid"]}
        assert months == want["months"], code
        assert len(got["months"]) == 12
    return served


@pytest.fixture
def book(db, owner, client):
    """A mixed history of one organisation, made through the domain functions."""
    with db.transaction() as cur:
        other = clients.create_client(cur, owner, {"name": "Zed Corp", "currency": "USD"})
        # Issued in date order: numbers and dates agree (issue 22); the oldest is as far back
        # as issuing allows, outside the twelve months of the monthly series.
        oldest = make(cur, owner, client, "80.00", "2025-06-30", "2025-07-20")
        march = make(cur, owner, client, "300.00", "2026-03-15", "2026-04-15")
        may = make(cur, owner, client, "200.00", "2026-05-15", "2026-06-15")
        june = make(cur, owner, client, "60.00", "2026-06-01", "2026-06-05")
        late_june = make(cur, owner, client, "100.00", "2026-06-20", "2026-07-10")
        other_client = make(cur, owner, other, "1000.00", "2026-06-29", "2026-07-30")
        made = [late_june, may, march, oldest, other_client, june]
        doomed = make(cur, owner, client, "5.00", None, None, issue=False)
        make(cur, owner, client, "999.00", None, None, issue=False)
        payments.record_payment(cur, owner, made[1]["id"], "50.00", paid_on="2026-06-25", today=TODAY)
        payments.record_payment(cur, owner, made[3]["id"], "80.00", paid_on="2026-05-01", today=TODAY)
        invoices.mark_sent(cur, owner, made[4]["id"])
        credit_notes.issue_credit_note(cur, owner, made[5]["id"], today=TODAY)
        invoices.delete_draft(cur, owner, doomed["id"])
    return made


def test_summary_kept_in_step_by_the_database(db, owner, client, book):
    with db.transaction() as cur:
        assert summary_differences(cur, owner.organisation_id) == []
        served = assert_exact(cur, owner)
    eur = served["EUR"]
    assert eur["counts"]["draft"] == 1 and eur["counts"]["credited"] == 1 and eur["counts"]["paid"] == 1
    june = next(m for m in eur["months"] if m["month"] == "2026-06")
    assert june == {"month": "2026-06", "invoiced": Decimal("160.00"), "paid": Decimal("0.00")}
    assert next(m for m in eur["months"] if m["month"] == "2026-05")["paid"] == Decimal("50.00")
    assert eur["months"][0]["month"] == "2025-07" and eur["months"][-1]["month"] == "2026-06"
    # The invoice of April 2025 is outside the 12 months; its counts are not.
    assert all(m["month"] != "2025-04" for m in eur["months"])


def test_bulk_load_and_rebuild_give_the_same_figures(db, owner, client, book):
    with db.transaction() as cur:
        bulk_load(cur, owner, client, 500, first_day=date(2025, 7, 1))
        assert summary_differences(cur, owner.organisation_id) == []  # the statement's trigger saw all 500
        assert_exact(cur, owner)
    # Rows written where triggers do not fire (a data-only restore with
    # --disable-triggers does this) leave the summary behind: the
    # comparison says so, and rebuilding repairs exactly that.
    with db.transaction() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        bulk_load(cur, owner, client, 30, first_day=date(2026, 1, 1), prefix="R")
        cur.execute(
            "INSERT INTO payments (organisation_id, invoice_id, amount, date)"
            " SELECT organisation_id, id, 1.50, %s FROM invoices WHERE organisation_id = %s AND number = 'R-0000001'",
            (TODAY, owner.organisation_id),
        )
    with db.transaction() as cur:
        wrong = summary_differences(cur, owner.organisation_id)
        assert wrong and all(row["rows_n"] > (row["kept_n"] or 0) for row in wrong)
        assert {row["table"] for row in wrong} == {"invoice_summary", "payment_summary"}
        assert rebuild_summary(cur, owner.organisation_id) == len(wrong)
    with db.transaction() as cur:
        assert summary_differences(cur, owner.organisation_id) == []
        served = assert_exact(cur, owner)
    assert served["EUR"]["counts"]["paid"] == 1 + 500 // 3 + 30 // 3


def test_monthly_series_counts_every_invoice_past_a_thousand(db, owner, client):
    with db.transaction() as cur:
        bulk_load(cur, owner, client, 2400, first_day=date(2026, 6, 1), days=30)  # all in June 2026
        make(cur, owner, client, "7.00", "2026-06-15", "2026-07-15")
    with db.transaction() as cur:
        served = assert_exact(cur, owner)
    june = served["EUR"]["months"][-1]
    assert june["month"] == "2026-06"
    assert june["invoiced"] == Decimal("24007.00")  # 2400 x 10.00 + 7.00, not a page of 1000
    assert june["paid"] == Decimal(800 * 10 + 1600 * 4)


def test_dashboard_moves_with_each_change(db, owner, client):
    with db.transaction() as cur:
        first = make(cur, owner, client, "100.00", "2026-06-01", "2026-06-10")
        assert assert_exact(cur, owner)["EUR"]["counts"]["overdue"] == 1
    with db.transaction() as cur:
        payments.record_payment(cur, owner, first["id"], "100.00", paid_on="2026-06-29", today=TODAY)
        served = assert_exact(cur, owner)
    assert served["EUR"]["counts"]["paid"] == 1 and served["EUR"]["outstanding"] == 0
    assert served["EUR"]["paid_last_30_days"] == Decimal("100.00")


def ids(page):
    return [item["id"] for item in page["items"]]


@pytest.mark.parametrize(("sort", "order"), [("created_at", "desc"), ("issue_date", "asc"), ("number", "desc")])
def test_cursors_neither_skip_nor_repeat_while_invoices_are_added(db, owner, client, sort, order):
    with db.transaction() as cur:
        for n in range(23):
            # dates with ties, never earlier than the last issued (numbers and dates agree)
            make(cur, owner, client, f"{n + 1}.00", f"2026-05-{n // 3 + 1:02d}", None, issue=n % 5 != 0)
        everything = ids(list_invoices(cur, owner, sort=sort, order=order, per_page=200, today=TODAY))
    assert len(everything) == 23

    stop = threading.Event()

    def keep_adding():  # another member's session issuing invoices the whole time
        while not stop.is_set():
            with db.transaction() as cur:
                make(cur, owner, client, "1.00", "2026-05-20", None)

    writer = threading.Thread(target=keep_adding)
    writer.start()
    try:
        seen, pages, cursor = [], [], None
        while True:
            with db.transaction() as cur:
                page = list_invoices(cur, owner, sort=sort, order=order, per_page=5, cursor=cursor, today=TODAY)
            pages.append(page)
            seen += [i for i in ids(page) if i in everything]
            cursor = page["next"]
            if cursor is None:
                break
    finally:
        stop.set()
        writer.join()
    if sort == "created_at":  # newest first: what was added meanwhile lies before the first page
        assert seen == everything
    else:  # the others interleave; every original invoice still shows once, in order
        assert [i for i in seen if i in everything] == everything and len(set(seen)) == len(seen)
    # prev of the third page is the second page again
    with db.transaction() as cur:
        back = list_invoices(cur, owner, sort=sort, order=order, per_page=5, cursor=pages[2]["prev"], today=TODAY)
    assert [i for i in ids(back) if i in everything] == [i for i in ids(pages[1]) if i in everything]
    assert back["next"] is not None and back["page"] is None


def test_counts_are_capped_and_cursors_checked(db, owner, client, monkeypatch):
    from invoicer.invoices import queries

    with db.transaction() as cur:
        bulk_load(cur, owner, client, 30, first_day=date(2026, 1, 1))
        monkeypatch.setattr(queries, "COUNT_CAP", 25)
        capped = list_invoices(cur, owner, per_page=10)
        assert capped["total"] == 25 and capped["total_exact"] is False
        exact = list_invoices(cur, owner, status="paid", per_page=10)
        assert exact["total"] == 10 and exact["total_exact"] is True
        for bad in ("garbage", capped["next"][:-3], list_invoices(cur, owner, sort="gross", per_page=5)["next"]):
            with pytest.raises(Unprocessable) as caught:
                list_invoices(cur, owner, cursor=bad)
            assert caught.value.pointer == "/cursor"


def test_search_by_number_and_client_name(db, owner, client):
    with db.transaction() as cur:
        bulk_load(cur, owner, client, 50, first_day=date(2026, 1, 1), prefix="SRCH")
        other = clients.create_client(cur, owner, {"name": "Quixotic Widgets"})
        draft = make(cur, owner, other, "3.00", None, None, issue=False)
        assert ids(list_invoices(cur, owner, q="srch-0000042")) and [
            item["number"] for item in list_invoices(cur, owner, q="srch-0000042")["items"]
        ] == ["SRCH-0000042"]
        assert ids(list_invoices(cur, owner, q="xotic widg")) == [draft["id"]]  # a draft, by its client
        assert list_invoices(cur, owner, q="bulk buyer 17")["total"] == 1


def test_rebuild_summary_command(db, owner, client, monkeypatch, capsys):
    from invoicer.cli import main

    monkeypatch.setenv("DATABASE_URL", db.dsn)
    org = str(owner.organisation_id)
    with db.transaction() as cur:
        make(cur, owner, client, "10.00", "2026-06-01", "2026-06-30")
        cur.execute("SET LOCAL session_replication_role = replica")
        bulk_load(cur, owner, client, 12, first_day=date(2026, 2, 1))
    assert main(["records", "rebuild-summary", "--organisation", org, "--check"]) == 1
    assert main(["records", "rebuild-summary", "--organisation", org]) == 0
    assert main(["records", "rebuild-summary", "--organisation", org, "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("key(s) differ from the invoices") and not out[0].endswith(
        " 0 key(s) differ from the invoices"
    )
    assert out[-1] == f"summary of organisation {org}: 0 key(s) differ from the invoices"
    with db.transaction() as cur:
        assert_exact(cur, owner)
    with pytest.raises(SystemExit, match="not an organisation id"):
        main(["records", "rebuild-summary", "--organisation", "nope"])
