-- Full-text search of the chat log on the web (/c/{channel}/log?q=). The
-- 'simple' configuration lower-cases words without stemming, which suits
-- chat in any language; the index covers chat lines only. PostgreSQL's
-- parser reads "<...>" as markup and drops it, with the words between
-- <script> and </script>; chat is plain text, so angle brackets are turned
-- into spaces first and every word a user typed can be found.
-- +goose Up
CREATE INDEX daz_core_chat_log_chat_fts_idx
    ON daz_core_chat_log USING gin (to_tsvector('simple', translate(message, '<>', '  ')))
    WHERE event_type = 'chatMsg';

-- +goose Down
DROP INDEX daz_core_chat_log_chat_fts_idx;
