-- Messages left with !tell, delivered when the recipient next shows up.
-- +goose Up
CREATE TABLE daz_tell_messages (
    id           BIGSERIAL PRIMARY KEY,
    channel      TEXT NOT NULL,
    from_user    TEXT NOT NULL,
    to_user      TEXT NOT NULL CHECK (to_user <> ''),
    message      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at TIMESTAMPTZ
);

-- Only undelivered messages are looked up, by recipient, case-insensitively.
CREATE INDEX daz_tell_messages_pending_idx
    ON daz_tell_messages (channel, lower(to_user))
    WHERE delivered_at IS NULL;

-- +goose Down
DROP TABLE daz_tell_messages;
