-- Shipments and cancellations the backoffice sends back to the marketplaces (issue 15).
-- Each row is its own outbox entry: written in the transaction that accepts the request,
-- delivered to the marketplace afterwards by the pusher. Business data only: line ids,
-- quantities, carrier, tracking number, reason codes; never customer data.
CREATE TABLE fulfilment_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('shipment', 'cancellation')),
    order_id        INTEGER NOT NULL,
    marketplace     TEXT NOT NULL,
    order_number    TEXT NOT NULL,
    -- The backoffice's Idempotency-Key (same key, same answer); NULL when none was sent.
    idempotency_key TEXT,
    -- SHA-256 of the parsed request: a reused key with another request is refused.
    request_hash    TEXT NOT NULL,
    -- [{"line_id": "...", "quantity": n}]
    lines           TEXT NOT NULL,
    carrier         TEXT,
    tracking_number TEXT,
    shipped_at      INTEGER,
    reason          TEXT,
    reference       TEXT,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'accepted', 'rejected', 'failed')),
    marketplace_ref TEXT,
    -- bol: process-status ids still being processed (comma separated).
    process_ids     TEXT,
    -- The marketplace's reason for a rejection, or the last error before `failed`.
    reject_reason   TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (kind, idempotency_key)
);
CREATE INDEX fulfilment_by_order ON fulfilment_requests (order_id, id);
CREATE INDEX fulfilment_due ON fulfilment_requests (next_attempt_at, id) WHERE state IN ('pending', 'sent');

-- The outbox learns the events of this flow. SQLite cannot change a CHECK constraint in
-- place, so the table is rebuilt with its rows and ids (deliveries refer to the ids).
CREATE TABLE outbox_v2 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id      INTEGER NOT NULL,
    order_version INTEGER NOT NULL,
    event_type    TEXT NOT NULL CHECK (event_type IN ('order.created', 'order.updated',
        'shipment.accepted', 'shipment.rejected', 'cancellation.accepted', 'cancellation.rejected')),
    event_id      TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    -- The shipment or cancellation an event is about (NULL for order events).
    request_id    INTEGER
);
INSERT INTO outbox_v2 (id, order_id, order_version, event_type, event_id, created_at)
    SELECT id, order_id, order_version, event_type, event_id, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_by_order ON outbox (order_id, id);
