package sqlwriter

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/internal/testpg"
)

// While one batch waits on a lock, a burst past the byte budget goes to the
// overflow file instead of memory; once the lock is gone every event is
// written once, in order of arrival.
func TestBurstDuringSlowBatchOverflowsToDiskInOrder(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	dataDir := t.TempDir()
	metrics := &Metrics{}
	const budget = 32 << 10
	h := startWriter(t, Config{DatabaseURL: dbURL, DataDir: dataDir, BatchSize: 10, MaxBufferedBytes: budget, Metrics: metrics}, false)

	const n = 3000
	release := burstBehindLockedBatch(t, h, pool, "overflow", 10, n)
	h.waitFor("the burst is on disk, memory within the budget", 0, func() bool {
		st := h.stats()
		return st.Spilled > 0 && metrics.EventsReceived.Load() == n && metrics.BufferedBytes.Load() <= budget+int64(10*1024)
	})
	if _, err := os.Stat(filepath.Join(dataDir, overflowName)); err != nil {
		t.Fatalf("no overflow file while the batch is stuck: %v", err)
	}
	release()
	h.waitFor("every event written", 0, func() bool { return countRows(t, pool, "") == n })
	checkSequence(t, seqsInIDOrder(t, pool, "overflow"), n)
	h.waitFor("disk emptied", 0, func() bool { return h.stats().Spilled == 0 })
}

// An overflow file left by a crash is newer than the spill file: the next
// start writes the spill file's events first, then the overflow file's.
func TestOverflowFileLeftByCrashIsReplayedAfterTheSpillFile(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	dataDir := t.TempDir()
	var recs []record
	for seq := uint64(1); seq <= 40; seq++ {
		rec, _ := newRecord(floodEvent(t, "crash", seq, testStart), testStart)
		recs = append(recs, rec)
	}
	if _, err := newSpillFile(dataDir, 0).appendRecords(recs[:25], spillState{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := newOverflowFile(dataDir).appendRecords(recs[25:], spillState{}, nil); err != nil {
		t.Fatal(err)
	}
	h := startWriter(t, Config{DatabaseURL: dbURL, DataDir: dataDir}, false)
	h.waitFor("both files replayed", 0, func() bool { return countRows(t, pool, "") == 40 && h.stats().Spilled == 0 })
	checkSequence(t, seqsInIDOrder(t, pool, "crash"), 40)
	if _, err := os.Stat(filepath.Join(dataDir, overflowName)); !os.IsNotExist(err) {
		t.Fatalf("overflow file still there: %v", err)
	}
}

// A stop while the overflow file holds events puts memory behind it, and
// the next start writes everything once, in order.
func TestStopWithOverflowKeepsOrderForTheNextStart(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	dataDir := t.TempDir()
	metrics := &Metrics{}
	cfg := Config{DatabaseURL: dbURL, DataDir: dataDir, BatchSize: 10, MaxBufferedBytes: 32 << 10,
		StopTimeout: 500 * time.Millisecond, Metrics: metrics}
	h := startWriter(t, cfg, false)

	const n = 2000
	// The first batch goes out from memory and waits on the lock, so the
	// overflow file takes events newer than a batch that is never written
	// before the stop: its events must still come first.
	release := burstBehindLockedBatch(t, h, pool, "stop", cfg.BatchSize, n)
	h.waitFor("overflow on disk", 0, func() bool { return metrics.EventsReceived.Load() == n && h.stats().Spilled > 0 })
	h.stop()
	release()
	h2 := startWriter(t, Config{DatabaseURL: dbURL, DataDir: dataDir}, false)
	h2.waitFor("everything written after the restart", 0, func() bool { return countRows(t, pool, "") == n })
	checkSequence(t, seqsInIDOrder(t, pool, "stop"), n)
}

// A batch from memory that fails while the overflow file holds newer events
// (its connection dies while it waits on a lock) is written before them once
// the database is back.
func TestFailedBatchStaysAheadOfTheOverflowFile(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	metrics := &Metrics{}
	cfg := Config{DatabaseURL: dbURL, DataDir: t.TempDir(), BatchSize: 10, MaxBufferedBytes: 32 << 10, Metrics: metrics}
	h := startWriter(t, cfg, false)

	const n = 2000
	release := burstBehindLockedBatch(t, h, pool, "failed", cfg.BatchSize, n)
	h.waitFor("overflow on disk", 0, func() bool { return metrics.EventsReceived.Load() == n && h.stats().Spilled > 0 })
	if _, err := pool.Exec(context.Background(), `SELECT pg_terminate_backend(l.pid) `+chatLogLockWaits); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the batch failed", 0, func() bool { return h.stats().LastError != "" })
	release()
	h.waitFor("everything written", 0, func() bool { return countRows(t, pool, "") == n })
	checkSequence(t, seqsInIDOrder(t, pool, "failed"), n)
}

// burstBehindLockedBatch locks daz_core_chat_log, sends the first batch
// events of stream name and waits until that batch, out from memory, waits
// on the lock; then it sends the rest up to n, which the budget sends to
// the overflow file. release lets the batch through.
func burstBehindLockedBatch(t *testing.T, h *harness, pool *pgxpool.Pool, name string, batch, n int) (release func()) {
	t.Helper()
	release = lockChatLog(t, pool)
	for seq := uint64(1); seq <= uint64(batch); seq++ {
		h.send(floodEvent(t, name, seq, testStart))
	}
	h.waitFor("the first batch waiting on the lock", 0, func() bool { return chatLogLockWaiters(t, pool) > 0 })
	for seq := uint64(batch) + 1; seq <= uint64(n); seq++ {
		h.send(floodEvent(t, name, seq, testStart))
	}
	return release
}
