-- Web sessions (the cookie a !web sign-in sets) outlive a restart of the
-- daemon. Only a SHA-256 of the session id is stored: whoever reads this
-- table cannot sign in with it. rank is the user's rank at sign-in, for the
-- record; every write is checked against the channel's live roster anyway.
-- The web server deletes expired rows whenever someone signs in.
-- +goose Up
CREATE TABLE daz_web_sessions (
    hash       BYTEA PRIMARY KEY CHECK (length(hash) = 32),
    channel    TEXT NOT NULL,
    username   TEXT NOT NULL,
    rank       DOUBLE PRECISION NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL CHECK (expires_at > created_at)
);

CREATE INDEX daz_web_sessions_expires_idx ON daz_web_sessions (expires_at);

-- +goose Down
DROP TABLE daz_web_sessions;
