-- Erasure-hour keys (issue 16, second part). Personal fields move from day keys to keys
-- per account, erasure hour and generation: kind 'hour', scope '<hour>.<generation>',
-- the hour also in `day` (the bucket column), for range queries. No personal data.
-- SQLite cannot change a CHECK constraint: the table is rebuilt (a few rows per account).
CREATE TABLE data_keys_v2 (
    account_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('day', 'hour', 'customer')),
    scope       TEXT NOT NULL,
    day         INTEGER,
    epoch       INTEGER NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, kind, scope)
);

INSERT INTO data_keys_v2 (account_id, kind, scope, day, epoch, wrapped_key, created_at)
SELECT account_id, kind, scope, day, epoch, wrapped_key, created_at FROM data_keys;

DROP TABLE data_keys;

ALTER TABLE data_keys_v2 RENAME TO data_keys;

CREATE INDEX data_keys_by_epoch ON data_keys (epoch);

CREATE INDEX data_keys_by_day ON data_keys (account_id, day) WHERE day IS NOT NULL;

-- Every account moves again, this time from day keys onto hour keys (the sweep runs it
-- first, resumably, and then destroys the account's day keys).
DELETE FROM reseal_progress;

-- A retention change restarts an account's reseal with a key floor: its orders move to hour
-- keys created at or after the floor, then the older hour keys are destroyed.
ALTER TABLE reseal_progress ADD COLUMN floor_ms INTEGER;

-- Account keys under epochs too: the master-wrapped key gets an outer layer under the key
-- of epoch `epoch` (rewrapped on rotation, gone with the account at closure). NULL: a row
-- from before; the rotation tick (also at start-up) adds the layer.
ALTER TABLE account_keys ADD COLUMN epoch INTEGER;

CREATE INDEX account_keys_by_epoch ON account_keys (epoch);

-- An old epoch is marked retiring before its last rewrap: no key is stored under it after
-- that (SQLite serializes writes, so no write under it can be in flight then).
ALTER TABLE key_epochs ADD COLUMN retiring_at INTEGER;
