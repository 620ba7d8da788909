-- Issue 22: GET /jobs held the user's uploads and, mixed in, the render jobs
-- the invoices service makes for issued invoices (their kept PDF, XLSX,
-- e-invoice). A job now says which it is: 'upload' (POST /upload) or 'record'
-- (the documents of an issued invoice or credit note), and GET /jobs?kind=
-- keeps one kind. Existing rows: a job an invoice's render_job_id points to is
-- a record's, every other an upload.
ALTER TABLE jobs ADD COLUMN kind text NOT NULL DEFAULT 'upload'
    CONSTRAINT jobs_kind_known CHECK (kind IN ('upload', 'record'));

DO $$
BEGIN
    IF to_regclass('invoices') IS NOT NULL THEN  -- the invoices service's schema, when it shares this database
        UPDATE jobs SET kind = 'record' WHERE id IN (SELECT render_job_id FROM invoices WHERE render_job_id IS NOT NULL);
    END IF;
END
$$;

-- GET /jobs?kind= (and with ?status=) walks its page by keyset, as 0008's index does for status.
CREATE INDEX jobs_owner_kind_created ON jobs (owner_id, kind, created_at DESC, id DESC);
