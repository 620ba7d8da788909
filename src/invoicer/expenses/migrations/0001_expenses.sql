-- Expenses (issue 19): received invoices and receipts, read by the intake
-- worker, reviewed, approved and paid. One organisation's rows are reached
-- only with its id (every query of invoicer.expenses is scoped by it).

CREATE TABLE expense_suppliers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    name text NOT NULL,
    -- the key a supplier is known by: its VAT ID (BT-31) when read, else its name folded
    supplier_key text NOT NULL,
    vat_id text,
    -- the IBANs (BT-84) seen on its approved or submitted documents, the last one first
    ibans text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, supplier_key)
);

CREATE TABLE expense_categories (
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    PRIMARY KEY (organisation_id, name)
);

CREATE TABLE expenses (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    status text NOT NULL CHECK (status IN
        ('processing', 'needs_review', 'submitted', 'approved', 'rejected', 'paid', 'failed')),
    version integer NOT NULL DEFAULT 1,
    created_by uuid NOT NULL,
    created_by_email text NOT NULL,
    submitted_by uuid,
    submitted_at timestamptz,
    decided_by uuid,
    decided_at timestamptz,
    rejection_reason text,
    failure_reason text,
    -- the document (GridFS id), as uploaded
    document_fid text,
    document_name text,
    document_type text,
    document_size integer,
    kind text,
    pages integer NOT NULL DEFAULT 0,
    -- {name: {value, confidence, source, page?, bbox?}} (invoicer.invoice.reading.fields)
    fields jsonb NOT NULL DEFAULT '{}',
    lines jsonb NOT NULL DEFAULT '[]',
    checks jsonb NOT NULL DEFAULT '[]',
    -- warnings a person confirmed before submitting (duplicate, bank_details_changed)
    confirmed jsonb NOT NULL DEFAULT '[]',
    supplier_id uuid REFERENCES expense_suppliers (id),
    duplicate_of uuid REFERENCES expenses (id),
    category text,
    notes text,
    -- copies of fields' values for filters and sorting
    supplier_name text,
    invoice_number text,
    issue_date date,
    currency text,
    total_gross numeric(18, 2),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX expenses_listing ON expenses (organisation_id, created_at DESC, id DESC);
CREATE INDEX expenses_by_status ON expenses (organisation_id, status, created_at DESC);
CREATE INDEX expenses_by_supplier_number ON expenses (organisation_id, supplier_id, lower(invoice_number));

CREATE TABLE expense_payments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    expense_id uuid NOT NULL REFERENCES expenses (id),
    amount numeric(18, 2) NOT NULL CHECK (amount > 0),
    paid_on date NOT NULL,
    method text,
    reference text,
    recorded_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX expense_payments_of ON expense_payments (expense_id);
