-- Issue 22: a document number is the organisation's, whatever its series and
-- however it is written: INV-2026-0001 issued and inv-2026-0001 imported would
-- be one number to a client, an auditor or a bank (EU VAT Directive 2006/112/EC
-- art. 226(2): a sequential number "which uniquely identifies the invoice").
-- Until now only (organisation, series, number) was unique, so an import (series
-- "imported") could repeat an issued number, and IMP-1 and imp-1 both imported.
CREATE UNIQUE INDEX invoices_number_per_organisation
    ON invoices (organisation_id, lower(number))
    WHERE number IS NOT NULL;
