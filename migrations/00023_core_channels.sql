-- The channels the group of daemons serves, changed at run time by
-- `daz channels add|remove|enable|disable` and seeded from the config file.
-- Passwords are never stored here, only a reference to where a daemon finds
-- them (env:NAME, file:/path, or config: the daemon's own configuration); the
-- CHECKs keep a clear password typed into psql from landing in the table.
-- Every row change is announced on the daz_channels notification channel, so
-- a change made by any client reaches every listening daemon.
-- +goose Up
CREATE TABLE daz_channels (
    name                 TEXT PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]{1,30}$'),
    server_url           TEXT NOT NULL CHECK (server_url ~ '^https?://.+'),
    username             TEXT,
    password_ref         TEXT CHECK (password_ref ~ '^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+|config)$'),
    channel_password_ref TEXT CHECK (channel_password_ref ~ '^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+|config)$'),
    enabled              BOOLEAN NOT NULL DEFAULT true,
    source               TEXT NOT NULL CHECK (source IN ('config', 'cli')),
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose StatementBegin
CREATE FUNCTION daz_channels_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- TRUNCATE has no rows: '*' tells listeners to re-read everything.
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('daz_channels', '*');
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('daz_channels', OLD.name);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('daz_channels', NEW.name);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER daz_channels_notify_row AFTER INSERT OR UPDATE OR DELETE ON daz_channels
    FOR EACH ROW EXECUTE FUNCTION daz_channels_notify();
CREATE TRIGGER daz_channels_notify_truncate AFTER TRUNCATE ON daz_channels
    FOR EACH STATEMENT EXECUTE FUNCTION daz_channels_notify();

-- +goose Down
DROP TABLE daz_channels;
DROP FUNCTION daz_channels_notify();
