-- The fingerprint (sha256, never the secrets) of the server URL, account and
-- channel password a connection used when its state was saved: a channel
-- stopped because of them is retried after a restart only if they changed.
-- +goose Up
ALTER TABLE daz_core_retry_state ADD COLUMN credentials_fp TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE daz_core_retry_state DROP COLUMN credentials_fp;
