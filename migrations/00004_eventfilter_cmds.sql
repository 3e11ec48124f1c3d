-- The command registry the EventFilter routes !commands with. Names and
-- aliases are stored lower-case so "!Help" and "!help" cannot both exist.
-- min_rank is fractional because CyTube uses 1.5 as a permission threshold.
-- +goose Up
CREATE TABLE daz_eventfilter_cmds (
    name        TEXT PRIMARY KEY CHECK (name <> '' AND name = lower(name)),
    plugin      TEXT NOT NULL CHECK (plugin <> ''),
    min_rank    DOUBLE PRECISION NOT NULL DEFAULT 0,
    cooldown_ms BIGINT NOT NULL DEFAULT 0 CHECK (cooldown_ms >= 0),
    aliases     TEXT[] NOT NULL DEFAULT '{}'
                CHECK (array_to_string(aliases, ' ') = lower(array_to_string(aliases, ' '))),
    enabled     BOOLEAN NOT NULL DEFAULT true,
    pm_allowed  BOOLEAN NOT NULL DEFAULT true,
    description TEXT NOT NULL DEFAULT '',
    usage       TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE daz_eventfilter_cmds;
