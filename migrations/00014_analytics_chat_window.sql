-- !top ranks a channel's chatters over the last 30 days. Summing the daily
-- roll-up for that is ~60 000 rows on a busy channel (tens of ms), so the
-- analytics plugin also keeps each user's total over the window itself:
-- every roll-up round adds the new lines that fall inside it, and when the
-- window moves on (once a day) the days that left it are subtracted from
-- daz_analytics_chat_daily. window_from is the first day the totals cover;
-- 'infinity' means "not built yet" (the first move fills the window).
-- !top then reads the five biggest totals off an index.
-- +goose Up
ALTER TABLE daz_analytics_rollup_state
    ADD COLUMN window_from DATE NOT NULL DEFAULT 'infinity';

CREATE TABLE daz_analytics_chat_window (
    channel        TEXT NOT NULL,
    username_lower TEXT NOT NULL,
    messages       BIGINT NOT NULL CHECK (messages >= 0),
    PRIMARY KEY (channel, username_lower)
);

CREATE INDEX daz_analytics_chat_window_rank_idx
    ON daz_analytics_chat_window (channel, messages DESC) INCLUDE (username_lower);

-- +goose Down
DROP TABLE daz_analytics_chat_window;
ALTER TABLE daz_analytics_rollup_state DROP COLUMN window_from;
