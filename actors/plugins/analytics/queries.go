package analytics

// The statements behind the analytics commands. Each reads through an
// index (see migrations 00002, 00010 and 00013); TestQueriesUseIndexes
// checks the plans and BenchmarkQueries times them on five million rows.
// Chat lines are event_type 'chatMsg'; "[server]" notices are not people.

// SeenSQL: $1 channel, $2 user.
const SeenSQL = `SELECT username, event_type, timestamp, coalesce(message, '')
FROM daz_core_chat_log
WHERE channel = $1 AND lower(username) = lower($2) AND event_type IN ('chatMsg', 'addUser', 'userLeave')
ORDER BY timestamp DESC
LIMIT 1`

// StatsSQL: $1 channel, $2 user. Reads the roll-up.
const StatsSQL = `SELECT max(username), coalesce(sum(messages), 0)::bigint, min(first_at), max(last_at)
FROM daz_analytics_chat_daily
WHERE channel = $1 AND username_lower = lower($2)`

// TopSQL: $1 channel, $2 first day, $3 name left out (the bot), $4 limit.
const TopSQL = `SELECT max(username), sum(messages)::bigint AS n
FROM daz_analytics_chat_daily
WHERE channel = $1 AND day >= $2 AND username_lower <> lower($3)
GROUP BY username_lower
ORDER BY n DESC, 1
LIMIT $4`

// QuoteUserSQL: $1 channel, $2 user, $3 a fraction in [0,1) picking the
// point in the user's history to quote from, $4 command prefix (lines that
// are commands are skipped).
const QuoteUserSQL = `WITH span AS (
    SELECT min(timestamp) AS lo, max(timestamp) AS hi FROM daz_core_chat_log
    WHERE channel = $1 AND lower(username) = lower($2) AND event_type = 'chatMsg'
)
SELECT q.username, q.message, q.timestamp
FROM span, LATERAL (
    SELECT username, coalesce(message, '') AS message, timestamp FROM daz_core_chat_log
    WHERE channel = $1 AND lower(username) = lower($2) AND event_type = 'chatMsg'
      AND timestamp >= span.lo + (span.hi - span.lo) * $3::float8
      AND left(coalesce(message, ''), length($4)) <> $4
    ORDER BY timestamp
    LIMIT 1) q
WHERE span.lo IS NOT NULL`

// QuoteAnySQL is QuoteUserSQL over everyone but $2 (the bot).
const QuoteAnySQL = `WITH span AS (
    SELECT min(timestamp) AS lo, max(timestamp) AS hi FROM daz_core_chat_log
    WHERE channel = $1 AND event_type = 'chatMsg'
)
SELECT q.username, q.message, q.timestamp
FROM span, LATERAL (
    SELECT username, coalesce(message, '') AS message, timestamp FROM daz_core_chat_log
    WHERE channel = $1 AND event_type = 'chatMsg'
      AND timestamp >= span.lo + (span.hi - span.lo) * $3::float8
      AND username NOT LIKE '[%' AND lower(username) <> lower($2)
      AND left(coalesce(message, ''), length($4)) <> $4
    ORDER BY timestamp
    LIMIT 1) q
WHERE span.lo IS NOT NULL`

// HistorySQL: $1 channel, $2 limit.
const HistorySQL = `SELECT title, media_type, media_id, duration_seconds, started_at
FROM daz_analytics_media
WHERE channel = $1
ORDER BY started_at DESC
LIMIT $2`

// RecordMediaSQL stores a media item that started playing.
const RecordMediaSQL = `INSERT INTO daz_analytics_media (channel, media_id, title, media_type, duration_seconds, started_at)
VALUES ($1, $2, $3, $4, $5, $6)`

// RollupStateSQL makes sure the channel has a roll-up position.
const RollupStateSQL = `INSERT INTO daz_analytics_rollup_state (channel) VALUES ($1) ON CONFLICT (channel) DO NOTHING`

// RollupSQL folds the chat lines after the channel's roll-up position (at
// most $2 ids of the log) into the daily counts and moves the position, in
// one statement. It returns no row when there was nothing new; otherwise
// the new position and the log's highest id, so the caller knows whether to
// go on. The log's ids grow in commit order because one writer inserts
// batch after batch; the roll-up relies on that.
const RollupSQL = `WITH bounds AS (
    SELECT s.last_id AS lo,
           least((SELECT coalesce(max(id), 0) FROM daz_core_chat_log), s.last_id + $2) AS hi
    FROM daz_analytics_rollup_state s
    WHERE s.channel = $1
), fresh AS (
    SELECT lower(l.username) AS ul, (l.timestamp AT TIME ZONE 'UTC')::date AS day,
           max(l.username) AS username, count(*) AS n, min(l.timestamp) AS first_at, max(l.timestamp) AS last_at
    FROM daz_core_chat_log l, bounds b
    WHERE l.id > b.lo AND l.id <= b.hi AND l.channel = $1 AND l.event_type = 'chatMsg'
      AND l.username IS NOT NULL AND l.username <> '' AND l.username NOT LIKE '[%'
    GROUP BY 1, 2
), merged AS (
    INSERT INTO daz_analytics_chat_daily AS d (channel, username_lower, day, username, messages, first_at, last_at)
    SELECT $1, ul, day, username, n, first_at, last_at FROM fresh
    ON CONFLICT (channel, username_lower, day) DO UPDATE SET
        username = EXCLUDED.username,
        messages = d.messages + EXCLUDED.messages,
        first_at = least(d.first_at, EXCLUDED.first_at),
        last_at  = greatest(d.last_at, EXCLUDED.last_at)
    RETURNING 1
)
UPDATE daz_analytics_rollup_state s SET last_id = b.hi, updated_at = now()
FROM bounds b
WHERE s.channel = $1 AND b.hi > s.last_id
RETURNING b.hi, (SELECT coalesce(max(id), 0) FROM daz_core_chat_log), (SELECT count(*) FROM merged)`

// LastMediaSQL: the newest recorded media of a channel.
const LastMediaSQL = `SELECT media_id, media_type, title, duration_seconds, started_at
FROM daz_analytics_media WHERE channel = $1 ORDER BY started_at DESC LIMIT 1`
