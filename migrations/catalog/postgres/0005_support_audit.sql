-- Support lookups (DESIGN.md, "Roles"): one row per lookup, written before the answer is
-- sent. No personal data: the order number is kept only when it matched an order (a
-- number that matched nothing could be anything a person typed, e.g. a customer's name).
CREATE TABLE support_audit (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_id     TEXT NOT NULL,
    account_id   TEXT,
    order_number TEXT,
    marketplace  TEXT,
    result       TEXT NOT NULL CHECK (result IN ('found', 'not_found', 'invalid', 'error')),
    matches      BIGINT NOT NULL DEFAULT 0,
    at           BIGINT NOT NULL
);
-- The backoffice reads its own account's lookups, newest first.
CREATE INDEX support_audit_by_account ON support_audit (account_id, at, id);
