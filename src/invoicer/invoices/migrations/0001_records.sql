-- invoices service: organisations, their members, clients, invoices and credit
-- notes, payments, orders, the gapless number series, the outbox of domain
-- events and the idempotency keys. Every row of the service belongs to one
-- organisation; composite foreign keys (organisation_id, id) make a row of one
-- organisation unable to point at another organisation's row.

CREATE TABLE organisations (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL DEFAULT '',
    company            text,
    address            text,
    vat_id             text,
    email              text,
    phone              text,
    bank_details       text,
    currency           char(3) NOT NULL DEFAULT 'EUR',
    locale             text NOT NULL DEFAULT 'en_GB',
    payment_terms_days integer NOT NULL DEFAULT 30 CHECK (payment_terms_days BETWEEN 0 AND 3650),
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- A user belongs to one organisation (user_id unique); an invitation is a
-- membership whose user_id is NULL until the invited user shows up.
CREATE TABLE memberships (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id         uuid UNIQUE,
    email           text NOT NULL,
    role            text NOT NULL CHECK (role IN ('owner', 'accountant', 'viewer')),
    invited_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    joined_at       timestamptz
);
CREATE UNIQUE INDEX memberships_email_lower ON memberships (lower(email));
CREATE INDEX memberships_organisation ON memberships (organisation_id);

-- Gapless numbering: one counter row per (organisation, series, year), locked
-- with SELECT ... FOR UPDATE and incremented in the issuing transaction, so a
-- rolled-back issue gives its number back. Never a SEQUENCE (gaps on rollback).
CREATE TABLE number_series (
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    series          text NOT NULL,
    year            integer NOT NULL,
    next_value      integer NOT NULL DEFAULT 1 CHECK (next_value > 0),
    PRIMARY KEY (organisation_id, series, year)
);

CREATE TABLE clients (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id    uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name               text NOT NULL,
    company            text,
    address            text,
    email              text,
    phone              text,
    vat_id             text,
    currency           char(3),
    payment_terms_days integer CHECK (payment_terms_days BETWEEN 0 AND 3650),
    archived_at        timestamptz,
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, id)
);
CREATE INDEX clients_organisation_name ON clients (organisation_id, lower(name));

-- Invoices and credit notes. lines holds the canonical input's lines (amounts
-- as decimal strings); seller and buyer are copied at issue; totals are the
-- EN 16931 totals computed by invoicer.invoice.model. amount_paid and
-- amount_credited are kept in step by the transactions recording payments and
-- credit notes, so lists and the dashboard read balance_due from the row.
CREATE TABLE invoices (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id     uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind                text NOT NULL DEFAULT 'invoice' CHECK (kind IN ('invoice', 'credit_note')),
    status              text NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'issued', 'sent', 'partially_paid', 'paid', 'credited')),
    series              text,
    number              text,
    client_id           uuid,
    currency            char(3) NOT NULL,
    issue_date          date,
    due_date            date,
    payment_terms       text,
    notes               text,
    lines               jsonb NOT NULL DEFAULT '[]'::jsonb,
    seller              jsonb,
    buyer               jsonb,
    ship_to             jsonb,
    totals              jsonb NOT NULL,
    gross               numeric GENERATED ALWAYS AS ((totals ->> 'gross')::numeric) STORED,
    amount_paid         numeric NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    amount_credited     numeric NOT NULL DEFAULT 0 CHECK (amount_credited >= 0),
    balance_due         numeric GENERATED ALWAYS AS
                        ((totals ->> 'gross')::numeric - amount_paid - amount_credited) STORED,
    corrects_invoice_id uuid,
    credits             jsonb,
    reason              text,
    render_job_id       uuid,
    version             integer NOT NULL DEFAULT 1,
    created_by          uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    issued_at           timestamptz,
    sent_at             timestamptz,
    UNIQUE (organisation_id, id),
    UNIQUE (organisation_id, series, number),
    FOREIGN KEY (organisation_id, client_id) REFERENCES clients (organisation_id, id),
    FOREIGN KEY (organisation_id, corrects_invoice_id) REFERENCES invoices (organisation_id, id),
    CONSTRAINT invoices_number_when_issued CHECK ((status = 'draft') = (number IS NULL)),
    CONSTRAINT invoices_credit_note_corrects CHECK ((kind = 'credit_note') = (corrects_invoice_id IS NOT NULL))
);
CREATE INDEX invoices_organisation_created ON invoices (organisation_id, created_at DESC);
CREATE INDEX invoices_organisation_client ON invoices (organisation_id, client_id);
CREATE INDEX invoices_corrects ON invoices (corrects_invoice_id) WHERE corrects_invoice_id IS NOT NULL;

-- Issued documents are frozen: the database refuses to change their content
-- or to delete them, whatever the application does.
CREATE FUNCTION invoices_refuse_frozen_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is %: issued invoices cannot be deleted', OLD.number, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        NEW.status = 'draft'
        OR (NEW.organisation_id, NEW.kind, NEW.series, NEW.number, NEW.client_id, NEW.currency,
            NEW.issue_date, NEW.due_date, NEW.payment_terms, NEW.notes, NEW.lines, NEW.seller,
            NEW.buyer, NEW.ship_to, NEW.totals, NEW.corrects_invoice_id, NEW.credits, NEW.reason, NEW.issued_at)
           IS DISTINCT FROM
           (OLD.organisation_id, OLD.kind, OLD.series, OLD.number, OLD.client_id, OLD.currency,
            OLD.issue_date, OLD.due_date, OLD.payment_terms, OLD.notes, OLD.lines, OLD.seller,
            OLD.buyer, OLD.ship_to, OLD.totals, OLD.corrects_invoice_id, OLD.credits, OLD.reason, OLD.issued_at)
    ) THEN
        RAISE EXCEPTION 'invoice % is %: the content of an issued invoice cannot change', OLD.number, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER invoices_frozen BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_refuse_frozen_change();

CREATE TABLE payments (
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
CREATE INDEX payments_invoice ON payments (invoice_id);
CREATE INDEX payments_organisation_date ON payments (organisation_id, date);

CREATE TABLE orders (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    client_id       uuid NOT NULL,
    currency        char(3) NOT NULL,
    lines           jsonb NOT NULL,
    notes           text,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'invoiced')),
    invoice_id      uuid,
    created_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (organisation_id, client_id) REFERENCES clients (organisation_id, id),
    FOREIGN KEY (organisation_id, invoice_id) REFERENCES invoices (organisation_id, id)
);
CREATE INDEX orders_organisation_created ON orders (organisation_id, created_at DESC);

-- The outbox of domain events this service writes is shared infrastructure
-- now: invoicer/common/migrations/0001_outbox.sql creates it (before this
-- file runs). Databases made before the move had it created here; that file
-- upgrades them.

-- The first response to a request carrying an Idempotency-Key, replayed for
-- a retry with the same key and the same request fingerprint: status is the
-- response's HTTP status, response its JSON body.
CREATE TABLE idempotency_keys (
    user_id     uuid NOT NULL,
    key         text NOT NULL,
    fingerprint text NOT NULL,
    status      integer NOT NULL,
    response    jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
