-- One row per media item that started playing in a channel.
-- +goose Up
CREATE TABLE daz_analytics_media (
    id               BIGSERIAL PRIMARY KEY,
    channel          TEXT NOT NULL,
    media_id         TEXT NOT NULL,
    title            TEXT NOT NULL DEFAULT '',
    media_type       TEXT NOT NULL,
    duration_seconds INTEGER NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
    started_at       TIMESTAMPTZ NOT NULL
);

-- "Recently played in this channel" reads newest first.
CREATE INDEX daz_analytics_media_channel_started_idx
    ON daz_analytics_media (channel, started_at DESC);

-- +goose Down
DROP TABLE daz_analytics_media;
