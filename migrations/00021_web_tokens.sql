-- API tokens for the web's write endpoints (POST .../say). Only a SHA-256
-- of each token is stored: the token itself is printed once by
-- `daz token create` and cannot be recovered from the database.
-- +goose Up
CREATE TABLE daz_web_tokens (
    id         BIGSERIAL PRIMARY KEY,
    channel    TEXT NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('say')),
    label      TEXT NOT NULL DEFAULT '',
    hash       BYTEA NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);

-- +goose Down
DROP TABLE daz_web_tokens;
