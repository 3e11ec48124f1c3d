-- Per-user command rate limits that override the EventFilter default.
-- +goose Up
CREATE TABLE daz_eventfilter_user_limits (
    channel        TEXT NOT NULL,
    username       TEXT NOT NULL CHECK (username <> ''),
    max_per_minute INTEGER NOT NULL CHECK (max_per_minute >= 0),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX daz_eventfilter_user_limits_key
    ON daz_eventfilter_user_limits (channel, lower(username));

-- +goose Down
DROP TABLE daz_eventfilter_user_limits;
