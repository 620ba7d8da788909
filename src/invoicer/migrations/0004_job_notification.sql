-- notification: the outcome of a job's "invoice ready" mail, shown to its
-- owner by GET /jobs/{id}: NULL while pending, {"status": "sent"} once the
-- mail went out, {"status": "failed", "error": {"code", "message"}} once the
-- event was dead-lettered. A job whose mail failed is thus never shown as
-- plainly done.
ALTER TABLE jobs ADD COLUMN notification jsonb;
ALTER TABLE jobs ADD CONSTRAINT jobs_notification_known
    CHECK (notification IS NULL OR notification->>'status' IN ('sent', 'failed'));
UPDATE jobs SET notification = '{"status": "sent"}'::jsonb
    WHERE id IN (SELECT job_id FROM notifications);
