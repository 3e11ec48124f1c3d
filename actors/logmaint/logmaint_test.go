package logmaint

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/sqlwriter"
	"github.com/daz-bot/daz/messages"
)

func newMaintainer(t testing.TB, pool *pgxpool.Pool, retention time.Duration, ahead int) *maintainer {
	t.Helper()
	return &maintainer{pool: pool, monthsAhead: ahead, retention: retention, lockTimeout: DefaultLockTimeout,
		log: actortest.Logger(t, slog.LevelInfo)}
}

func listParts(t testing.TB, pool *pgxpool.Pool) []partition {
	t.Helper()
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	parts, err := partitions(t.Context(), tx)
	if err != nil {
		t.Fatal(err)
	}
	return parts
}

func partNames(parts []partition) []string {
	var names []string
	for _, p := range parts {
		names = append(names, p.name)
	}
	return names
}

func createdNames(ps []messages.LogPartition) []string {
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return names
}

func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// A round creates this month and the ones ahead, moving in the rows that had
// landed in DEFAULT for them with their ids; a second round changes nothing.
func TestRoundCreatesMonthsAheadOnceAndMovesDefaultRows(t *testing.T) {
	t.Parallel()
	pool := testpg.Pool(t, testpg.NewMigrated(t))
	ctx := t.Context()
	// Far enough from the months the migration made that all are new.
	now := time.Date(2040, 5, 17, 13, 0, 0, 0, time.UTC)
	if _, err := pool.Exec(ctx, `INSERT INTO daz_core_chat_log (timestamp, channel, event_type, message)
		SELECT $1::timestamptz + g * interval '1 minute', 'early', 'chatMsg', 'line ' || g FROM generate_series(1, 50) g`,
		time.Date(2040, 6, 3, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	idsBefore := count(t, pool, `SELECT sum(id) FROM daz_core_chat_log WHERE channel = 'early'`)
	if n := count(t, pool, `SELECT count(*) FROM daz_core_chat_log_default`); n != 50 {
		t.Fatalf("DEFAULT holds %d rows before the round, want 50", n)
	}

	m := newMaintainer(t, pool, 0, 3)
	rep := m.round(ctx, now)
	if rep.Err != nil || rep.Skipped {
		t.Fatalf("round: %+v", rep)
	}
	want := []string{"daz_core_chat_log_p204005", "daz_core_chat_log_p204006", "daz_core_chat_log_p204007", "daz_core_chat_log_p204008"}
	if got := createdNames(rep.Created); !slices.Equal(got, want) {
		t.Fatalf("created %v, want %v", got, want)
	}
	if rep.Created[1].Rows != 50 {
		t.Errorf("June took %d rows from DEFAULT, want 50", rep.Created[1].Rows)
	}
	if n := count(t, pool, `SELECT count(*) FROM daz_core_chat_log_p204006`); n != 50 {
		t.Errorf("June partition holds %d rows, want 50", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM daz_core_chat_log_default`); n != 0 {
		t.Errorf("DEFAULT still holds %d rows", n)
	}
	if got := count(t, pool, `SELECT sum(id) FROM daz_core_chat_log WHERE channel = 'early'`); got != idsBefore {
		t.Errorf("ids changed by the move: sum %d, was %d", got, idsBefore)
	}
	// The new months carry every index of the parent.
	if n := count(t, pool, `SELECT count(*) FROM pg_partition_tree('daz_core_chat_log_dedup_key') WHERE relid::text LIKE 'daz_core_chat_log_p204006%'`); n != 1 {
		t.Errorf("June has %d copies of the dedup index, want 1", n)
	}

	before := partNames(listParts(t, pool))
	again := m.round(ctx, now)
	if again.Err != nil || len(again.Created) != 0 || len(again.Dropped) != 0 {
		t.Fatalf("second round: %+v, want nothing done", again)
	}
	if after := partNames(listParts(t, pool)); !slices.Equal(after, before) {
		t.Fatalf("partitions after second round %v, want %v", after, before)
	}
}

// Retention drops the months wholly older than now − retention, nothing else
// (not DEFAULT, however old its rows), while the real writer keeps ingesting:
// no failed write, no row lost.
func TestRetentionDropsOnlyOldMonthsWhileTheWriterIngests(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	ctx := t.Context()
	now := time.Now().UTC()
	const perMonth = 100

	// Thirteen months of history.
	first := monthStart(now).AddDate(0, -13, 0)
	if rep := newMaintainer(t, pool, 0, 13).round(ctx, first); rep.Err != nil {
		t.Fatalf("create history months: %v", rep.Err)
	}
	for i := range 13 {
		if _, err := pool.Exec(ctx, `INSERT INTO daz_core_chat_log (timestamp, channel, event_type, message)
			SELECT $1::timestamptz + g * interval '1 minute', 'history', 'chatMsg', 'old' FROM generate_series(1, $2::int) g`,
			first.AddDate(0, i, 9), perMonth); err != nil {
			t.Fatal(err)
		}
	}
	ancient := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := pool.Exec(ctx, `INSERT INTO daz_core_chat_log (timestamp, channel, event_type) VALUES ($1, 'history', 'ancient')`, ancient); err != nil {
		t.Fatal(err)
	}

	metrics := &sqlwriter.Metrics{}
	sys := actorkit.NewSystem(actortest.Logger(t, slog.LevelInfo), nil)
	writer, err := sys.Root().SpawnNamed(sqlwriter.Props(sys, sqlwriter.Config{
		DatabaseURL: dbURL, DataDir: t.TempDir(), Metrics: metrics,
	}), "sqlwriter")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = sys.Shutdown(sctx, writer.Id)
	})

	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // ingest in steps of 50 lines, each step once the last is stored
		defer wg.Done()
		for seq := uint64(1); ; {
			select {
			case <-stop:
				return
			default:
			}
			for range 50 {
				sys.Send(writer, liveLine(seq, now))
				seq++
			}
			sent.Add(50)
			if !actortest.WaitFor(30*time.Second, func() bool { return metrics.RowsWritten.Load() >= sent.Load() }) {
				return
			}
		}
	}()
	actortest.CheckFor(t, 30*time.Second, "ingest under way", func() bool { return metrics.RowsWritten.Load() >= 100 })

	retention := 200 * 24 * time.Hour
	cutoff := now.Add(-retention)
	rep := newMaintainer(t, pool, retention, 3).round(ctx, now)
	atRound := metrics.RowsWritten.Load()
	actortest.CheckFor(t, 30*time.Second, "ingest after the drop", func() bool { return metrics.RowsWritten.Load() >= atRound+100 })
	close(stop)
	wg.Wait()
	if rep.Err != nil {
		t.Fatalf("retention round: %v", rep.Err)
	}

	var wantDropped []string
	for i := range 13 {
		if m := first.AddDate(0, i, 0); !m.AddDate(0, 1, 0).After(cutoff) {
			wantDropped = append(wantDropped, partitionName(m))
		}
	}
	if got := createdNames(rep.Dropped); len(wantDropped) == 0 || !slices.Equal(got, wantDropped) {
		t.Fatalf("dropped %v, want %v", got, wantDropped)
	}
	for _, d := range rep.Dropped {
		if d.Rows != perMonth {
			t.Errorf("%s dropped with %d rows, want %d", d.Name, d.Rows, perMonth)
		}
	}
	left := listParts(t, pool)
	for _, p := range left {
		if slices.Contains(wantDropped, p.name) {
			t.Errorf("%s still attached", p.name)
		}
	}
	if !slices.ContainsFunc(left, func(p partition) bool { return p.isDefault }) {
		t.Error("DEFAULT partition dropped")
	}
	if n := count(t, pool, `SELECT count(*) FROM daz_core_chat_log WHERE event_type = 'ancient'`); n != 1 {
		t.Errorf("the ancient row in DEFAULT: %d left, want 1", n)
	}
	keptMonths := int64(13 - len(wantDropped))
	if n := count(t, pool, `SELECT count(*) FROM daz_core_chat_log WHERE channel = 'history' AND event_type = 'chatMsg'`); n != keptMonths*perMonth {
		t.Errorf("history rows left %d, want %d", n, keptMonths*perMonth)
	}
	if n := count(t, pool, `SELECT count(*) FROM pg_class WHERE relname = ANY ($1)`, wantDropped); n != 0 {
		t.Errorf("%d dropped partitions still exist as tables", n)
	}

	actortest.CheckFor(t, 30*time.Second, "every line sent stored", func() bool { return metrics.RowsWritten.Load() == sent.Load() })
	if n := count(t, pool, `SELECT count(DISTINCT dedup_key) FROM daz_core_chat_log WHERE channel = 'live'`); n != sent.Load() {
		t.Errorf("live lines stored %d, sent %d", n, sent.Load())
	}
	if f := metrics.WriteFailures.Load(); f != 0 {
		t.Errorf("%d batch writes failed during the drop", f)
	}
}

// liveLine is a chat line said now, as a connection hands it to the writer.
func liveLine(seq uint64, now time.Time) *messages.Event {
	ms := now.UnixMilli() + int64(seq)
	text := fmt.Sprintf("live %d", seq)
	raw, _ := json.Marshal(map[string]any{"username": "alice", "msg": text, "meta": map[string]any{}, "time": ms})
	return &messages.Event{Channel: "live", Name: "chatMsg", Seq: seq, Received: now, Raw: raw,
		Body: &messages.ChatMsg{Username: "alice", Msg: text, Text: text, Time: ms}}
}

// Daemons sharing a database run their rounds at the same moments: the lock
// makes one do the work, and no round fails.
func TestConcurrentMaintainersDoNotCollide(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	now := time.Date(2041, 1, 10, 0, 0, 0, 0, time.UTC)
	const daemons, rounds = 3, 8
	var wg sync.WaitGroup
	reports := make(chan messages.LogMaintenanceReport, daemons*rounds)
	for d := range daemons {
		own := testpg.Pool(t, dbURL) // each daemon has its own connections
		m := newMaintainer(t, own, 400*24*time.Hour, 3)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				// The clock moves a month every other round, so later rounds
				// have months to create and to drop.
				at := now.AddDate(0, (r+d%2)/2, 0)
				reports <- m.round(t.Context(), at)
			}
		}()
	}
	wg.Wait()
	close(reports)
	created := map[string]int{}
	for rep := range reports {
		if rep.Err != nil {
			t.Errorf("round failed: %v", rep.Err)
		}
		for _, p := range rep.Created {
			created[p.Name]++
		}
	}
	for name, n := range created {
		if n != 1 {
			t.Errorf("%s created %d times", name, n)
		}
	}
	// A daemon that found the lock taken left its months to the next
	// round; one round alone completes them.
	last := monthStart(now.AddDate(0, rounds/2, 0)) // the latest any daemon saw
	if rep := newMaintainer(t, pool, 400*24*time.Hour, 3).round(t.Context(), last); rep.Err != nil || rep.Skipped {
		t.Fatalf("final round: %+v", rep)
	}
	names := partNames(listParts(t, pool))
	for i := 0; i <= 3; i++ {
		if name := partitionName(last.AddDate(0, i, 0)); !slices.Contains(names, name) {
			t.Errorf("%s missing; partitions %v", name, names)
		}
	}
}

// The actor runs a round at start and on request, then every Interval on
// its clock.
func TestActorRunsAtStartOnRequestAndOnSchedule(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	// Half an hour before April: the first scheduled round falls in it.
	start := time.Date(2042, 3, 31, 23, 30, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	sys := actorkit.NewSystem(actortest.Logger(t, slog.LevelInfo), clk)
	pid, err := sys.Root().SpawnNamed(Props(sys, Config{DatabaseURL: dbURL, Interval: time.Hour}), "logmaint")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = sys.Shutdown(sctx, pid.Id)
	})
	exists := func(name string) bool {
		return count(t, pool, `SELECT count(*) FROM pg_class WHERE relname = $1`, name) == 1
	}
	actortest.CheckFor(t, 30*time.Second, "round at start", func() bool { return exists("daz_core_chat_log_p204206") })

	res, err := sys.Ask(pid, &messages.LogMaintenanceRun{}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep, ok := res.(*messages.LogMaintenanceReport)
	if !ok || rep.Err != nil || len(rep.Created) != 0 {
		t.Fatalf("requested round: %#v, want nothing left to create", res)
	}

	actortest.CheckFor(t, 10*time.Second, "next round scheduled", func() bool {
		return slices.Contains(clk.Pending(), start.Add(time.Hour))
	})
	clk.Advance(time.Hour) // into April: July becomes due
	actortest.CheckFor(t, 30*time.Second, "scheduled round", func() bool { return exists("daz_core_chat_log_p204207") })
}
