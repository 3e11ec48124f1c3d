package analytics

// The statements behind the analytics commands. Each reads through an
// index (see migrations 00002, 00010, 00013 and 00014); TestQueriesUseIndexes
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
// It reads the per-user window totals (daz_analytics_chat_window) when they
// cover exactly the days from $2, which ShiftWindowSQL ensures before each
// roll-up cycle: the biggest totals come off an index, ties at the cut
// included so the name order below decides among them as it would over
// the daily counts. For any other first day (the window has not moved yet,
// or was never built) it sums the daily roll-up instead: slower, same answer.
// Either branch is switched off by a one-time filter, so only one runs.
const TopSQL = `WITH ranked AS (
    SELECT w.username_lower, w.messages
    FROM daz_analytics_chat_window w
    WHERE w.channel = $1 AND w.messages > 0 AND w.username_lower <> lower($3)
      AND EXISTS (SELECT 1 FROM daz_analytics_rollup_state s WHERE s.channel = $1 AND s.window_from = $2::date)
    ORDER BY w.messages DESC
    FETCH FIRST $4 ROWS WITH TIES
), summed AS (
    SELECT max(d.username) AS username, sum(d.messages)::bigint AS n
    FROM daz_analytics_chat_daily d
    WHERE d.channel = $1 AND d.day >= $2::date AND d.username_lower <> lower($3)
      AND NOT EXISTS (SELECT 1 FROM daz_analytics_rollup_state s WHERE s.channel = $1 AND s.window_from = $2::date)
    GROUP BY d.username_lower
)
SELECT (SELECT max(d.username) FROM daz_analytics_chat_daily d
        WHERE d.channel = $1 AND d.username_lower = r.username_lower AND d.day >= $2::date) AS username,
       r.messages AS n
FROM ranked r
UNION ALL
SELECT username, n FROM summed
ORDER BY n DESC, username
LIMIT $4`

// ShiftWindowSQL moves the channel's window totals to start at day $2:
// days that left the window are subtracted, days that entered it (all of
// them on the first move, from 'infinity') are added, both read from the
// daily roll-up, and window_from records the new start, in one statement.
// Nothing happens when the window already starts at $2. Like RollupSQL it
// expects one roller per channel (the plugin runs them one at a time).
const ShiftWindowSQL = `WITH st AS (
    SELECT window_from AS old FROM daz_analytics_rollup_state
    WHERE channel = $1 AND window_from <> $2::date
    FOR UPDATE
), delta AS (
    SELECT d.username_lower AS ul,
           sum(CASE WHEN d.day >= $2::date THEN d.messages ELSE -d.messages END) AS n
    FROM daz_analytics_chat_daily d, st
    WHERE d.channel = $1 AND d.day >= least(st.old, $2::date) AND d.day < greatest(st.old, $2::date)
    GROUP BY 1
), changed AS (
    UPDATE daz_analytics_chat_window w SET messages = w.messages + delta.n
    FROM delta
    WHERE w.channel = $1 AND w.username_lower = delta.ul AND delta.n <> 0
), added AS (
    INSERT INTO daz_analytics_chat_window (channel, username_lower, messages)
    SELECT $1, delta.ul, delta.n FROM delta
    WHERE delta.n <> 0 AND NOT EXISTS (
        SELECT 1 FROM daz_analytics_chat_window w WHERE w.channel = $1 AND w.username_lower = delta.ul)
)
UPDATE daz_analytics_rollup_state s SET window_from = $2::date
FROM st
WHERE s.channel = $1`

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
// most $2 ids of the log) into the daily counts, adds those of days inside
// the !top window to the window totals, and moves the position, in one
// statement. It returns no row when there was nothing new; otherwise
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
), windowed AS (
    INSERT INTO daz_analytics_chat_window AS w (channel, username_lower, messages)
    SELECT $1, f.ul, sum(f.n) FROM fresh f, daz_analytics_rollup_state s
    WHERE s.channel = $1 AND f.day >= s.window_from
    GROUP BY f.ul
    ON CONFLICT (channel, username_lower) DO UPDATE SET messages = w.messages + EXCLUDED.messages
)
UPDATE daz_analytics_rollup_state s SET last_id = b.hi, updated_at = now()
FROM bounds b
WHERE s.channel = $1 AND b.hi > s.last_id
RETURNING b.hi, (SELECT coalesce(max(id), 0) FROM daz_core_chat_log), (SELECT count(*) FROM merged)`

// LastMediaSQL: the newest recorded media of a channel.
const LastMediaSQL = `SELECT media_id, media_type, title, duration_seconds, started_at
FROM daz_analytics_media WHERE channel = $1 ORDER BY started_at DESC LIMIT 1`
