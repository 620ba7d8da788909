-- Commands in the outbox: a row of kind 'command' is a message for another
-- service (type = its routing key on the work exchange, payload = its JSON
-- body) that must be published if and only if the transaction that wrote it
-- commits, e.g. the render request of an issued invoice or the mail of a sent
-- one. Events (kind 'event', every row so far) go to the topic exchange as
-- before. (The outbox is common's now, created with this column by
-- invoicer/common/migrations/0001_outbox.sql: a no-op on new databases.)
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'event'
    CONSTRAINT outbox_kind_known CHECK (kind IN ('event', 'command'));
