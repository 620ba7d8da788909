-- Structured postal addresses (issue 17): clients.address and
-- organisations.address become jsonb objects {line1, line2, city, postal_code,
-- region, country_code} (EN 16931 BG-5 seller, BG-8 buyer; country_code ISO
-- 3166-1 alpha-2), the shape invoicer.invoice.model.Address.to_json writes.
--
-- Existing free text is kept, not parsed: SQL cannot split "12209 Berlin" or
-- recognise a country as invoicer.invoice.model.address_from_text does, so
-- the first non-empty line becomes line1 and the other non-empty lines, each
-- stripped, become line2, one per \n. That is the splitter's own fallback, so
-- the address prints exactly as before; saving the record again through the
-- API or the web form stores whatever structure is then entered. Blank
-- addresses become NULL.
--
-- Issued invoices and credit notes (invoices.seller, buyer, ship_to) are a
-- legal record frozen by a trigger and are not rewritten: a free-text address
-- there is turned into the structured form when it is read.

CREATE FUNCTION pg_temp.address_from_text(address text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN parts IS NULL OR cardinality(parts) = 0 THEN NULL
        ELSE jsonb_strip_nulls(jsonb_build_object(
            'line1', parts[1],
            'line2', NULLIF(array_to_string(parts[2:], E'\n'), '')
        ))
    END
    FROM (
        SELECT ARRAY(
            SELECT trimmed
            FROM regexp_split_to_table(address, E'\r\n|\r|\n') WITH ORDINALITY AS split_line (line, n),
                 LATERAL regexp_replace(line, '^\s+|\s+$', '', 'g') AS trimmed
            WHERE trimmed <> ''
            ORDER BY n
        ) AS parts
    ) AS split
$$;

ALTER TABLE clients
    ALTER COLUMN address TYPE jsonb USING pg_temp.address_from_text(address),
    ADD CONSTRAINT clients_address_object CHECK (address IS NULL OR jsonb_typeof(address) = 'object');

ALTER TABLE organisations
    ALTER COLUMN address TYPE jsonb USING pg_temp.address_from_text(address),
    ADD CONSTRAINT organisations_address_object CHECK (address IS NULL OR jsonb_typeof(address) = 'object');

DROP FUNCTION pg_temp.address_from_text(text);
