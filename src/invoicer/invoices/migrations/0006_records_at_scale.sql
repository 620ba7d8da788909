-- Records at scale (issue 21): the dashboard, the lists and search read
-- indexed rows or a summary kept by the database itself, so that their cost
-- does not grow with an organisation's history.

-- 1. The summaries. invoice_summary: per organisation, kind, currency, stored status and month of
-- issue (-infinity for a document without an issue date), how many documents
-- and the sums of their gross, amount_paid and amount_credited. Statement-level
-- triggers with transition tables keep it in the same transaction as the change,
-- whatever writes the rows: the services, COPY (bulk loads), a psql session. A
-- restore with pg_dump restores this table with the same snapshot; anything that
-- bypasses triggers (TRUNCATE, session_replication_role = replica, a data-only
-- restore with --disable-triggers) is repaired by `invoicer records rebuild-summary`.
CREATE TABLE invoice_summary (
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind            text NOT NULL,
    currency        char(3) NOT NULL,
    status          text NOT NULL,
    month           date NOT NULL,
    n               bigint NOT NULL DEFAULT 0,
    gross           numeric NOT NULL DEFAULT 0,
    paid            numeric NOT NULL DEFAULT 0,
    credited        numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (organisation_id, kind, currency, status, month)
);

-- One function for the three triggers: +1 per row of new_rows, -1 per row of
-- old_rows, summed per key; keys whose figures do not move are not touched (an
-- invoice being sent or rendered locks no summary row). Rows are upserted in key
-- order, so two transactions touching the same keys cannot deadlock on them.
CREATE FUNCTION invoice_summary_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO invoice_summary AS s (organisation_id, kind, currency, status, month, n, gross, paid, credited)
        SELECT organisation_id, kind, currency, status, COALESCE(date_trunc('month', issue_date)::date, '-infinity'),
               count(*), sum(gross), sum(amount_paid), sum(amount_credited)
          FROM new_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (organisation_id, kind, currency, status, month) DO UPDATE
           SET n = s.n + EXCLUDED.n, gross = s.gross + EXCLUDED.gross,
               paid = s.paid + EXCLUDED.paid, credited = s.credited + EXCLUDED.credited;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO invoice_summary AS s (organisation_id, kind, currency, status, month, n, gross, paid, credited)
        SELECT organisation_id, kind, currency, status, month, sum(n), sum(gross), sum(paid), sum(credited)
          FROM (SELECT organisation_id, kind, currency, status,
                       COALESCE(date_trunc('month', issue_date)::date, '-infinity') AS month,
                       1 AS n, gross, amount_paid AS paid, amount_credited AS credited FROM new_rows
                UNION ALL
                SELECT organisation_id, kind, currency, status,
                       COALESCE(date_trunc('month', issue_date)::date, '-infinity'),
                       -1, -gross, -amount_paid, -amount_credited FROM old_rows) AS delta
         GROUP BY 1, 2, 3, 4, 5
        HAVING sum(n) <> 0 OR sum(gross) <> 0 OR sum(paid) <> 0 OR sum(credited) <> 0
         ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (organisation_id, kind, currency, status, month) DO UPDATE
           SET n = s.n + EXCLUDED.n, gross = s.gross + EXCLUDED.gross,
               paid = s.paid + EXCLUDED.paid, credited = s.credited + EXCLUDED.credited;
    ELSE
        INSERT INTO invoice_summary AS s (organisation_id, kind, currency, status, month, n, gross, paid, credited)
        SELECT organisation_id, kind, currency, status, COALESCE(date_trunc('month', issue_date)::date, '-infinity'),
               -count(*), -sum(gross), -sum(amount_paid), -sum(amount_credited)
          FROM old_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (organisation_id, kind, currency, status, month) DO UPDATE
           SET n = s.n + EXCLUDED.n, gross = s.gross + EXCLUDED.gross,
               paid = s.paid + EXCLUDED.paid, credited = s.credited + EXCLUDED.credited;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER invoice_summary_insert AFTER INSERT ON invoices
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoice_summary_apply();
CREATE TRIGGER invoice_summary_update AFTER UPDATE ON invoices
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoice_summary_apply();
CREATE TRIGGER invoice_summary_delete AFTER DELETE ON invoices
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION invoice_summary_apply();

-- What the summary is, computed from the rows: `rebuild-summary` and the tests
-- compare the two.
CREATE FUNCTION invoice_summary_recompute(org uuid)
RETURNS TABLE (organisation_id uuid, kind text, currency char(3), status text, month date,
               n bigint, gross numeric, paid numeric, credited numeric)
LANGUAGE sql STABLE AS $$
    SELECT i.organisation_id, i.kind, i.currency, i.status,
           COALESCE(date_trunc('month', i.issue_date)::date, '-infinity'),
           count(*), sum(i.gross), sum(i.amount_paid), sum(i.amount_credited)
      FROM invoices i
     WHERE org IS NULL OR i.organisation_id = org
     GROUP BY 1, 2, 3, 4, 5
$$;

INSERT INTO invoice_summary SELECT * FROM invoice_summary_recompute(NULL);

