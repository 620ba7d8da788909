-- The transactional outbox, infrastructure any service writes to
-- (invoicer.common.outbox) and the outbox relay publishes from
-- (invoicer.common.relay). Each change inserts its event or command in the
-- same transaction; the relay publishes committed rows in seq order and sets
-- published_at. id is the message id consumers deduplicate on.
--
-- The table was created by invoicer.invoices.migrations 0001 and 0002 on
-- databases made before it moved here: every statement below is a no-op on
-- them except the ones that change it (organisation_id nullable, the NOTIFY
-- trigger). On a new database this file creates it and the invoices
-- migrations no longer do.
CREATE TABLE IF NOT EXISTS outbox (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    organisation_id uuid,
    aggregate_type  text NOT NULL,
    aggregate_id    uuid NOT NULL,
    type            text NOT NULL,
    payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
    actor_id        uuid,
    actor_email     text,
    occurred_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at    timestamptz
);
-- Commands: a row of kind 'command' is a message for another service (type =
-- its routing key on the work exchange, payload = its JSON body); events
-- (kind 'event') go to the topic exchange <AMQP_PREFIX>.events.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'event'
    CONSTRAINT outbox_kind_known CHECK (kind IN ('event', 'command'));
-- An upload's render request belongs to no organisation (the gateway's jobs
-- are per user); every event of the invoices service still has one.
ALTER TABLE outbox ALTER COLUMN organisation_id DROP NOT NULL;
ALTER TABLE outbox ADD CONSTRAINT outbox_event_has_organisation
    CHECK (kind = 'command' OR organisation_id IS NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_aggregate ON outbox (aggregate_id, seq);
CREATE INDEX IF NOT EXISTS outbox_invoice ON outbox ((payload ->> 'invoice_id'), seq);

-- Wake the relay at commit: a NOTIFY sent in the writer's transaction is
-- delivered to listeners when (and only if) it commits, once per
-- transaction however many rows it inserted (PostgreSQL folds equal
-- notifications). The relay LISTENs on the channel and polls as a fallback.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('invoicer_outbox', '');
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS outbox_notify ON outbox;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
