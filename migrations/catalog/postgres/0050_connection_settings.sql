-- Per-connection marketplace settings (issue 13): API and auth URL overrides, Amazon region,
-- marketplace ids and Orders API version, as JSON. No secrets: credentials stay in
-- credentials_ct. NULL on connections made before this column: their base_url served auth too.
ALTER TABLE connections ADD COLUMN settings TEXT;
