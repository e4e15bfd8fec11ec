-- Crypto-shredding with a bounded window (issue 16). No personal data: only wrapped keys,
-- key names (a day number, or half of a customer's keyed email index) and counts.

-- Key-encryption epochs. The newest epoch not destroyed is current: new and rewrapped
-- data keys are wrapped under it. Older epochs not yet destroyed are retiring: their keys
-- are being rewrapped, then the epoch key (kept outside the database) is destroyed.
CREATE TABLE key_epochs (
    epoch        INTEGER PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    destroyed_at INTEGER
);

-- Data keys, wrapped under the key of epoch `epoch`. kind 'day': scope is the erasure
-- day (also in `day`, for range deletes); kind 'customer': scope is the customer id (hex).
CREATE TABLE data_keys (
    account_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('day', 'customer')),
    scope       TEXT NOT NULL,
    day         INTEGER,
    epoch       INTEGER NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, kind, scope)
);

CREATE INDEX data_keys_by_epoch ON data_keys (epoch);

CREATE INDEX data_keys_by_day ON data_keys (account_id, day) WHERE day IS NOT NULL;

-- Installation-wide counters (keys destroyed so far).
CREATE TABLE key_counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

INSERT INTO key_counters (name, value) VALUES ('data_keys_destroyed', 0);

-- Resumable migration of v1 ciphertexts (account key) onto data keys, per account:
-- the highest order id already resealed.
CREATE TABLE reseal_progress (
    account_id TEXT PRIMARY KEY,
    after_id   INTEGER NOT NULL,
    done_at    INTEGER
);
