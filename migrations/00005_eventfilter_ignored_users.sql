-- Users whose commands the EventFilter drops. The name keeps the casing it was
-- entered with; uniqueness is case-insensitive like CyTube names.
-- +goose Up
CREATE TABLE daz_eventfilter_ignored_users (
    channel    TEXT NOT NULL,
    username   TEXT NOT NULL CHECK (username <> ''),
    reason     TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX daz_eventfilter_ignored_users_key
    ON daz_eventfilter_ignored_users (channel, lower(username));

-- +goose Down
DROP TABLE daz_eventfilter_ignored_users;
