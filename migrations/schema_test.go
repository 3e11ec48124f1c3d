package migrations

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/daz-bot/daz/migrations/pgtest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func migratedConn(t *testing.T) *pgx.Conn {
	t.Helper()
	dbURL := pgtest.New(t)
	if _, err := Up(t.Context(), dbURL); err != nil {
		t.Fatalf("Up: %v", err)
	}
	return pgtest.Connect(t, dbURL)
}

func TestSchemaHasTablesAndIndexes(t *testing.T) {
	t.Parallel()
	conn := migratedConn(t)

	wantTables := []string{
		"daz_analytics_chat_daily",
		"daz_analytics_chat_window",
		"daz_analytics_media",
		"daz_analytics_rollup_state",
		"daz_channels",
		"daz_core_chat_log",
		"daz_core_payload",
		"daz_core_retry_state",
		"daz_customcmd_commands",
		"daz_eventfilter_cmds",
		"daz_eventfilter_ignored_users",
		"daz_eventfilter_user_limits",
		"daz_moderation_actions",
		"daz_moderation_rules",
		"daz_nodes",
		"daz_remind_reminders",
		"daz_tell_messages",
		"daz_web_chat_hourly",
		"daz_web_rollup_state",
		"daz_web_sessions",
		"daz_web_tokens",
	}
	rows, err := conn.Query(t.Context(),
		`SELECT t.tablename FROM pg_tables t JOIN pg_class c ON c.oid = (quote_ident(t.schemaname) || '.' || quote_ident(t.tablename))::regclass
		 WHERE t.schemaname = 'public' AND t.tablename LIKE 'daz\_%' AND NOT c.relispartition ORDER BY t.tablename`)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("read tables: %v", err)
	}
	if !slices.Equal(tables, wantTables) {
		t.Fatalf("tables = %v, want %v", tables, wantTables)
	}

	// Each index must exist and its definition must contain every fragment.
	wantIndexes := []struct {
		table, index string
		fragments    []string
	}{
		{"daz_core_chat_log", "daz_core_chat_log_pkey", []string{"UNIQUE", "(id, \"timestamp\")"}},
		{"daz_core_chat_log", "daz_core_chat_log_channel_ts_idx", []string{"(channel, \"timestamp\")"}},
		{"daz_core_chat_log", "daz_core_chat_log_channel_user_ts_idx", []string{"(channel, lower(username), \"timestamp\")"}},
		{"daz_core_chat_log", "daz_core_chat_log_ts_idx", []string{"(\"timestamp\")"}},
		{"daz_core_chat_log", "daz_core_chat_log_event_ts_idx", []string{"(event_type, \"timestamp\")"}},
		{"daz_core_chat_log", "daz_core_chat_log_dedup_key", []string{"UNIQUE", "(channel, dedup_key, \"timestamp\")", "WHERE (dedup_key IS NOT NULL)"}},
		{"daz_core_payload", "daz_core_payload_pkey", []string{"UNIQUE", "(sha256)"}},
		{"daz_core_retry_state", "daz_core_retry_state_pkey", []string{"UNIQUE", "(channel)"}},
		{"daz_eventfilter_cmds", "daz_eventfilter_cmds_pkey", []string{"UNIQUE", "(name)"}},
		{"daz_eventfilter_ignored_users", "daz_eventfilter_ignored_users_key", []string{"UNIQUE", "(channel, lower(username))"}},
		{"daz_eventfilter_user_limits", "daz_eventfilter_user_limits_key", []string{"UNIQUE", "(channel, lower(username))"}},
		{"daz_customcmd_commands", "daz_customcmd_commands_pkey", []string{"UNIQUE", "(channel, name)"}},
		{"daz_tell_messages", "daz_tell_messages_pending_idx", []string{"(channel, lower(to_user))", "WHERE (delivered_at IS NULL)"}},
		{"daz_remind_reminders", "daz_remind_reminders_due_idx", []string{"(due_at)", "WHERE (delivered_at IS NULL)"}},
		{"daz_analytics_media", "daz_analytics_media_channel_started_idx", []string{"(channel, started_at DESC)"}},
		{"daz_moderation_actions", "daz_moderation_actions_key_key", []string{"UNIQUE", "(key)"}},
		{"daz_moderation_actions", "daz_moderation_actions_target_idx", []string{"(channel, lower(target), at DESC)"}},
		{"daz_moderation_actions", "daz_moderation_actions_timed_idx", []string{"(channel, until)", "WHERE ((until IS NOT NULL) AND (outcome = 'done'::text))"}},
		{"daz_moderation_rules", "daz_moderation_rules_channel_idx", []string{"(channel, id)"}},
		{"daz_core_chat_log", "daz_core_chat_log_chat_channel_ts_idx", []string{"(channel, \"timestamp\")", "WHERE (event_type = 'chatMsg'::text)"}},
		{"daz_core_chat_log", "daz_core_chat_log_chat_fts_idx", []string{"gin", "to_tsvector('simple'::regconfig, translate(message, '<>'::text, '  '::text))"}},
		{"daz_analytics_media", "daz_analytics_media_item_idx", []string{"(media_id, media_type, channel)"}},
		{"daz_web_tokens", "daz_web_tokens_hash_key", []string{"UNIQUE", "(hash)"}},
		{"daz_channels", "daz_channels_pkey", []string{"UNIQUE", "(name)"}},
		{"daz_web_sessions", "daz_web_sessions_pkey", []string{"UNIQUE", "(hash)"}},
		{"daz_web_sessions", "daz_web_sessions_expires_idx", []string{"(expires_at)"}},
	}
	for _, want := range wantIndexes {
		var def string
		err := conn.QueryRow(t.Context(),
			`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1 AND indexname = $2`,
			want.table, want.index).Scan(&def)
		if errors.Is(err, pgx.ErrNoRows) {
			t.Errorf("index %s on %s missing", want.index, want.table)
			continue
		}
		if err != nil {
			t.Fatalf("look up index %s: %v", want.index, err)
		}
		for _, f := range want.fragments {
			if !strings.Contains(def, f) {
				t.Errorf("index %s = %q, lacks %q", want.index, def, f)
			}
		}
	}
}

