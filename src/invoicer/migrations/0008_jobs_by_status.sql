-- GET /jobs?status= walks its page by keyset (issue 21): newest first within one
-- status, without scanning the owner's other jobs.
CREATE INDEX jobs_owner_status_created ON jobs (owner_id, status, created_at DESC, id DESC);
