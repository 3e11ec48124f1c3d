package sqlwriter

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/migrations/pgtest"
)

func TestStopDuringFloodWritesEverything(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	h := startWriter(t, Config{DatabaseURL: dbURL}, false)

	const flood = 5000
	now := time.Now()
	for seq := uint64(1); seq <= flood; seq++ {
		h.send(floodEvent(t, "flood", seq, now))
	}
	h.stop() // poisons the writer behind the flood, as the daemon's shutdown does
	if _, ok := h.sys.Tree().Find(h.id); ok {
		t.Fatal("writer still in the tree after shutdown")
	}
	checkSequence(t, seqsInIDOrder(t, pool, "flood"), flood)
}

func TestSpillFileSurvivesRestart(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	proxy := pgtest.NewFaultProxy(t, dbURL)
	dataDir := t.TempDir()

	// First process: some events get through, then the database goes away
	// and the writer is stopped with events it could not write.
	first := startWriter(t, Config{DatabaseURL: proxy.URL(t, dbURL), DataDir: dataDir, BatchSize: 100}, true)
	seq := uint64(0)
	for range 300 {
		seq++
		first.send(floodEvent(t, "restart", seq, testStart))
	}
	first.waitFor("first events written", 50*time.Millisecond, func() bool { return countRows(t, pool, "") == 300 })
	proxy.Cut()
	for range 750 {
		seq++
		first.send(floodEvent(t, "restart", seq, testStart))
	}
	first.stop()
	if _, err := os.Stat(filepath.Join(dataDir, spillName)); err != nil {
		t.Fatalf("stopping with the database cut left no spill file: %v", err)
	}
	if got := countRows(t, pool, ""); got != 300 {
		t.Fatalf("%d rows while the database was cut, want 300", got)
	}

	// Second process, database reachable: it replays the spill file before
	// anything new.
	second := startWriter(t, Config{DatabaseURL: dbURL, DataDir: dataDir, BatchSize: 100}, true)
	for range 50 {
		seq++
		second.send(floodEvent(t, "restart", seq, testStart))
	}
	var lastCount int
	var lastStats Stats
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last seen: %d rows, writer %+v", lastCount, lastStats)
		}
	})
	second.waitFor("spill replayed", 50*time.Millisecond, func() bool {
		lastCount, lastStats = countRows(t, pool, ""), second.stats()
		return lastCount == int(seq)
	})
	checkSequence(t, seqsInIDOrder(t, pool, "restart"), int(seq))
	second.waitFor("spill file removed", 0, func() bool { return second.stats().Spilled == 0 })
	if _, err := os.Stat(filepath.Join(dataDir, spillName)); !os.IsNotExist(err) {
		t.Fatalf("spill file still there after the replay: %v", err)
	}
}