// The chat log writer's exact insert: a replayed join-burst line carries the
// same dedup_key and must be stored once; keyless events are never merged.
func TestChatLogDedupKeyStoresReplayOnce(t *testing.T) {
	t.Parallel()
	conn := migratedConn(t)
	const insert = `
		INSERT INTO daz_core_chat_log (timestamp, channel, username, message, event_type, dedup_key)
		VALUES (to_timestamp($1::double precision / 1000), $2, $3, $4, 'chatMsg', $5)
		ON CONFLICT (channel, dedup_key, timestamp) WHERE dedup_key IS NOT NULL DO NOTHING`
	lines := []struct {
		channel, key string // key "" stores NULL
		inserted     int64
	}{
		{"testchan", "alice|1700000000123|hi", 1},
		{"testchan", "alice|1700000000123|hi", 0}, // replayed in the next join burst
		{"otherchan", "alice|1700000000123|hi", 1},
		{"testchan", "", 1},
		{"testchan", "", 1},
	}
	for i, l := range lines {
		var key *string
		if l.key != "" {
			key = &l.key
		}
		tag, err := conn.Exec(t.Context(), insert, 1700000000123, l.channel, "alice", "hi", key)
		if err != nil {
			t.Fatalf("line %d: insert: %v", i, err)
		}
		if tag.RowsAffected() != l.inserted {
			t.Errorf("line %d (%s, %q): inserted %d rows, want %d", i, l.channel, l.key, tag.RowsAffected(), l.inserted)
		}
	}
	var metadata string
	if err := conn.QueryRow(t.Context(), `SELECT metadata::text FROM daz_core_chat_log LIMIT 1`).Scan(&metadata); err != nil {
		t.Fatalf("read metadata: %v", err)
	}
	if metadata != "{}" {
		t.Errorf("default metadata = %s, want {}", metadata)
	}
}

func TestSchemaConstraints(t *testing.T) {
	t.Parallel()
	conn := migratedConn(t)
	const (
		ok             = ""
		uniqueViolated = "23505"
		checkViolated  = "23514"
	)
	// Statements run in order on one database, so later rows meet earlier ones.
	steps := []struct {
		name, sql string
		args      []any
		wantCode  string
	}{
		{"ignore Bob", `INSERT INTO daz_eventfilter_ignored_users (channel, username) VALUES ($1, $2)`, []any{"testchan", "Bob"}, ok},
		{"ignore bOB again", `INSERT INTO daz_eventfilter_ignored_users (channel, username) VALUES ($1, $2)`, []any{"testchan", "bOB"}, uniqueViolated},
		{"ignore Bob elsewhere", `INSERT INTO daz_eventfilter_ignored_users (channel, username) VALUES ($1, $2)`, []any{"otherchan", "bob"}, ok},
		{"limit Alice", `INSERT INTO daz_eventfilter_user_limits (channel, username, max_per_minute) VALUES ($1, $2, 5)`, []any{"testchan", "Alice"}, ok},
		{"limit ALICE again", `INSERT INTO daz_eventfilter_user_limits (channel, username, max_per_minute) VALUES ($1, $2, 9)`, []any{"testchan", "ALICE"}, uniqueViolated},
		{"register help", `INSERT INTO daz_eventfilter_cmds (name, plugin, min_rank, aliases) VALUES ($1, 'core', 1.5, $2)`, []any{"help", []string{"h", "commands"}}, ok},
		{"register Help", `INSERT INTO daz_eventfilter_cmds (name, plugin) VALUES ($1, 'core')`, []any{"Help"}, checkViolated},
		{"upper-case alias", `INSERT INTO daz_eventfilter_cmds (name, plugin, aliases) VALUES ($1, 'core', $2)`, []any{"seen", []string{"Last"}}, checkViolated},
		{"negative cooldown", `INSERT INTO daz_eventfilter_cmds (name, plugin, cooldown_ms) VALUES ($1, 'core', -1)`, []any{"roll"}, checkViolated},
		{"custom !rules", `INSERT INTO daz_customcmd_commands (channel, name, response) VALUES ($1, $2, 'be nice')`, []any{"testchan", "rules"}, ok},
		{"custom !rules again", `INSERT INTO daz_customcmd_commands (channel, name, response) VALUES ($1, $2, 'x')`, []any{"testchan", "rules"}, uniqueViolated},
		{"custom !Rules", `INSERT INTO daz_customcmd_commands (channel, name, response) VALUES ($1, $2, 'x')`, []any{"testchan", "Rules"}, checkViolated},
		{"retry state", `INSERT INTO daz_core_retry_state (channel, retry_count) VALUES ($1, 3)`, []any{"testchan"}, ok},
		{"negative retries", `INSERT INTO daz_core_retry_state (channel, retry_count) VALUES ($1, -1)`, []any{"otherchan"}, checkViolated},
	}
	for _, s := range steps {
		_, err := conn.Exec(t.Context(), s.sql, s.args...)
		var pgErr *pgconn.PgError
		switch {
		case s.wantCode == ok && err != nil:
			t.Errorf("%s: %v", s.name, err)
		case s.wantCode != ok && !errors.As(err, &pgErr):
			t.Errorf("%s: err = %v, want SQLSTATE %s", s.name, err, s.wantCode)
		case s.wantCode != ok && pgErr.Code != s.wantCode:
			t.Errorf("%s: SQLSTATE %s (%s), want %s", s.name, pgErr.Code, pgErr.Message, s.wantCode)
		}
	}
}

