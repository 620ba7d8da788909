-- notification: the "an expense waits for your approval" mails delivered, one
-- row per (expense.submitted event, approver); a redelivered event mails
-- nobody twice, and a retry after a partial failure mails only whoever is left.
CREATE TABLE expense_review_mails (
    event_id  uuid NOT NULL,
    recipient text NOT NULL,
    expense_id uuid NOT NULL,
    sent_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, recipient)
);
