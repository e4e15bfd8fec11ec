-- Marketplace connections: one seller account's link to one marketplace.
-- Credentials are AES-SIV ciphertext under the account's secrets subkey, bound to this row.
CREATE TABLE connections (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL,
    marketplace          TEXT NOT NULL CHECK (marketplace IN ('bol', 'amazon', 'ebay')),
    base_url             TEXT,
    credentials_ct       BLOB NOT NULL,
    interval_secs        INTEGER NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('active', 'needs_reauth', 'paused')),
    status_reason        TEXT,
    -- Everything changed before this instant has been committed to the account store.
    cursor_ms            INTEGER,
    last_reconciled_ms   INTEGER,
    next_run_ms          INTEGER NOT NULL,
    last_run_ms          INTEGER,
    last_success_ms      INTEGER,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    orders_synced        INTEGER NOT NULL DEFAULT 0,
    lease_owner          TEXT,
    lease_until_ms       INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX connections_due ON connections (status, next_run_ms);
CREATE INDEX connections_account ON connections (account_id);
