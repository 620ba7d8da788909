-- Issue 22 item 6: money paid back to a client. A credit note after a payment
-- leaves the client owed (payments + credit notes above the gross); refunds
-- record what was paid back, and the invoice shows a refund due until they
-- settle it. amount_refunded is kept beside amount_paid, as payments are.
CREATE TABLE refunds (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL,
    invoice_id      uuid NOT NULL,
    amount          numeric NOT NULL CHECK (amount > 0),
    date            date NOT NULL,
    method          text,
    reference       text,
    created_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (organisation_id, invoice_id) REFERENCES invoices (organisation_id, id)
);
CREATE INDEX refunds_invoice ON refunds (invoice_id, date);

ALTER TABLE invoices ADD COLUMN amount_refunded numeric NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0);
