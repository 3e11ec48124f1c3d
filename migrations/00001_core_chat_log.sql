-- Every CyTube event the daemon receives, one row each. The hot fields are
-- columns so they can be indexed; the rest of the payload lives in metadata.
-- +goose Up
CREATE TABLE daz_core_chat_log (
    id          BIGSERIAL PRIMARY KEY,
    timestamp   TIMESTAMPTZ NOT NULL,
    channel     TEXT NOT NULL,
    username    TEXT,
    message     TEXT,
    event_type  TEXT NOT NULL,
    metadata    JSONB NOT NULL DEFAULT '{}'::jsonb,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    dedup_key   TEXT
);

-- +goose Down
DROP TABLE daz_core_chat_log;
