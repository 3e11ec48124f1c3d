package sqlwriter

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// TestDatabaseCutDuringFloodLosesNothing simulates a 30 s outage while
// 500 events/s arrive: the proxy cuts every connection, 15 000 events are
// fed as fast as possible while the fake clock moves 2 ms per event (so the
// retry backoff sees 30 s pass), then the proxy is restored. Memory holds at
// most 1 000 events, so most of the outage goes through the spill file.
func TestDatabaseCutDuringFloodLosesNothing(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	proxy := pgtest.NewFaultProxy(t, dbURL)
	dataDir := t.TempDir()
	metrics := &Metrics{}
	h := startWriter(t, Config{
		Metrics:     metrics,
		DatabaseURL: proxy.URL(t, dbURL), DataDir: dataDir,
		BatchSize: 200, MaxBufferedEvents: 1000,
		RetryBase: 100 * time.Millisecond, RetryMax: 2 * time.Second,
	}, true)

	const (
		before   = 1000
		outage   = 15000 // 30 s at 500 events/s
		after    = 1000
		total    = before + outage + after
		interval = 2 * time.Millisecond
	)
	seq := uint64(0)
	feed := func(n int, tick bool) {
		for range n {
			seq++
			h.send(floodEvent(t, "outage", seq, h.clk.Now()))
			if tick {
				h.clk.Advance(interval)
			}
		}
	}

	feed(before, false)
	h.waitFor("rows before the cut", 50*time.Millisecond, func() bool { return countRows(t, pool, "") == before })

	proxy.Cut()
	feed(outage, true)
	h.waitFor("writer notices the outage and spills", 0, func() bool {
		st := h.stats()
		return !st.DBUp && st.Spilled > 0 && st.Buffered+st.Spilled >= outage-before
	})
	// The flusher spills when it is idle; while it is busy the overflow
	// file takes the events.
	_, spillErr := os.Stat(filepath.Join(dataDir, spillName))
	_, overflowErr := os.Stat(filepath.Join(dataDir, overflowName))
	if spillErr != nil && overflowErr != nil {
		t.Fatalf("no spill file during the outage: %v; %v", spillErr, overflowErr)
	}
	// The events arrive far faster than 500/s here, so memory overshoots
	// the limit by what arrives during one disk append; what matters is that
	// the outage went to disk in several appends instead of piling up.
	if got := metrics.SpillAppends.Load(); got < 2 {
		t.Errorf("%d spill appends during a 15 000-event outage with a 1 000-event memory limit", got)
	}

	proxy.Restore()
	feed(after, true)
	h.waitFor("every event written after the restore", 500*time.Millisecond, func() bool {
		return countRows(t, pool, "") == total
	})
	checkSequence(t, seqsInIDOrder(t, pool, "outage"), total)
	if got := countRows(t, pool, "dedup_key IS NOT NULL"); got != total*3/5 {
		t.Errorf("%d chat rows with a dedup key, want %d", got, total*3/5)
	}

	h.waitFor("spill file replayed and removed", 0, func() bool {
		st := h.stats()
		return st.DBUp && st.Spilled == 0 && st.Buffered == 0
	})
	if _, err := os.Stat(filepath.Join(dataDir, spillName)); !os.IsNotExist(err) {
		t.Errorf("spill file still there after the replay: %v", err)
	}
}

// The memory budget is also in bytes: with a generous event count but a
// small byte budget, events past the budget go to the spill file.
func TestByteBudgetSpillsPastIt(t *testing.T) {
	t.Parallel()
	metrics := &Metrics{}
	const budget = 64 << 10
	h := startWriter(t, Config{
		DatabaseURL:       "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1",
		MaxBufferedEvents: 1_000_000, MaxBufferedBytes: budget, Metrics: metrics,
		RetryBase: time.Hour, RetryMax: time.Hour,
	}, true)
	const n = 2000
	for seq := uint64(1); seq <= n; seq++ {
		h.send(floodEvent(t, "budget", seq, testStart))
	}
	h.waitFor("everything buffered or spilled", 0, func() bool {
		st := h.stats()
		return st.Buffered+st.Spilled == n && st.Spilled > 0 && metrics.BufferedBytes.Load() <= budget
	})
}
