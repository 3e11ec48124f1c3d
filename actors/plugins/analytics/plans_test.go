package analytics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/plugins/analytics"
)

// planCase is one analytics statement with sample arguments.
type planCase struct {
	name  string
	query string
	args  []any
	// tables the plan must reach through an index.
	tables []string
}

func planCases(channel, user string, now time.Time) []planCase {
	log, daily, window := "daz_core_chat_log", "daz_analytics_chat_daily", "daz_analytics_chat_window"
	return []planCase{
		{"seen", analytics.SeenSQL, []any{channel, user}, []string{log}},
		{"stats", analytics.StatsSQL, []any{channel, user}, []string{daily}},
		{"top", analytics.TopSQL, []any{channel, now.Add(-analytics.TopWindow), "dazbot", analytics.TopSize}, []string{window, daily}},
		{"shift_window", analytics.ShiftWindowSQL, []any{channel, now.Add(-analytics.TopWindow)}, []string{daily}},
		{"quote_user", analytics.QuoteUserSQL, []any{channel, user, 0.5, "!"}, []string{log}},
		{"quote_any", analytics.QuoteAnySQL, []any{channel, "dazbot", 0.5, "!"}, []string{log}},
		{"history", analytics.HistorySQL, []any{channel, analytics.HistorySize}, []string{"daz_analytics_media"}},
		{"rollup", analytics.RollupSQL, []any{channel, int64(analytics.RollupChunk)}, []string{log}},
	}
}

// explain returns the plan of q; with seqscan off, a sequential scan in it
// means no index can serve the query at all.
func explain(ctx context.Context, pool *pgxpool.Pool, q string, args []any) (string, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
		return "", err
	}
	rows, err := tx.Query(ctx, "EXPLAIN "+q, args...)
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}

func checkPlan(plan string, tables []string) error {
	for _, t := range tables {
		if strings.Contains(plan, "Seq Scan on "+t) {
			return fmt.Errorf("sequential scan on %s", t)
		}
		if !strings.Contains(plan, " on "+t) {
			return fmt.Errorf("plan does not read %s", t)
		}
	}
	return nil
}

func TestQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	if _, err := pool.Exec(t.Context(), `INSERT INTO daz_core_chat_log (timestamp, channel, username, message, event_type)
SELECT now() - g * interval '1 minute', 'testchan', 'user' || (g % 50), 'line ' || g, 'chatMsg'
FROM generate_series(1, 5000) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	for _, c := range planCases("testchan", "user7", time.Now()) {
		plan, err := explain(t.Context(), pool, c.query, c.args)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := checkPlan(plan, c.tables); err != nil {
			t.Errorf("%s: %v\n%s", c.name, err, plan)
		}
	}
}
