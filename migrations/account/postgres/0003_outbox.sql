-- Transactional outbox: written in the same transaction as the order upsert; the forwarder
-- reads it afterwards, so nothing goes on the network inside the transaction.
-- Events carry no personal data: the body is built from the order row at send time.
CREATE TABLE outbox (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id      BIGINT NOT NULL,
    order_version BIGINT NOT NULL,
    event_type    TEXT NOT NULL CHECK (event_type IN ('order.created', 'order.updated')),
    -- Stable per order event: the webhook-id receivers dedupe on.
    event_id      TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL
);
CREATE INDEX outbox_by_order ON outbox (order_id, id);

-- Delivery of each event to each webhook endpoint (endpoints live in the catalog).
CREATE TABLE deliveries (
    endpoint_id      TEXT NOT NULL,
    outbox_id        BIGINT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('retrying', 'delivered', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    first_attempt_at BIGINT,
    last_attempt_at  BIGINT,
    next_attempt_at  BIGINT,
    last_status      BIGINT,
    last_error       TEXT,
    delivered_at     BIGINT,
    PRIMARY KEY (endpoint_id, outbox_id)
);
CREATE INDEX deliveries_dead ON deliveries (endpoint_id, status);

-- Per endpoint: every outbox id below the floor is delivered or dead.
CREATE TABLE delivery_floors (
    endpoint_id TEXT PRIMARY KEY,
    floor       BIGINT NOT NULL
);

-- Pull + ack: the backoffice acknowledges the version it has taken over.
ALTER TABLE orders ADD COLUMN acked_version BIGINT;
ALTER TABLE orders ADD COLUMN acked_at BIGINT;
ALTER TABLE orders ADD COLUMN backoffice_ref TEXT;
