-- Identity columns block citus_schema_undistribute: orders.id and outbox.id become plain
-- sequence defaults. Ids continue above every id the identity handed out, so outbox ids
-- keep growing (delivery floors rely on it).
CREATE SEQUENCE orders_id_sequence AS BIGINT;
SELECT setval('orders_id_sequence',
    GREATEST(COALESCE(pg_sequence_last_value(pg_get_serial_sequence('orders', 'id')::regclass), 0),
             COALESCE((SELECT max(id) FROM orders), 0)) + 1,
    false);
ALTER TABLE orders ALTER COLUMN id DROP IDENTITY;
ALTER TABLE orders ALTER COLUMN id SET DEFAULT nextval('orders_id_sequence');
ALTER SEQUENCE orders_id_sequence OWNED BY orders.id;

CREATE SEQUENCE outbox_id_sequence AS BIGINT;
SELECT setval('outbox_id_sequence',
    GREATEST(COALESCE(pg_sequence_last_value(pg_get_serial_sequence('outbox', 'id')::regclass), 0),
             COALESCE((SELECT max(id) FROM outbox), 0)) + 1,
    false);
ALTER TABLE outbox ALTER COLUMN id DROP IDENTITY;
ALTER TABLE outbox ALTER COLUMN id SET DEFAULT nextval('outbox_id_sequence');
ALTER SEQUENCE outbox_id_sequence OWNED BY outbox.id;
