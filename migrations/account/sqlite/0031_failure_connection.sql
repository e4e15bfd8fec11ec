-- Which connection listed a failed order (issue 14): two connections of one marketplace
-- in an account (two bol shops) each see, retry and answer for their own failures.
-- NULL on failures recorded before: they count for every connection of the marketplace.
ALTER TABLE ingest_failures ADD COLUMN connection_id TEXT;
