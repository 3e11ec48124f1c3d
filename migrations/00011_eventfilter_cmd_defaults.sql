-- The plugin defaults each command row was last registered with. The
-- EventFilter upserts a command on every start; a min_rank or cooldown_ms
-- that still equals its default follows the plugin's new default, while one
-- an operator changed (so it differs from the default) is kept. NULL (rows
-- from before this migration) counts as an operator value.
-- +goose Up
ALTER TABLE daz_eventfilter_cmds
    ADD COLUMN default_min_rank    DOUBLE PRECISION,
    ADD COLUMN default_cooldown_ms BIGINT CHECK (default_cooldown_ms >= 0);

-- +goose Down
ALTER TABLE daz_eventfilter_cmds
    DROP COLUMN default_cooldown_ms,
    DROP COLUMN default_min_rank;
