-- Shared payloads are stored as json (the text, validated) instead of jsonb.
-- Writing one is most of a first join's time to commit, and nearly all of
-- that was PostgreSQL parsing the text into jsonb: inserting CyTube's 785 KB
-- playlist took 50-68 ms as jsonb and 7-12 ms as json on the 2-core test
-- machine (lz4 for both). A shared payload is written on every first join
-- and read back rarely, by an operator through daz_core_chat_log_full, which
-- still returns jsonb: the view parses on read. Nothing filters on these
-- values in the database, so jsonb's indexable form bought nothing.
--
-- The view depends on the column, so it is dropped and created again around
-- the change, and grants on it (a reporting role, say) are carried over.
-- +goose Up
-- +goose StatementBegin
DO $up$
DECLARE
    grants text[];
BEGIN
    SELECT coalesce(array_agg(format('GRANT %s ON daz_core_chat_log_full TO %s%s', a.privilege_type,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
               CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)), '{}') INTO grants
    FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE c.oid = 'daz_core_chat_log_full'::regclass AND a.grantee <> c.relowner;

    DROP VIEW daz_core_chat_log_full;
    ALTER TABLE daz_core_payload ALTER COLUMN payload TYPE json USING payload::json;
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE daz_core_payload ALTER COLUMN payload SET COMPRESSION lz4;
    END IF;
    CREATE VIEW daz_core_chat_log_full AS
    SELECT l.id, l.timestamp, l.channel, l.username, l.message, l.event_type, l.metadata,
           l.received_at, l.dedup_key,
           CASE WHEN l.metadata ? 'payload_sha256' THEN p.payload::jsonb ELSE l.metadata->'payload' END AS payload
    FROM daz_core_chat_log l
    LEFT JOIN daz_core_payload p ON p.sha256 = decode(l.metadata->>'payload_sha256', 'hex');

    FOR i IN 1 .. coalesce(array_length(grants, 1), 0) LOOP
        EXECUTE grants[i];
    END LOOP;
END
$up$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $down$
DECLARE
    grants text[];
BEGIN
    SELECT coalesce(array_agg(format('GRANT %s ON daz_core_chat_log_full TO %s%s', a.privilege_type,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
               CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)), '{}') INTO grants
    FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE c.oid = 'daz_core_chat_log_full'::regclass AND a.grantee <> c.relowner;

    DROP VIEW daz_core_chat_log_full;
    ALTER TABLE daz_core_payload ALTER COLUMN payload TYPE jsonb USING payload::jsonb;
    CREATE VIEW daz_core_chat_log_full AS
    SELECT l.id, l.timestamp, l.channel, l.username, l.message, l.event_type, l.metadata,
           l.received_at, l.dedup_key,
           CASE WHEN l.metadata ? 'payload_sha256' THEN p.payload ELSE l.metadata->'payload' END AS payload
    FROM daz_core_chat_log l
    LEFT JOIN daz_core_payload p ON p.sha256 = decode(l.metadata->>'payload_sha256', 'hex');

    FOR i IN 1 .. coalesce(array_length(grants, 1), 0) LOOP
        EXECUTE grants[i];
    END LOOP;
END
$down$;
-- +goose StatementEnd
