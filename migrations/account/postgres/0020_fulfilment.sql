-- Shipments and cancellations the backoffice sends back to the marketplaces (issue 15).
-- Each row is its own outbox entry: written in the transaction that accepts the request,
-- delivered to the marketplace afterwards by the pusher. Business data only: line ids,
-- quantities, carrier, tracking number, reason codes; never customer data.
CREATE TABLE fulfilment_requests (
    id              BIGSERIAL PRIMARY KEY, -- a sequence, not an identity column (Citus, issue 20)
    kind            TEXT NOT NULL CHECK (kind IN ('shipment', 'cancellation')),
    order_id        BIGINT NOT NULL,
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
    shipped_at      BIGINT,
    reason          TEXT,
    reference       TEXT,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'accepted', 'rejected', 'failed')),
    marketplace_ref TEXT,
    -- bol: process-status ids still being processed (comma separated).
    process_ids     TEXT,
    -- The marketplace's reason for a rejection, or the last error before `failed`.
    reject_reason   TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (kind, idempotency_key)
);
CREATE INDEX fulfilment_by_order ON fulfilment_requests (order_id, id);
CREATE INDEX fulfilment_due ON fulfilment_requests (next_attempt_at, id) WHERE state IN ('pending', 'sent');

-- The outbox learns the events of this flow.
ALTER TABLE outbox DROP CONSTRAINT outbox_event_type_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_event_type_check CHECK (event_type IN ('order.created', 'order.updated',
    'shipment.accepted', 'shipment.rejected', 'cancellation.accepted', 'cancellation.rejected'));
-- The shipment or cancellation an event is about (NULL for order events).
ALTER TABLE outbox ADD COLUMN request_id BIGINT;
