-- Large event payloads stored once by content. CyTube sends the whole
-- playlist (hundreds of KB) twice per join and again on every reconnect;
-- the chat log row of such an event keeps everything else in metadata and
-- names its payload by "payload_sha256" (hex) instead of holding a copy.
-- daz_core_chat_log_full is the chat log with one more column, payload: every
-- row's whole payload, wherever it is stored. metadata stays as stored, so a
-- filter on it costs what it costs on the table; only the rows read pay for
-- fetching a shared payload.
-- +goose Up
CREATE TABLE daz_core_payload (
    sha256     BYTEA PRIMARY KEY,  -- sha256 of the payload's JSON text as the writer received it
    payload    JSONB NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE VIEW daz_core_chat_log_full AS
SELECT l.id, l.timestamp, l.channel, l.username, l.message, l.event_type, l.metadata,
       l.received_at, l.dedup_key,
       CASE WHEN l.metadata ? 'payload_sha256' THEN p.payload ELSE l.metadata->'payload' END AS payload
FROM daz_core_chat_log l
LEFT JOIN daz_core_payload p ON p.sha256 = decode(l.metadata->>'payload_sha256', 'hex');

-- +goose Down
DROP VIEW daz_core_chat_log_full;
DROP TABLE daz_core_payload;
