-- Orders a marketplace sent that could not be normalized. The error names fields, never
-- values, so no personal data is kept here; the row is cleared once the order stores.
CREATE TABLE ingest_failures (
    marketplace          TEXT NOT NULL,
    marketplace_order_id TEXT NOT NULL,
    error                TEXT NOT NULL,
    first_seen_at        BIGINT NOT NULL,
    last_seen_at         BIGINT NOT NULL,
    attempts             BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (marketplace, marketplace_order_id)
);
