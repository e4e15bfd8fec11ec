-- The stored version an ingest write merged with (issue 14): the upsert only applies over
-- that version, so a merge made from a stale read never overwrites a concurrent writer's
-- fields. NULL on rows written before, or by writers that do not merge.
ALTER TABLE orders ADD COLUMN base_version INTEGER;
