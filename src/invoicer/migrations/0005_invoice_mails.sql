-- notification: one row per invoice mail command (invoice.mail) whose mail
-- went out to the client; the command id is the idempotency key that keeps a
-- redelivered command from mailing twice.
CREATE TABLE invoice_mails (
    command_id uuid PRIMARY KEY,
    invoice_id uuid NOT NULL,
    recipient  text NOT NULL,
    sent_at    timestamptz NOT NULL DEFAULT now()
);
