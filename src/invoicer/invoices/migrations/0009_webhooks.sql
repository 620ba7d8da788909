-- Webhooks (issue 20): endpoints an organisation registers, one delivery per
-- (endpoint, event) and every attempt at it. The invoices service writes the
-- endpoints; the webhook sender (invoicer.webhook) the deliveries and attempts.
--
-- secret signs every delivery and is answered only when made (POST /webhooks,
-- /rotate-secret); after a rotation previous_secret signs too until
-- previous_secret_expires_at. An endpoint answering 410 is disabled.
CREATE TABLE webhook_endpoints (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id            uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    url                        text NOT NULL,
    events                     text[] NOT NULL,
    description                text NOT NULL DEFAULT '',
    secret                     text NOT NULL,
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    enabled                    boolean NOT NULL DEFAULT true,
    disabled_reason            text,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, id)
);
CREATE INDEX webhook_endpoints_organisation ON webhook_endpoints (organisation_id, created_at);

-- A delivery is the event's body (kept as the bytes signed and sent) for one
-- endpoint; (endpoint_id, event_id) is unique, so a redelivered event makes
-- no second one. pending deliveries are sent when next_attempt_at has come
-- (claimed FOR UPDATE SKIP LOCKED); succeeded and dead are final until
-- someone asks for it again. step counts the attempts since the last such ask.
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL,
    endpoint_id     uuid NOT NULL,
    event_id        uuid NOT NULL,
    event_type      text NOT NULL,
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    step            integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_id),
    FOREIGN KEY (organisation_id, endpoint_id) REFERENCES webhook_endpoints (organisation_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);

-- One row per HTTP attempt: the status code answered (NULL when none came:
-- refused address, timeout, connection error, then error says which), how
-- long it took, and the start of the answer's body.
CREATE TABLE webhook_attempts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id   uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    status_code   integer,
    duration_ms   integer NOT NULL,
    error         text,
    response_body text
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
