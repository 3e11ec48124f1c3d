-- Connection retry bookkeeping per channel, kept in the database so a restart
-- does not reset a 30-minute cooldown.
-- +goose Up
CREATE TABLE daz_core_retry_state (
    channel        TEXT PRIMARY KEY,
    retry_count    INTEGER NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    cooldown_until TIMESTAMPTZ,
    last_attempt   TIMESTAMPTZ,
    last_error     TEXT NOT NULL DEFAULT '',
    stopped_reason TEXT NOT NULL DEFAULT '',
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE daz_core_retry_state;
