-- One account's store, SQLite (one file per account). Times are Unix milliseconds (UTC).
-- Customer personal data exists only as AES-SIV ciphertext (*_ct) bound to this row;
-- the email only as a keyed blind index.
CREATE TABLE orders (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    marketplace      TEXT NOT NULL,
    order_number     TEXT NOT NULL,
    status           TEXT NOT NULL,
    placed_at        INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    fulfilled_at     INTEGER,
    cancelled_at     INTEGER,
    pseudonymized_at INTEGER,
    currency         TEXT NOT NULL,
    total_minor      INTEGER NOT NULL,
    country_code     TEXT,
    lines            TEXT NOT NULL,
    shipping_ct      BLOB,
    billing_ct       BLOB,
    email_ct         BLOB,
    phone_ct         BLOB,
    notes_ct         BLOB,
    email_index      BLOB,
    pseudonym        BLOB,
    version          INTEGER NOT NULL DEFAULT 1,
    ingested_at      INTEGER NOT NULL,
    changed_at       INTEGER NOT NULL,
    UNIQUE (marketplace, order_number)
);
CREATE INDEX orders_by_number ON orders (order_number);
CREATE INDEX orders_by_email_index ON orders (email_index) WHERE email_index IS NOT NULL;
