-- The seller's logo (issue 18): the image as we re-encoded it (never the
-- uploaded bytes) and its media type, image/png or image/jpeg. Issued
-- invoices keep the logo they were issued with in their canonical document.

ALTER TABLE organisations
    ADD COLUMN logo bytea,
    ADD COLUMN logo_media_type text CHECK (logo_media_type IN ('image/png', 'image/jpeg')),
    ADD CONSTRAINT organisations_logo_typed CHECK ((logo IS NULL) = (logo_media_type IS NULL));
