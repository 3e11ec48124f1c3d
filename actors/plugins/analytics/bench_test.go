package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/plugins/analytics"
)

// Size of the seeded chat log.
const (
	benchRows  = 5_000_000
	benchUsers = 3000
	benchDays  = 365
	benchChan  = "benchchan"
	// samplesPerOp makes one benchmark op a batch of queries, so even
	// -benchtime 1x (make bench) yields percentiles worth reading.
	samplesPerOp = 50
)

var benchWords = []string{"hello", "lol", "this", "video", "is", "great", "anyone", "here", "watch", "next",
	"skip", "the", "song", "again", "nice", "what", "are", "we", "playing", "tonight"}

// seedChatLog COPYs benchRows rows: 90 % in the benchmarked channel, users
// drawn from a Zipf distribution (a few very chatty people, a long tail),
// times spread over a year, 8 % joins and leaves among the chat lines.
func seedChatLog(ctx context.Context, b *testing.B, pool *pgxpool.Pool, now time.Time) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 4, benchUsers-1)
	start := now.Add(-benchDays * 24 * time.Hour)
	step := time.Duration(int64(benchDays*24*time.Hour) / benchRows)
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == benchRows {
			return nil, nil
		}
		i++
		ts := start.Add(time.Duration(i) * step)
		channel := benchChan
		if rng.IntN(10) == 0 {
			channel = "otherchan"
		}
		user := fmt.Sprintf("user%04d", zipf.Uint64())
		kind, msg := "chatMsg", any(nil)
		switch r := rng.IntN(100); {
		case r < 4:
			kind = "addUser"
		case r < 8:
			kind = "userLeave"
		default:
			msg = benchWords[rng.IntN(len(benchWords))] + " " + benchWords[rng.IntN(len(benchWords))] + " " +
				benchWords[rng.IntN(len(benchWords))]
		}
		return []any{ts, channel, user, msg, kind, []byte(`{}`), ts}, nil
	})
	began := time.Now()
	n, err := pool.CopyFrom(ctx, pgx.Identifier{"daz_core_chat_log"},
		[]string{"timestamp", "channel", "username", "message", "event_type", "metadata", "received_at"}, src)
	if err != nil || n != benchRows {
		b.Fatalf("seed: %d rows, %v", n, err)
	}
	b.Logf("seeded %d rows in %v", n, time.Since(began).Round(time.Second))
}

// catchUp runs the roll-up until it has folded in the whole log, with the
// !top window starting at windowFrom, in the plugin's order: position,
// window, rounds.
func catchUp(ctx context.Context, b *testing.B, pool *pgxpool.Pool, channel string, windowFrom time.Time) time.Duration {
	b.Helper()
	began := time.Now()
	if _, err := pool.Exec(ctx, analytics.RollupStateSQL, channel); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, analytics.ShiftWindowSQL, channel, windowFrom); err != nil {
		b.Fatal(err)
	}
	for {
		var hi, max, merged int64
		err := pool.QueryRow(ctx, analytics.RollupSQL, channel, int64(analytics.RollupChunk)).Scan(&hi, &max, &merged)
		if errors.Is(err, pgx.ErrNoRows) {
			return time.Since(began)
		}
		if err != nil {
			b.Fatalf("roll-up: %v", err)
		}
		if hi >= max {
			return time.Since(began)
		}
	}
}

// BenchmarkQueries times each analytics statement on a five-million-row
// chat log (its own database; seeding takes a few minutes) and reports
// p50/p99 per statement over every query run (-v also logs the seeding and
// roll-up backfill times). It fails if any plan scans the log sequentially.
// top_30d reads the window totals; top_30d_unaligned is its fallback, the
// sum over the daily roll-up, for a window start the totals do not cover.
func BenchmarkQueries(b *testing.B) {
	ctx := context.Background()
	dbURL := testpg.NewMigrated(b)
	pool := testpg.Pool(b, dbURL)
	now := time.Now().UTC()
	seedChatLog(ctx, b, pool, now)
	since := now.Add(-analytics.TopWindow).Truncate(24 * time.Hour)
	backfill := catchUp(ctx, b, pool, benchChan, since)
	b.Logf("roll-up backfill of %d rows took %v", benchRows, backfill.Round(time.Millisecond))
	// The daily move of the !top window, forward a day and back again.
	for _, from := range []time.Time{since.Add(24 * time.Hour), since} {
		began := time.Now()
		if _, err := pool.Exec(ctx, analytics.ShiftWindowSQL, benchChan, from); err != nil {
			b.Fatal(err)
		}
		b.Logf("moving the !top window to %s took %v", from.Format(time.DateOnly), time.Since(began).Round(time.Millisecond))
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO daz_analytics_media (channel, media_id, title, media_type, duration_seconds, started_at)
SELECT $1, 'id' || g, 'Title ' || g, 'yt', 200, $2::timestamptz - g * interval '4 minutes' FROM generate_series(1, 50000) g`,
		benchChan, now); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE daz_analytics_media"); err != nil {
		b.Fatal(err)
	}
	for _, c := range planCases(benchChan, "user0042", now) {
		plan, err := explain(ctx, pool, c.query, c.args)
		if err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		if err := checkPlan(plan, c.tables); err != nil {
			b.Fatalf("%s: %v\n%s", c.name, err, plan)
		}
	}

	rng := rand.New(rand.NewPCG(3, 4))
	user := func() string { return fmt.Sprintf("user%04d", rng.IntN(benchUsers)) }
	heavy := func() string { return fmt.Sprintf("user%04d", rng.IntN(5)) } // the chattiest few
	queries := []struct {
		name string
		sql  string
		args func() []any
	}{
		{"seen", analytics.SeenSQL, func() []any { return []any{benchChan, user()} }},
		{"seen_heavy_user", analytics.SeenSQL, func() []any { return []any{benchChan, heavy()} }},
		{"stats", analytics.StatsSQL, func() []any { return []any{benchChan, user()} }},
		{"stats_heavy_user", analytics.StatsSQL, func() []any { return []any{benchChan, heavy()} }},
		{"top_30d", analytics.TopSQL, func() []any { return []any{benchChan, since, "dazbot", analytics.TopSize} }},
		{"top_30d_unaligned", analytics.TopSQL, func() []any {
			return []any{benchChan, since.Add(-24 * time.Hour), "dazbot", analytics.TopSize}
		}},
		{"quote_user", analytics.QuoteUserSQL, func() []any { return []any{benchChan, user(), rng.Float64(), "!"} }},
		{"quote_heavy_user", analytics.QuoteUserSQL, func() []any { return []any{benchChan, heavy(), rng.Float64(), "!"} }},
		{"quote_any", analytics.QuoteAnySQL, func() []any { return []any{benchChan, "dazbot", rng.Float64(), "!"} }},
		{"history", analytics.HistorySQL, func() []any { return []any{benchChan, analytics.HistorySize} }},
		{"rollup_idle", analytics.RollupSQL, func() []any { return []any{benchChan, int64(analytics.RollupChunk)} }},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				for range samplesPerOp {
					args := q.args()
					began := time.Now()
					rows, err := pool.Query(ctx, q.sql, args...)
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
					}
					if err := rows.Err(); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(began))
				}
			}
			reportPercentiles(b, lat)
		})
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50_ms")
	b.ReportMetric(at(0.99), "p99_ms")
}