// The hot lookups must be able to use their index; with sequential scans
// disabled the planner picks the index whenever the index can answer.
func TestHotQueriesCanUseTheirIndex(t *testing.T) {
	t.Parallel()
	conn := migratedConn(t)
	// Another channel's chat makes "channel = $1" selective, as in any real
	// log: on empty partitions the planner has no reason to prefer the
	// (channel, timestamp) index over the (timestamp) one.
	if _, err := conn.Exec(t.Context(), `
		INSERT INTO daz_core_chat_log (timestamp, channel, username, message, event_type)
		SELECT now() - g * interval '1 second', 'otherchan', 'bob', 'hi', 'chatMsg' FROM generate_series(1, 2000) g;
		ANALYZE daz_core_chat_log`); err != nil {
		t.Fatalf("seed chat log: %v", err)
	}
	if _, err := conn.Exec(t.Context(), "SET enable_seqscan = off"); err != nil {
		t.Fatalf("disable seqscan: %v", err)
	}
	const channel, user, instant = "testchan", "Alice", "2024-01-01T00:00:00Z"
	queries := []struct {
		name, sql string
		args      []any
		index     string
	}{
		{"!seen", `SELECT timestamp FROM daz_core_chat_log WHERE channel = $1 AND lower(username) = lower($2) ORDER BY timestamp DESC LIMIT 1`,
			[]any{channel, user}, "daz_core_chat_log_channel_user_ts_idx"},
		{"recent chat", `SELECT message FROM daz_core_chat_log WHERE channel = $1 AND timestamp > $2::timestamptz ORDER BY timestamp`,
			[]any{channel, instant}, "daz_core_chat_log_channel_ts_idx"},
		{"pending tells", `SELECT id FROM daz_tell_messages WHERE channel = $1 AND lower(to_user) = lower($2) AND delivered_at IS NULL`,
			[]any{channel, user}, "daz_tell_messages_pending_idx"},
		{"due reminders", `SELECT id FROM daz_remind_reminders WHERE delivered_at IS NULL AND due_at <= $1::timestamptz ORDER BY due_at`,
			[]any{instant}, "daz_remind_reminders_due_idx"},
		{"recent media", `SELECT title FROM daz_analytics_media WHERE channel = $1 ORDER BY started_at DESC LIMIT 10`,
			[]any{channel}, "daz_analytics_media_channel_started_idx"},
	}
	for _, q := range queries {
		rows, err := conn.Query(t.Context(), "EXPLAIN "+q.sql, q.args...)
		if err != nil {
			t.Fatalf("%s: explain: %v", q.name, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: read plan: %v", q.name, err)
		}
		plan := strings.Join(lines, "\n")
		if !usesIndex(t, conn, plan, q.index) {
			t.Errorf("%s does not use %s:\n%s", q.name, q.index, plan)
		}
	}
}

// usesIndex reports whether plan scans index or, on a partitioned table,
// the index's copy on some partition (which has a name of its own).
func usesIndex(t *testing.T, conn *pgx.Conn, plan, index string) bool {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT relid::regclass::text FROM pg_partition_tree($1::regclass)`, index)
	if err != nil {
		t.Fatalf("partitions of index %s: %v", index, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("read partitions of index %s: %v", index, err)
	}
	for _, name := range append(names, index) {
		scan := regexp.MustCompile(`\b(using|on) ` + regexp.QuoteMeta(name) + `(\s|$)`)
		if scan.MatchString(plan) {
			return true
		}
	}
	return false
}
