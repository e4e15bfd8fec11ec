-- Issue 14: a listed order that could not be stored is retried by later syncs. The start
-- of the window that listed it lets the next runs list that window again (bounded by
-- attempts), so the order is fetched again even after the cursor has moved on.
ALTER TABLE ingest_failures ADD COLUMN retry_from BIGINT;
