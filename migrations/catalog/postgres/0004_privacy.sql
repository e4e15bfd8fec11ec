-- Pseudonymization sweeps and subject-rights requests (issue 5). No personal data.

-- One row per account: the lease that lets one process at a time sweep the account
-- (taken with a conditional UPDATE, expires if its holder dies) and the last outcome.
CREATE TABLE privacy_sweeps (
    account_id          TEXT PRIMARY KEY,
    lease_owner         TEXT,
    lease_until_ms      BIGINT,
    last_started_at     BIGINT,
    last_finished_at    BIGINT,
    last_pseudonymized  BIGINT
);

-- Audit of subject exports and erasures: a keyed hash identifies the subject, never
-- the email itself.
CREATE TABLE privacy_requests (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('export', 'erase')),
    subject_hash        TEXT NOT NULL,
    orders_found        BIGINT NOT NULL,
    with_personal_data  BIGINT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX privacy_requests_account ON privacy_requests (account_id, created_at);
