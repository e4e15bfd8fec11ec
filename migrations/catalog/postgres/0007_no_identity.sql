-- Identity columns block citus_schema_undistribute (and so moving the catalog schema
-- back to the coordinator): support_audit.id becomes a plain sequence default. Ids
-- continue above every id the identity handed out.
CREATE SEQUENCE support_audit_id_sequence AS BIGINT;
SELECT setval('support_audit_id_sequence',
    GREATEST(COALESCE(pg_sequence_last_value(pg_get_serial_sequence('support_audit', 'id')::regclass), 0),
             COALESCE((SELECT max(id) FROM support_audit), 0)) + 1,
    false);
ALTER TABLE support_audit ALTER COLUMN id DROP IDENTITY;
ALTER TABLE support_audit ALTER COLUMN id SET DEFAULT nextval('support_audit_id_sequence');
ALTER SEQUENCE support_audit_id_sequence OWNED BY support_audit.id;
