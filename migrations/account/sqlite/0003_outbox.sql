-- Transactional outbox: written in the same transaction as the order upsert; the forwarder
-- reads it afterwards, so nothing goes on the network inside the transaction.
-- Events carry no personal data: the body is built from the order row at send time.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id      INTEGER NOT NULL,
    order_version INTEGER NOT NULL,
    event_type    TEXT NOT NULL CHECK (event_type IN ('order.created', 'order.updated')),
    -- Stable per order event: the webhook-id receivers dedupe on.
    event_id      TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL
);
CREATE INDEX outbox_by_order ON outbox (order_id, id);

-- Delivery of each event to each webhook endpoint (endpoints live in the catalog).
CREATE TABLE deliveries (
    endpoint_id      TEXT NOT NULL,
    outbox_id        INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('retrying', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    first_attempt_at INTEGER,
    last_attempt_at  INTEGER,
    next_attempt_at  INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    delivered_at     INTEGER,
    PRIMARY KEY (endpoint_id, outbox_id)
);
CREATE INDEX deliveries_dead ON deliveries (endpoint_id, status);

-- Per endpoint: every outbox id below the floor is delivered or dead.
CREATE TABLE delivery_floors (
    endpoint_id TEXT PRIMARY KEY,
    floor       INTEGER NOT NULL
);

-- Pull + ack: the backoffice acknowledges the version it has taken over.
ALTER TABLE orders ADD COLUMN acked_version INTEGER;
ALTER TABLE orders ADD COLUMN acked_at INTEGER;
ALTER TABLE orders ADD COLUMN backoffice_ref TEXT;
