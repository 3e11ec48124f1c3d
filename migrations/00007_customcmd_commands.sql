-- Channel-defined text commands. Names are lower-case for the same reason as
-- the EventFilter registry.
-- +goose Up
CREATE TABLE daz_customcmd_commands (
    channel    TEXT NOT NULL,
    name       TEXT NOT NULL CHECK (name <> '' AND name = lower(name)),
    response   TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, name)
);

-- +goose Down
DROP TABLE daz_customcmd_commands;
