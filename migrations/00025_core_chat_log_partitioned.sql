-- daz_core_chat_log becomes a table partitioned by month (UTC) on
-- "timestamp", so years of log stay cheap to index and log.retention can
-- drop a whole month with a catalog change instead of a DELETE.
--
-- The rows are copied (ids kept; the id sequence simply moves over, so new
-- rows continue after max(id)) into one partition per month that has rows,
-- plus this month, three months ahead and a DEFAULT partition: an insert
-- never fails for want of a partition, and rows with absurd server times
-- (more than 25 years back, or after the months created) land in DEFAULT. The daemon holding the maintenance lock keeps creating months
-- ahead from then on (actors/logmaint).
--
-- Every index of the old table is read from the catalog and rebuilt on the
-- new parent under its old name, so indexes added by later migrations follow.
-- A unique index must contain the partition key: the dedup index becomes
-- (channel, dedup_key, timestamp). That keeps its meaning because a dedup
-- key is derived from the server's time of the line, which is also the
-- line's timestamp: a replayed line has the same key and the same timestamp.
-- Any other unique index, a foreign key or a trigger stops the migration
-- with an error rather than being dropped silently. Views over the table
-- (daz_core_chat_log_full) and the grants on table and views are recreated.
--
-- Duration: the table is locked for the whole conversion. Measured on a
-- shared 2-core machine (PostgreSQL 15, BenchmarkPartitionMigration, 5 M
-- rows over six months, all indexes of migrations 2-22): 104 s, about 21 s
-- per million rows, copy and index builds included. The disk needs room
-- for a second copy of the table while it runs.
-- +goose Up
-- +goose StatementBegin
DO $up$
DECLARE
    old_table  CONSTANT regclass := 'daz_core_chat_log'::regclass;
    index_defs text[];
    view_names text[];
    view_defs  text[];
    grants     text[];
    bad        text;
    seq        text;
    lo         timestamp;
    hi         timestamp;
    m          timestamp;
    i          int;
BEGIN
    LOCK TABLE daz_core_chat_log IN ACCESS EXCLUSIVE MODE;

    SELECT string_agg(format('%s (%s)', conname, contype), ', ') INTO bad
    FROM pg_constraint
    WHERE (conrelid = old_table AND contype NOT IN ('p', 'c')) OR confrelid = old_table;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'daz_core_chat_log has constraints this migration cannot carry over: %', bad;
    END IF;
    SELECT string_agg(tgname, ', ') INTO bad FROM pg_trigger WHERE tgrelid = old_table AND NOT tgisinternal;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'daz_core_chat_log has triggers this migration cannot carry over: %', bad;
    END IF;
    SELECT string_agg(c.relname, ', ') INTO bad
    FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
    WHERE x.indrelid = old_table AND x.indisunique AND NOT x.indisprimary
      AND c.relname <> 'daz_core_chat_log_dedup_key';
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'unique indexes on daz_core_chat_log must include "timestamp" once partitioned; extend this migration for: %', bad;
    END IF;
    IF (SELECT attidentity FROM pg_attribute WHERE attrelid = old_table AND attname = 'id') <> '' THEN
        RAISE EXCEPTION 'daz_core_chat_log.id is an identity column; this migration expects a serial';
    END IF;
    seq := pg_get_serial_sequence('daz_core_chat_log', 'id');

    -- The definitions name "daz_core_chat_log", which from here on is the
    -- new parent.
    SELECT coalesce(array_agg(pg_get_indexdef(x.indexrelid) ORDER BY c.relname), '{}') INTO index_defs
    FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
    WHERE x.indrelid = old_table AND NOT x.indisunique;

    -- Views are bound to the table itself, not its name.
    SELECT coalesce(array_agg(v.oid::regclass::text ORDER BY v.oid), '{}'),
           coalesce(array_agg(pg_get_viewdef(v.oid) ORDER BY v.oid), '{}')
      INTO view_names, view_defs
    FROM pg_class v
    WHERE v.relkind = 'v' AND v.oid IN (
        SELECT r.ev_class FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = old_table AND r.ev_class <> old_table);

    SELECT coalesce(array_agg(format('GRANT %s ON %s TO %s%s', a.privilege_type, c.oid::regclass,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
               CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)), '{}') INTO grants
    FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE (c.oid = old_table OR c.oid::regclass::text = ANY (view_names)) AND a.grantee <> c.relowner;

    FOR i IN 1 .. coalesce(array_length(view_names, 1), 0) LOOP
        EXECUTE format('DROP VIEW %s', view_names[i]);
    END LOOP;

    ALTER TABLE daz_core_chat_log RENAME TO daz_core_chat_log_unpartitioned;
    CREATE TABLE daz_core_chat_log (LIKE daz_core_chat_log_unpartitioned
        INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION
        INCLUDING COMMENTS INCLUDING GENERATED)
        PARTITION BY RANGE ("timestamp");

    -- The past months that hold rows, found by walking the timestamp
    -- index from month to month (a stray row from years ago makes one
    -- partition, not one per month since), then this month and three ahead.
    m := date_trunc('month', now() AT TIME ZONE 'UTC');
    hi := m + interval '3 months';
    SELECT date_trunc('month', min("timestamp") AT TIME ZONE 'UTC') INTO lo
    FROM daz_core_chat_log_unpartitioned WHERE "timestamp" >= (m - interval '25 years') AT TIME ZONE 'UTC';
    lo := least(coalesce(lo, m), m);
    WHILE lo <= hi LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF daz_core_chat_log FOR VALUES FROM (%L) TO (%L)',
            'daz_core_chat_log_p' || to_char(lo, 'YYYYMM'),
            lo AT TIME ZONE 'UTC', (lo + interval '1 month') AT TIME ZONE 'UTC');
        IF lo >= m THEN
            lo := lo + interval '1 month';
        ELSE
            SELECT coalesce(date_trunc('month', min("timestamp") AT TIME ZONE 'UTC'), m) INTO lo
            FROM daz_core_chat_log_unpartitioned WHERE "timestamp" >= (lo + interval '1 month') AT TIME ZONE 'UTC';
            lo := least(lo, m);
        END IF;
    END LOOP;
    CREATE TABLE daz_core_chat_log_default PARTITION OF daz_core_chat_log DEFAULT;

    INSERT INTO daz_core_chat_log SELECT * FROM daz_core_chat_log_unpartitioned;

    IF seq IS NOT NULL THEN
        EXECUTE format('ALTER SEQUENCE %s OWNED BY daz_core_chat_log.id', seq);
    END IF;
    DROP TABLE daz_core_chat_log_unpartitioned;

    -- Built after the copy: one sorted build per partition is much faster
    -- than maintaining every index row by row.
    ALTER TABLE daz_core_chat_log ADD CONSTRAINT daz_core_chat_log_pkey PRIMARY KEY (id, "timestamp");
    CREATE UNIQUE INDEX daz_core_chat_log_dedup_key
        ON daz_core_chat_log (channel, dedup_key, "timestamp")
        WHERE dedup_key IS NOT NULL;
    FOR i IN 1 .. coalesce(array_length(index_defs, 1), 0) LOOP
        EXECUTE index_defs[i];
    END LOOP;

    FOR i IN 1 .. coalesce(array_length(view_names, 1), 0) LOOP
        EXECUTE format('CREATE VIEW %s AS %s', view_names[i], view_defs[i]);
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(grants, 1), 0) LOOP
        EXECUTE grants[i];
    END LOOP;
