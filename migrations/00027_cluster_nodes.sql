-- The daemons of a group, for /debug/cluster and the balance count. Who
-- owns a channel is not stored here: that is the channel's advisory lock,
-- read from pg_locks, so no table can disagree with the locks. Both times
-- come from the database's clock (now()), never a daemon's.
-- +goose Up
CREATE TABLE daz_nodes (
    name         TEXT PRIMARY KEY,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE daz_nodes;
