package sqlwriter

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/migrations/pgtest"

	"github.com/daz-bot/daz/actors/internal/testpg"
)

// A row PostgreSQL refuses even though the writer made it safe (here: a
// CHECK constraint the writer knows nothing about) is isolated from its
// batch and stored in quarantined form; its neighbours are stored normally
// and in order.
func TestRejectedRowIsQuarantinedNotDropped(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	if _, err := pool.Exec(context.Background(),
		`ALTER TABLE daz_core_chat_log ADD CONSTRAINT test_refuses CHECK (message IS DISTINCT FROM 'refused by the database')`); err != nil {
		t.Fatal(err)
	}
	metrics := &Metrics{}
	h := startWriter(t, Config{DatabaseURL: dbURL, BatchSize: 5, Metrics: metrics}, true)

	for seq := uint64(1); seq <= 5; seq++ {
		msg := "fine"
		if seq == 3 {
			msg = "refused by the database"
		}
		h.send(decoded(t, "q", seq, testStart, "chatMsg", chatPayload("alice", msg, int64(1000+seq))))
	}
	h.waitFor("batch stored", 0, func() bool { return countRows(t, pool, "") == 5 })
	checkSequence(t, seqsInIDOrder(t, pool, "q"), 5)
	var meta []byte
	var msg *string
	if err := pool.QueryRow(context.Background(),
		`SELECT message, metadata FROM daz_core_chat_log WHERE (metadata->>'quarantined')::bool`).Scan(&msg, &meta); err != nil {
		t.Fatalf("no quarantined row: %v", err)
	}
	var m struct {
		Error     string `json:"error"`
		RecordB64 string `json:"record_b64"`
	}
	if err := json.Unmarshal(meta, &m); err != nil {
		t.Fatal(err)
	}
	line, err := base64.StdEncoding.DecodeString(m.RecordB64)
	if err != nil {
		t.Fatal(err)
	}
	rec, ok := decodeSpillLine(line, testStart)
	if !ok || rec.Message != "refused by the database" || msg != nil || !strings.Contains(m.Error, "test_refuses") {
		t.Fatalf("quarantined row: message %v, error %q, record %+v", deref(msg), m.Error, rec)
	}
	// The row commits before the writer's actor hears back and counts it.
	actortest.CheckFor(t, 5*time.Second, "the quarantined row counted", func() bool { return metrics.Quarantined.Load() >= 1 })
	if got := metrics.Quarantined.Load(); got != 1 {
		t.Fatalf("metrics quarantined = %d", got)
	}
}

// When the spill file may not grow, events stay in memory beyond the limit:
// the writer says so loudly, counts it, and still writes everything once
// the database is back.
func TestSpillLimitKeepsEventsInMemory(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	proxy := pgtest.NewFaultProxy(t, dbURL)
	dataDir := t.TempDir()
	metrics := &Metrics{}
	h := startWriter(t, Config{
		DatabaseURL: proxy.URL(t, dbURL), DataDir: dataDir, BatchSize: 10, MaxBufferedEvents: 20,
		MaxSpillBytes: 1, Metrics: metrics, RetryBase: time.Second, RetryMax: time.Second,
	}, true)

	proxy.Cut()
	for seq := uint64(1); seq <= 200; seq++ {
		h.send(floodEvent(t, "limit", seq, h.clk.Now()))
		h.clk.Advance(10 * time.Millisecond)
	}
	h.waitFor("limit reached and counted", 0, func() bool {
		return metrics.OverLimit.Load() > 0 && h.stats().Buffered == 200
	})
	if _, err := os.Stat(filepath.Join(dataDir, spillName)); !os.IsNotExist(err) {
		t.Fatalf("spill file written past its cap: %v", err)
	}
	proxy.Restore()
	h.waitFor("everything written", 200*time.Millisecond, func() bool { return countRows(t, pool, "") == 200 })
	checkSequence(t, seqsInIDOrder(t, pool, "limit"), 200)
}
