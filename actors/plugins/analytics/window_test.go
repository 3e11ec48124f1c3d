package analytics_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/plugins/analytics"
)

type ranked struct {
	Name string
	N    int64
}

// topFromLog is !top computed straight from the chat log, the reference the
// roll-up and the window totals must agree with.
func topFromLog(ctx context.Context, t *testing.T, pool *pgxpool.Pool, channel string, since time.Time, bot string, limit int) []ranked {
	t.Helper()
	rows, err := pool.Query(ctx, `SELECT max(username), count(*)
FROM daz_core_chat_log
WHERE channel = $1 AND event_type = 'chatMsg' AND username NOT LIKE '[%'
  AND (timestamp AT TIME ZONE 'UTC')::date >= $2::date AND lower(username) <> lower($3)
GROUP BY lower(username)
ORDER BY 2 DESC, 1
LIMIT $4`, channel, since, bot, limit)
	if err != nil {
		t.Fatalf("reference top: %v", err)
	}
	want, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ranked])
	if err != nil {
		t.Fatalf("reference top: %v", err)
	}
	return want
}

func topFromSQL(ctx context.Context, t *testing.T, pool *pgxpool.Pool, channel string, since time.Time, bot string, limit int) []ranked {
	t.Helper()
	rows, err := pool.Query(ctx, analytics.TopSQL, channel, since, bot, limit)
	if err != nil {
		t.Fatalf("TopSQL: %v", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ranked])
	if err != nil {
		t.Fatalf("TopSQL: %v", err)
	}
	return got
}

// TestTopWindowFollowsTheLog moves the !top window forward day by day,
// back, and far ahead, with new lines folded in between, and checks after
// every step that !top (read from the window totals, and from the daily
// sums for a start the totals do not cover) equals a count over the log.
// Few users with few lines make ties at the cut, and two spellings of one
// name check that the name shown is the same either way.
func TestTopWindowFollowsTheLog(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := testpg.Pool(t, testpg.NewMigrated(t))
	const channel, bot = "testchan", "DazBot"
	today := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(7, 8))
	names := []string{"alice", "Alice", "bob", "carol", "dave", "erin", "frank", "dazbot", "[server]"}

	// say logs lines on the days [from, to) before today, in this channel
	// and another one the window of this one must not count.
	say := func(from, to int) {
		t.Helper()
		batch := &pgx.Batch{}
		for day := from; day < to; day++ {
			for range rng.IntN(6) {
				at := today.AddDate(0, 0, -day).Add(time.Duration(rng.IntN(86400)) * time.Second)
				ch := channel
				if rng.IntN(5) == 0 {
					ch = "otherchan"
				}
				kind := "chatMsg"
				if rng.IntN(8) == 0 {
					kind = "addUser"
				}
				batch.Queue(`INSERT INTO daz_core_chat_log (timestamp, channel, username, message, event_type) VALUES ($1, $2, $3, 'hi', $4)`,
					at, ch, names[rng.IntN(len(names))], kind)
			}
		}
		if err := pool.SendBatch(ctx, batch).Close(); err != nil {
			t.Fatalf("log lines: %v", err)
		}
	}
	rollUp := func() {
		t.Helper()
		for {
			var hi, max, merged int64
			err := pool.QueryRow(ctx, analytics.RollupSQL, channel, int64(analytics.RollupChunk)).Scan(&hi, &max, &merged)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && hi >= max) {
				return
			}
			if err != nil {
				t.Fatalf("roll-up: %v", err)
			}
		}
	}
	check := func(step string, since time.Time, wantEmpty bool) {
		t.Helper()
		var from time.Time
		if err := pool.QueryRow(ctx, `SELECT window_from FROM daz_analytics_rollup_state WHERE channel = $1`, channel).Scan(&from); err != nil {
			t.Fatalf("%s: window start: %v", step, err)
		}
		if !from.Equal(since) {
			t.Fatalf("%s: window starts %v, want %v", step, from, since)
		}
		for _, limit := range []int{1, 3, analytics.TopSize, 20} {
			want := topFromLog(ctx, t, pool, channel, since, bot, limit)
			if got := topFromSQL(ctx, t, pool, channel, since, bot, limit); !slices.Equal(got, want) {
				t.Fatalf("%s, top %d: window totals give\n%v, the log\n%v", step, limit, got, want)
			}
			// A start the totals do not cover is summed from the daily roll-up.
			other := since.AddDate(0, 0, -1)
			want = topFromLog(ctx, t, pool, channel, other, bot, limit)
			if got := topFromSQL(ctx, t, pool, channel, other, bot, limit); !slices.Equal(got, want) {
				t.Fatalf("%s, top %d from %v: daily sums give\n%v, the log\n%v", step, limit, other, got, want)
			}
		}
		// An empty window on a step meant to have lines would prove nothing.
		if empty := len(topFromLog(ctx, t, pool, channel, since, bot, 1)) == 0; empty != wantEmpty {
			t.Fatalf("%s: window empty %v, want %v", step, empty, wantEmpty)
		}
	}
	shift := func(since time.Time) {
		t.Helper()
		if _, err := pool.Exec(ctx, analytics.ShiftWindowSQL, channel, since); err != nil {
			t.Fatalf("shift to %v: %v", since, err)
		}
	}

	say(0, 45)
	if _, err := pool.Exec(ctx, analytics.RollupStateSQL, channel); err != nil {
		t.Fatal(err)
	}
	// First start: the window is built before the history is folded in.
	since := today.AddDate(0, 0, -30)
	shift(since)
	rollUp()
	check("first start", since, false)

	steps := []struct {
		name  string
		move  int // days the window start moves
		lines bool
		empty bool
	}{
		{"a day later", 1, true, false},
		{"the same day again", 0, true, false},
		{"another day", 1, false, false},
		{"clock set back three days", -3, true, false},
		{"a week later", 7, true, false},
		{"past every line", 60, false, true},
		{"back over the whole history", -90, true, false},
	}
	for _, s := range steps {
		since = since.AddDate(0, 0, s.move)
		shift(since)
		if s.lines {
			say(0, 3) // lines of the last days, some inside the window, arrive
		}
		rollUp()
		check(s.name, since, s.empty)
	}
	// Shifting to where the window already is changes nothing.
	var before, after int64
	sum := `SELECT coalesce(sum(messages), 0) FROM daz_analytics_chat_window WHERE channel = $1`
	if err := pool.QueryRow(ctx, sum, channel).Scan(&before); err != nil {
		t.Fatal(err)
	}
	shift(since)
	if err := pool.QueryRow(ctx, sum, channel).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Fatalf("a shift to the current start changed the totals from %d to %d", before, after)
	}
	if before == 0 {
		t.Fatal("the window is empty at the end, the last checks prove nothing")
	}
}
