-- One account's store, PostgreSQL (one schema acct_<id> per account; applied with search_path set to it). Times are Unix milliseconds (UTC).
-- Customer personal data exists only as AES-SIV ciphertext (*_ct) bound to this row;
-- the email only as a keyed blind index.
CREATE TABLE orders (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    marketplace      TEXT NOT NULL,
    order_number     TEXT NOT NULL,
    status           TEXT NOT NULL,
    placed_at        BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    fulfilled_at     BIGINT,
    cancelled_at     BIGINT,
    pseudonymized_at BIGINT,
    currency         TEXT NOT NULL,
    total_minor      BIGINT NOT NULL,
    country_code     TEXT,
    lines            TEXT NOT NULL,
    shipping_ct      BYTEA,
    billing_ct       BYTEA,
    email_ct         BYTEA,
    phone_ct         BYTEA,
    notes_ct         BYTEA,
    email_index      BYTEA,
    pseudonym        BYTEA,
    version          BIGINT NOT NULL DEFAULT 1,
    ingested_at      BIGINT NOT NULL,
    changed_at       BIGINT NOT NULL,
    UNIQUE (marketplace, order_number)
);
CREATE INDEX orders_by_number ON orders (order_number);
CREATE INDEX orders_by_email_index ON orders (email_index) WHERE email_index IS NOT NULL;
