-- What e-invoices need of the records (issue 18, EN 16931): the parties' tax
-- number (BT-32), legal registration (BT-30), contact (BG-6 / BG-9), electronic
-- address (BT-34 / BT-49, {scheme, value}) and bank account (BG-17, {iban,
-- bic, account_name}); per client the buyer reference (BT-10, a German public
-- buyer's Leitweg-ID), the language of its documents and the e-invoice it
-- takes; per invoice the buyer and order references (BT-10, BT-13), the
-- delivery date (BT-72) or invoicing period (BG-14), the document-level
-- allowances and charges (BG-20/21, in the totals), and the e-invoice profile chosen at issue with the
-- business terms that kept an "auto" client from getting one, and the payment
-- reference the payer quotes (BT-83).

ALTER TABLE organisations
    -- What the payer quotes (BT-83): the invoice number, or an ISO 11649 "RF" creditor reference made from it.
    ADD COLUMN payment_reference text NOT NULL DEFAULT 'invoice_number'
        CHECK (payment_reference IN ('invoice_number', 'rf')),
    ADD COLUMN tax_number text,
    ADD COLUMN legal_registration text,
    ADD COLUMN contact jsonb CHECK (contact IS NULL OR jsonb_typeof(contact) = 'object'),
    ADD COLUMN electronic_address jsonb CHECK (electronic_address IS NULL OR jsonb_typeof(electronic_address) = 'object'),
    ADD COLUMN bank_account jsonb CHECK (bank_account IS NULL OR jsonb_typeof(bank_account) = 'object');

ALTER TABLE clients
    ADD COLUMN tax_number text,
    ADD COLUMN legal_registration text,
    ADD COLUMN contact jsonb CHECK (contact IS NULL OR jsonb_typeof(contact) = 'object'),
    ADD COLUMN electronic_address jsonb CHECK (electronic_address IS NULL OR jsonb_typeof(electronic_address) = 'object'),
    ADD COLUMN bank_account jsonb CHECK (bank_account IS NULL OR jsonb_typeof(bank_account) = 'object'),
    ADD COLUMN buyer_reference text,
    ADD COLUMN locale text,
    ADD COLUMN e_invoice text NOT NULL DEFAULT 'auto'
        CHECK (e_invoice IN ('auto', 'factur-x', 'xrechnung-cii', 'xrechnung-ubl', 'peppol-ubl', 'none'));

ALTER TABLE invoices
    ADD COLUMN buyer_reference text,
    ADD COLUMN order_reference text,
    ADD COLUMN delivery_date date,
    ADD COLUMN e_invoice text,
    ADD COLUMN e_invoice_warnings jsonb,
    ADD COLUMN payment_reference text,
    ADD COLUMN invoicing_period jsonb,
    ADD COLUMN allowances jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN charges jsonb NOT NULL DEFAULT '[]'::jsonb;

-- The frozen content of an issued invoice now includes the new terms.
CREATE OR REPLACE FUNCTION invoices_refuse_frozen_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
            NEW.buyer, NEW.ship_to, NEW.totals, NEW.corrects_invoice_id, NEW.credits, NEW.reason, NEW.issued_at,
            NEW.buyer_reference, NEW.order_reference, NEW.delivery_date, NEW.e_invoice, NEW.e_invoice_warnings,
            NEW.payment_reference, NEW.invoicing_period, NEW.allowances, NEW.charges)
           IS DISTINCT FROM
           (OLD.organisation_id, OLD.kind, OLD.series, OLD.number, OLD.client_id, OLD.currency,
            OLD.issue_date, OLD.due_date, OLD.payment_terms, OLD.notes, OLD.lines, OLD.seller,
            OLD.buyer, OLD.ship_to, OLD.totals, OLD.corrects_invoice_id, OLD.credits, OLD.reason, OLD.issued_at,
            OLD.buyer_reference, OLD.order_reference, OLD.delivery_date, OLD.e_invoice, OLD.e_invoice_warnings,
            OLD.payment_reference, OLD.invoicing_period, OLD.allowances, OLD.charges)
    ) THEN
        RAISE EXCEPTION 'invoice % is %: the content of an issued invoice cannot change', OLD.number, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
