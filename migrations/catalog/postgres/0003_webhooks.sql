-- Webhook endpoints of an account. The signing secret is AES-SIV ciphertext under the
-- account's secrets subkey, bound to this row.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    url             TEXT NOT NULL,
    secret_ct       BYTEA NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason TEXT,
    lease_owner     TEXT,
    lease_until_ms  BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id);
