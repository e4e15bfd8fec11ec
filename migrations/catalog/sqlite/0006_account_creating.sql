-- Account creation is a resumable state machine: the row is written first as 'creating'
-- (with its wrapped key), the store is made and migrated, then the row becomes 'active'.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt (no other
-- table references it). Columns as of 0001; review this together with any migration
-- that adds columns to accounts.
CREATE TABLE accounts_new (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('creating', 'active', 'closing', 'closed')),
    retention_days    INTEGER NOT NULL,
    store_location    TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    closing_started_at INTEGER,
    closed_at         INTEGER,
    -- Counts captured when closing starts, so a resumed closure still reports them.
    close_orders      INTEGER,
    close_key_versions INTEGER
);
INSERT INTO accounts_new (id, name, status, retention_days, store_location, created_at,
                          closing_started_at, closed_at, close_orders, close_key_versions)
    SELECT id, name, status, retention_days, store_location, created_at,
           closing_started_at, closed_at, close_orders, close_key_versions
    FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
CREATE INDEX accounts_by_status ON accounts (status, name);
