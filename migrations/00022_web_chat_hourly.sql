-- Messages per hour of each channel, for the web's "messages per hour over
-- 7 days" and "weekday x hour over 30 days" charts. Counting the chat log
-- itself would read every line of those 30 days (millions on a busy
-- channel) per page; the web plugin folds new lines in by id ranges, as the
-- analytics roll-up does, so the charts read at most 720 rows.
-- +goose Up
CREATE TABLE daz_web_chat_hourly (
    channel  TEXT NOT NULL,
    hour     TIMESTAMPTZ NOT NULL,
    messages BIGINT NOT NULL CHECK (messages >= 0),
    PRIMARY KEY (channel, hour)
);

CREATE TABLE daz_web_rollup_state (
    channel    TEXT PRIMARY KEY,
    last_id    BIGINT NOT NULL DEFAULT 0 CHECK (last_id >= 0),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE daz_web_rollup_state;
DROP TABLE daz_web_chat_hourly;