END
$up$;
-- +goose StatementEnd
-- A new table has no statistics until autovacuum gets to it, and
-- autovacuum never analyzes a partitioned parent.
ANALYZE daz_core_chat_log;

-- +goose Down
-- +goose StatementBegin
DO $down$
DECLARE
    parent     CONSTANT regclass := 'daz_core_chat_log'::regclass;
    index_defs text[];
    view_names text[];
    view_defs  text[];
    grants     text[];
    seq        text;
    i          int;
BEGIN
    LOCK TABLE daz_core_chat_log IN ACCESS EXCLUSIVE MODE;
    seq := pg_get_serial_sequence('daz_core_chat_log', 'id');

    SELECT coalesce(array_agg(replace(pg_get_indexdef(x.indexrelid), ' ON ONLY ', ' ON ') ORDER BY c.relname), '{}')
      INTO index_defs
    FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
    WHERE x.indrelid = parent AND NOT x.indisunique;

    SELECT coalesce(array_agg(v.oid::regclass::text ORDER BY v.oid), '{}'),
           coalesce(array_agg(pg_get_viewdef(v.oid) ORDER BY v.oid), '{}')
      INTO view_names, view_defs
    FROM pg_class v
    WHERE v.relkind = 'v' AND v.oid IN (
        SELECT r.ev_class FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = parent AND r.ev_class <> parent);

    SELECT coalesce(array_agg(format('GRANT %s ON %s TO %s%s', a.privilege_type, c.oid::regclass,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
               CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)), '{}') INTO grants
    FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE (c.oid = parent OR c.oid::regclass::text = ANY (view_names)) AND a.grantee <> c.relowner;

    FOR i IN 1 .. coalesce(array_length(view_names, 1), 0) LOOP
        EXECUTE format('DROP VIEW %s', view_names[i]);
    END LOOP;

    ALTER TABLE daz_core_chat_log RENAME TO daz_core_chat_log_partitioned;
    CREATE TABLE daz_core_chat_log (LIKE daz_core_chat_log_partitioned
        INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION
        INCLUDING COMMENTS INCLUDING GENERATED);
    INSERT INTO daz_core_chat_log SELECT * FROM daz_core_chat_log_partitioned ORDER BY id;
    IF seq IS NOT NULL THEN
        EXECUTE format('ALTER SEQUENCE %s OWNED BY daz_core_chat_log.id', seq);
    END IF;
    DROP TABLE daz_core_chat_log_partitioned;

    ALTER TABLE daz_core_chat_log ADD CONSTRAINT daz_core_chat_log_pkey PRIMARY KEY (id);
    CREATE UNIQUE INDEX daz_core_chat_log_dedup_key
        ON daz_core_chat_log (channel, dedup_key)
        WHERE dedup_key IS NOT NULL;
    FOR i IN 1 .. coalesce(array_length(index_defs, 1), 0) LOOP
        EXECUTE index_defs[i];
    END LOOP;

    FOR i IN 1 .. coalesce(array_length(view_names, 1), 0) LOOP
        EXECUTE format('CREATE VIEW %s AS %s', view_names[i], view_defs[i]);
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(grants, 1), 0) LOOP
        EXECUTE grants[i];
    END LOOP;
END
$down$;
-- +goose StatementEnd
ANALYZE daz_core_chat_log;
