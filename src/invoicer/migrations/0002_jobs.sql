-- gateway and worker: one row per uploaded invoice. Rows change as the job
-- moves queued -> processing -> done | failed, so they live here and not in
-- GridFS (which holds the immutable blobs).
CREATE TABLE jobs (
    id             uuid PRIMARY KEY,
    owner_id       uuid NOT NULL,
    owner_email    text NOT NULL,
    status         text NOT NULL DEFAULT 'queued',
    formats        text[] NOT NULL,
    input_fid      text NOT NULL,
    invoice_number text,
    totals         jsonb,
    files          jsonb NOT NULL DEFAULT '[]'::jsonb,
    error          jsonb,
    attempts       integer NOT NULL DEFAULT 0,
    timings        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT jobs_status_known CHECK (status IN ('queued', 'processing', 'done', 'failed'))
);
CREATE INDEX jobs_owner_created ON jobs (owner_id, created_at DESC, id DESC);

-- notification: one row per job whose "invoice ready" mail went out; the
-- job id is the idempotency key that keeps redelivered events from mailing twice.
CREATE TABLE notifications (
    job_id     uuid PRIMARY KEY,
    recipient  text NOT NULL,
    sent_at    timestamptz NOT NULL DEFAULT now()
);
