-- The moderation log: every kick, ban, mute, warning and lift, by a moderator
-- or an automod rule. A timed action (tempban, timed mute) keeps its end in
-- until and stays outcome 'done' until it is lifted; the plugin reloads those
-- rows at start, so a restart never forgets one.
-- +goose Up
CREATE TABLE daz_moderation_actions (
    id        BIGSERIAL PRIMARY KEY,
    -- Written by the plugin before the row reaches the database, so a row
    -- queued through an outage is inserted once and can be updated later.
    key       TEXT NOT NULL UNIQUE,
    channel   TEXT NOT NULL,
    moderator TEXT NOT NULL,          -- a user name, or "rule #<id>"
    target    TEXT NOT NULL,
    action    TEXT NOT NULL,          -- kick, ban, tempban, mute, unmute, unban, warn
    reason    TEXT NOT NULL DEFAULT '',
    until     TIMESTAMPTZ,            -- end of a tempban or timed mute
    at        TIMESTAMPTZ NOT NULL,
    outcome   TEXT NOT NULL DEFAULT 'done'
        CHECK (outcome IN ('done', 'refused', 'lifted', 'dry-run')),
    detail    TEXT NOT NULL DEFAULT '', -- the server's refusal, or how it was lifted
    lifted_at TIMESTAMPTZ
);

-- !modlog [user]: the newest actions of a channel, optionally of one target.
CREATE INDEX daz_moderation_actions_target_idx
    ON daz_moderation_actions (channel, lower(target), at DESC);
CREATE INDEX daz_moderation_actions_at_idx
    ON daz_moderation_actions (channel, at DESC);

-- Start-up reads the timed actions still in force.
CREATE INDEX daz_moderation_actions_timed_idx
    ON daz_moderation_actions (channel, until)
    WHERE until IS NOT NULL AND outcome = 'done';

-- +goose Down
DROP TABLE daz_moderation_actions;
