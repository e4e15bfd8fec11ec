-- Catalog (control plane), SQLite. Times are Unix milliseconds (UTC).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE accounts (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('active', 'closing', 'closed')),
    retention_days    INTEGER NOT NULL,
    store_location    TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    closing_started_at INTEGER,
    closed_at         INTEGER,
    -- Counts captured when closing starts, so a resumed closure still reports them.
    close_orders      INTEGER,
    close_key_versions INTEGER
);

-- Account root keys, only ever wrapped by the master key.
CREATE TABLE account_keys (
    account_id      TEXT NOT NULL,
    version         INTEGER NOT NULL,
    wrapped_key     BLOB NOT NULL,
    kek_fingerprint TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (account_id, version)
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    token_sha256 BLOB NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'backoffice', 'support')),
    account_id   TEXT,
    label        TEXT,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

-- Proof of deletion: no personal data, kept after the account is gone.
CREATE TABLE deletion_receipts (
    account_id TEXT PRIMARY KEY,
    receipt    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