-- Payments per organisation, currency (the invoice's) and day, kept the same
-- way: "paid in the last 30 days" sums at most 30 rows per currency instead of
-- joining every payment of the window to its invoice.
CREATE TABLE payment_summary (
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    currency        char(3) NOT NULL,
    date            date NOT NULL,
    n               bigint NOT NULL DEFAULT 0,
    amount          numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (organisation_id, currency, date)
);

CREATE FUNCTION payment_summary_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO payment_summary AS s (organisation_id, currency, date, n, amount)
        SELECT p.organisation_id, i.currency, p.date, count(*), sum(p.amount)
          FROM new_rows p JOIN invoices i ON i.id = p.invoice_id
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (organisation_id, currency, date) DO UPDATE
           SET n = s.n + EXCLUDED.n, amount = s.amount + EXCLUDED.amount;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO payment_summary AS s (organisation_id, currency, date, n, amount)
        SELECT organisation_id, currency, date, sum(n), sum(amount)
          FROM (SELECT p.organisation_id, i.currency, p.date, 1 AS n, p.amount
                  FROM new_rows p JOIN invoices i ON i.id = p.invoice_id
                UNION ALL
                SELECT p.organisation_id, i.currency, p.date, -1, -p.amount
                  FROM old_rows p JOIN invoices i ON i.id = p.invoice_id) AS delta
         GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(amount) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (organisation_id, currency, date) DO UPDATE
           SET n = s.n + EXCLUDED.n, amount = s.amount + EXCLUDED.amount;
    ELSE
        INSERT INTO payment_summary AS s (organisation_id, currency, date, n, amount)
        SELECT p.organisation_id, i.currency, p.date, -count(*), -sum(p.amount)
          FROM old_rows p JOIN invoices i ON i.id = p.invoice_id
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (organisation_id, currency, date) DO UPDATE
           SET n = s.n + EXCLUDED.n, amount = s.amount + EXCLUDED.amount;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER payment_summary_insert AFTER INSERT ON payments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payment_summary_apply();
CREATE TRIGGER payment_summary_update AFTER UPDATE ON payments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payment_summary_apply();
CREATE TRIGGER payment_summary_delete AFTER DELETE ON payments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION payment_summary_apply();

CREATE FUNCTION payment_summary_recompute(org uuid)
RETURNS TABLE (organisation_id uuid, currency char(3), date date, n bigint, amount numeric)
LANGUAGE sql STABLE AS $$
    SELECT p.organisation_id, i.currency, p.date, count(*), sum(p.amount)
      FROM payments p JOIN invoices i ON i.id = p.invoice_id
     WHERE org IS NULL OR p.organisation_id = org
     GROUP BY 1, 2, 3
$$;

INSERT INTO payment_summary SELECT * FROM payment_summary_recompute(NULL);

-- 2. Open invoices, the only ones outstanding, overdue and ageing need: a partial
-- index holding everything those figures read (index-only scans).
CREATE INDEX invoices_open ON invoices (organisation_id, currency, due_date) INCLUDE (status, balance_due)
    WHERE kind = 'invoice' AND status IN ('issued', 'sent', 'partially_paid');

-- 3. Keyset pagination: one index per sort key and direction, each ending in id
-- (the tie-breaker). Sort keys that may be NULL (drafts have no number, maybe no
-- dates) are sorted as (key IS NULL, key, id) ascending and (key IS NOT NULL, key,
-- id) descending, so drafts come last both ways as they always did, and every
-- position is a row value with no NULL in it.
DROP INDEX invoices_organisation_created;
CREATE INDEX invoices_sort_created ON invoices (organisation_id, created_at, id);
CREATE INDEX invoices_sort_gross ON invoices (organisation_id, gross, id);
CREATE INDEX invoices_sort_issue_asc ON invoices
    (organisation_id, (issue_date IS NULL), COALESCE(issue_date, '-infinity'::date), id);
CREATE INDEX invoices_sort_issue_desc ON invoices
    (organisation_id, (issue_date IS NOT NULL), COALESCE(issue_date, '-infinity'::date), id);
CREATE INDEX invoices_sort_due_asc ON invoices
    (organisation_id, (due_date IS NULL), COALESCE(due_date, '-infinity'::date), id);
CREATE INDEX invoices_sort_due_desc ON invoices
    (organisation_id, (due_date IS NOT NULL), COALESCE(due_date, '-infinity'::date), id);
CREATE INDEX invoices_sort_number_asc ON invoices
    (organisation_id, (number IS NULL), COALESCE(number, ''), id);
CREATE INDEX invoices_sort_number_desc ON invoices
    (organisation_id, (number IS NOT NULL), COALESCE(number, ''), id);
-- The filters most lists use, with the default order.
CREATE INDEX invoices_status_created ON invoices (organisation_id, status, created_at, id);
DROP INDEX invoices_organisation_client;
CREATE INDEX invoices_client_created ON invoices (organisation_id, client_id, created_at, id);

-- 4. Search by number and client name: trigram indexes (pg_trgm, PostgreSQL's
-- contrib) serve ILIKE '%text%'.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX invoices_search ON invoices USING gin (
    (COALESCE(number, '') || E'\n' || COALESCE(buyer ->> 'name', '') || E'\n' || COALESCE(buyer ->> 'company', ''))
    gin_trgm_ops);
CREATE INDEX clients_search ON clients USING gin ((name || E'\n' || COALESCE(company, '')) gin_trgm_ops);
