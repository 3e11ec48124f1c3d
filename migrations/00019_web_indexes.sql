-- The web pages read a channel's chat by time (messages per hour, the
-- weekday x hour heatmap, a day of the log) and count how often each media
-- item was played. A partial index on the chat lines alone lets the counts
-- run as index-only scans instead of visiting every presence event too.
-- +goose Up
CREATE INDEX daz_core_chat_log_chat_channel_ts_idx
    ON daz_core_chat_log (channel, timestamp)
    WHERE event_type = 'chatMsg';

-- Play counts look an item up by all three; media_id leads so that this
-- index never competes with (channel, started_at) for "recently played".
CREATE INDEX daz_analytics_media_item_idx
    ON daz_analytics_media (media_id, media_type, channel);

-- +goose Down
DROP INDEX daz_analytics_media_item_idx;
DROP INDEX daz_core_chat_log_chat_channel_ts_idx;
