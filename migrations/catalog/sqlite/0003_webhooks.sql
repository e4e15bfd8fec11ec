-- Webhook endpoints of an account. The signing secret is AES-SIV ciphertext under the
-- account's secrets subkey, bound to this row.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    url             TEXT NOT NULL,
    secret_ct       BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason TEXT,
    lease_owner     TEXT,
    lease_until_ms  INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id);
