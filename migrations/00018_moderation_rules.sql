-- Automod rules, per channel, managed with !automod.
-- +goose Up
CREATE TABLE daz_moderation_rules (
    id          BIGSERIAL PRIMARY KEY,
    channel     TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('word', 'regex', 'link', 'caps', 'repeat', 'flood')),
    pattern     TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('warn', 'mute', 'kick', 'tempban')),
    duration_ms BIGINT NOT NULL DEFAULT 0, -- for mute and tempban
    below_rank  DOUBLE PRECISION NOT NULL DEFAULT 2,
    dry_run     BOOLEAN NOT NULL DEFAULT FALSE,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX daz_moderation_rules_channel_idx ON daz_moderation_rules (channel, id);

-- +goose Down
DROP TABLE daz_moderation_rules;
