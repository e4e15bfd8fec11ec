-- Marketplace connections: one seller account's link to one marketplace.
-- Credentials are AES-SIV ciphertext under the account's secrets subkey, bound to this row.
CREATE TABLE connections (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL,
    marketplace          TEXT NOT NULL CHECK (marketplace IN ('bol', 'amazon', 'ebay')),
    base_url             TEXT,
    credentials_ct       BYTEA NOT NULL,
    interval_secs        BIGINT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('active', 'needs_reauth', 'paused')),
    status_reason        TEXT,
    -- Everything changed before this instant has been committed to the account store.
    cursor_ms            BIGINT,
    last_reconciled_ms   BIGINT,
    next_run_ms          BIGINT NOT NULL,
    last_run_ms          BIGINT,
    last_success_ms      BIGINT,
    last_error           TEXT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    orders_synced        BIGINT NOT NULL DEFAULT 0,
    lease_owner          TEXT,
    lease_until_ms       BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX connections_due ON connections (status, next_run_ms);
CREATE INDEX connections_account ON connections (account_id);
