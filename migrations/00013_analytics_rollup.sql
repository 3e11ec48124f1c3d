-- Analytics reads the chat log through indexes only. Chat lines are most of
-- the log, and "per user" questions (!seen, !quote user) want them alone:
-- a partial index keeps those lookups to a few index pages.
--
-- Counting questions (!stats, !top over 30 days) would aggregate up to
-- millions of rows; the analytics plugin keeps a daily roll-up per user,
-- filled from the chat log by id ranges (rollup_state.last_id is how far it
-- got), so those answers read a few hundred roll-up rows instead.
-- +goose Up
CREATE INDEX daz_core_chat_log_chat_user_ts_idx
    ON daz_core_chat_log (channel, lower(username), timestamp)
    WHERE event_type = 'chatMsg';

CREATE TABLE daz_analytics_chat_daily (
    channel        TEXT NOT NULL,
    username_lower TEXT NOT NULL,
    day            DATE NOT NULL,
    username       TEXT NOT NULL,
    messages       BIGINT NOT NULL CHECK (messages >= 0),
    first_at       TIMESTAMPTZ NOT NULL,
    last_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel, username_lower, day)
);

-- !top reads a channel's last 30 days without touching the table.
CREATE INDEX daz_analytics_chat_daily_channel_day_idx
    ON daz_analytics_chat_daily (channel, day) INCLUDE (username_lower, username, messages);

CREATE TABLE daz_analytics_rollup_state (
    channel    TEXT PRIMARY KEY,
    last_id    BIGINT NOT NULL DEFAULT 0 CHECK (last_id >= 0),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE daz_analytics_rollup_state;
DROP TABLE daz_analytics_chat_daily;
DROP INDEX daz_core_chat_log_chat_user_ts_idx;
