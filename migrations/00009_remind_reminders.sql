-- Reminders set with !remind.
-- +goose Up
CREATE TABLE daz_remind_reminders (
    id           BIGSERIAL PRIMARY KEY,
    channel      TEXT NOT NULL,
    username     TEXT NOT NULL,
    message      TEXT NOT NULL,
    due_at       TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at TIMESTAMPTZ
);

-- The scheduler only ever asks for the next undelivered reminders.
CREATE INDEX daz_remind_reminders_due_idx
    ON daz_remind_reminders (due_at)
    WHERE delivered_at IS NULL;

-- +goose Down
DROP TABLE daz_remind_reminders;
