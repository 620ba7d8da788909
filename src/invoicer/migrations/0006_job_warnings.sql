-- warnings: what the checks of an uploaded document found that would refuse
-- an invoice record but not a render-only upload (a VAT ID failing its check
-- digits, an unknown unit code; for an e-invoice format, the business terms
-- its profile misses): [{"pointer", "code", "message"}], shown to the job's
-- owner by GET /jobs/{id}. Documents made by other systems still render;
-- the owner learns what a buyer's system may refuse.
ALTER TABLE jobs ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE jobs ADD CONSTRAINT jobs_warnings_list CHECK (jsonb_typeof(warnings) = 'array');
