-- A !tell or !remind given by PM is delivered by PM, not in the channel.
-- +goose Up
ALTER TABLE daz_tell_messages ADD COLUMN private BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE daz_remind_reminders ADD COLUMN private BOOLEAN NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE daz_remind_reminders DROP COLUMN private;
ALTER TABLE daz_tell_messages DROP COLUMN private;
