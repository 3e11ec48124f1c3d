-- +goose Up
CREATE INDEX daz_core_chat_log_channel_ts_idx
    ON daz_core_chat_log (channel, timestamp);

-- CyTube user names are case-insensitive, so lookups such as !seen compare
-- lower(username) and need the index to be on that expression.
CREATE INDEX daz_core_chat_log_channel_user_ts_idx
    ON daz_core_chat_log (channel, lower(username), timestamp);

CREATE INDEX daz_core_chat_log_ts_idx
    ON daz_core_chat_log (timestamp);

CREATE INDEX daz_core_chat_log_event_ts_idx
    ON daz_core_chat_log (event_type, timestamp);

-- The join burst replays the channel's last chat lines with their original
-- server time. The writer derives dedup_key from them and inserts with
--   ON CONFLICT (channel, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING
-- so a replayed line is stored once. Events without a natural identity keep
-- dedup_key NULL and are never deduplicated.
CREATE UNIQUE INDEX daz_core_chat_log_dedup_key
    ON daz_core_chat_log (channel, dedup_key)
    WHERE dedup_key IS NOT NULL;

-- +goose Down
DROP INDEX daz_core_chat_log_dedup_key;
DROP INDEX daz_core_chat_log_event_ts_idx;
DROP INDEX daz_core_chat_log_ts_idx;
DROP INDEX daz_core_chat_log_channel_user_ts_idx;
DROP INDEX daz_core_chat_log_channel_ts_idx;
