-- Issue 22: an organisation chooses the prefix and the format of each series'
-- numbers (PUT /organisation/numbering/{series}). No row: the default,
-- prefix = the series' code (INV, CN) and format {prefix}-{year}-{seq:04d},
-- which is what every number issued before this migration looks like.
-- The counters stay in number_series (one per organisation, series and year).
CREATE TABLE numbering_formats (
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    series          text NOT NULL,
    prefix          text NOT NULL,
    format          text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, series)
);
