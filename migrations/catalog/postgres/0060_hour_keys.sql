-- Erasure-hour keys (issue 16, second part). Personal fields move from day keys to keys
-- per account, erasure hour and generation: kind 'hour', scope '<hour>.<generation>',
-- the hour also in `day` (the bucket column), for range queries. No personal data.
ALTER TABLE data_keys DROP CONSTRAINT IF EXISTS data_keys_kind_check;

ALTER TABLE data_keys ADD CONSTRAINT data_keys_kind_check CHECK (kind IN ('day', 'hour', 'customer'));

-- Every account moves again, this time from day keys onto hour keys (the sweep runs it
-- first, resumably, and then destroys the account's day keys).
DELETE FROM reseal_progress;

-- A retention change restarts an account's reseal with a key floor: its orders move to hour
-- keys created at or after the floor, then the older hour keys are destroyed.
ALTER TABLE reseal_progress ADD COLUMN floor_ms BIGINT;

-- Account keys under epochs too: the master-wrapped key gets an outer layer under the key
-- of epoch `epoch` (rewrapped on rotation, gone with the account at closure). NULL: a row
-- from before; the rotation tick (also at start-up) adds the layer.
ALTER TABLE account_keys ADD COLUMN epoch BIGINT;

CREATE INDEX account_keys_by_epoch ON account_keys (epoch);

-- An old epoch is marked retiring before its last rewrap: no key is stored under it after
-- that (writers share-lock the epoch row, so the mark waits for writes in flight).
ALTER TABLE key_epochs ADD COLUMN retiring_at BIGINT;
