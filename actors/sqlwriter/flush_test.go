package sqlwriter

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/internal/testpg"
)

func TestBatchSizeFlushesWithoutWaitingAndIntervalFlushesTheRest(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	metrics := &Metrics{}
	h := startWriter(t, Config{DatabaseURL: dbURL, BatchSize: 10, MaxBatch: 10, FlushInterval: time.Second, Metrics: metrics}, true)

	for seq := uint64(1); seq <= 25; seq++ {
		h.send(floodEvent(t, "flush", seq, testStart))
	}
	// The fake clock stands still: only the batch size can start a flush.
	h.waitFor("two full batches written", 0, func() bool { return countRows(t, pool, "") == 20 })
	h.waitFor("the rest waiting in memory", 0, func() bool { return h.stats().Buffered == 5 })
	if got := countRows(t, pool, ""); got != 20 {
		t.Fatalf("%d rows before the flush interval passed, want 20", got)
	}
	h.clk.Advance(time.Second)
	h.waitFor("interval flush", 0, func() bool { return countRows(t, pool, "") == 25 })
	checkSequence(t, seqsInIDOrder(t, pool, "flush"), 25)

	h.waitFor("stats settle", 0, func() bool {
		st := h.stats()
		return st.Buffered == 0 && st.Written == 25 && st.Batches == 3 && st.DBUp
	})
	if got := metrics.RowsWritten.Load(); got != 25 {
		t.Errorf("metrics rows written = %d, want 25", got)
	}
	if got := metrics.EventsByType()["chatMsg"]; got != 15 {
		t.Errorf("metrics chatMsg events = %d, want 15", got)
	}
	if got := metrics.Batches.Load(); got != 3 {
		t.Errorf("metrics batches = %d, want 3", got)
	}
}

func TestRowColumnsAndMetadata(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	h := startWriter(t, Config{DatabaseURL: dbURL, BatchSize: 3}, true)

	received := testStart.Add(1500 * time.Millisecond)
	h.send(decoded(t, "cols", 7, received, "chatMsg", chatPayload("alice", "a &amp; <b>b</b>", 1795718582049)))
	h.send(decoded(t, "cols", 8, received, "pm", map[string]any{
		"username": "alice", "to": "dazbot", "msg": "psst", "meta": map[string]any{}, "time": 1795718583000}))
	h.send(decoded(t, "cols", 9, received, "kick", map[string]any{"reason": "testing kick"}))
	h.waitFor("three rows", 0, func() bool { return countRows(t, pool, "") == 3 })

	type row struct {
		ts, receivedAt   time.Time
		user, msg, dedup *string
		eventType        string
		meta             map[string]any
	}
	read := func(eventType string) row {
		t.Helper()
		var r row
		var meta []byte
		err := pool.QueryRow(context.Background(), `SELECT timestamp, received_at, username, message, dedup_key, event_type, metadata
			FROM daz_core_chat_log WHERE event_type = $1`, eventType).
			Scan(&r.ts, &r.receivedAt, &r.user, &r.msg, &r.dedup, &r.eventType, &meta)
		if err != nil {
			t.Fatalf("read %s row: %v", eventType, err)
		}
		if err := json.Unmarshal(meta, &r.meta); err != nil {
			t.Fatalf("metadata of %s: %v", eventType, err)
		}
		return r
	}

	chat := read("chatMsg")
	if !chat.ts.Equal(time.UnixMilli(1795718582049)) || !chat.receivedAt.Equal(received) {
		t.Errorf("chat timestamp %v received %v: want the server time and the receipt time", chat.ts, chat.receivedAt)
	}
	if chat.user == nil || *chat.user != "alice" || chat.msg == nil || *chat.msg != "a & b" || chat.dedup == nil {
		t.Errorf("chat columns user=%v msg=%v dedup=%v", deref(chat.user), deref(chat.msg), deref(chat.dedup))
	}
	if chat.meta["msg_html"] != "a &amp; <b>b</b>" || chat.meta["seq"] != 7.0 || chat.meta["server_time_ms"] != 1795718582049.0 {
		t.Errorf("chat metadata %v", chat.meta)
	}
	if p, _ := chat.meta["payload"].(map[string]any); p["username"] != "alice" || p["msg"] != "a &amp; <b>b</b>" {
		t.Errorf("chat metadata payload %v", chat.meta["payload"])
	}

	pm := read("pm")
	if pm.meta["to"] != "dazbot" || pm.dedup != nil || deref(pm.msg) != "psst" {
		t.Errorf("pm row: to=%v dedup=%v msg=%v", pm.meta["to"], deref(pm.dedup), deref(pm.msg))
	}

	kick := read("kick")
	if !kick.ts.Equal(received) || kick.user != nil || deref(kick.msg) != "testing kick" {
		t.Errorf("kick row: ts=%v user=%v msg=%v", kick.ts, deref(kick.user), deref(kick.msg))
	}
}

func deref(s *string) string {
	if s == nil {
		return "<NULL>"
	}
	return *s
}

func TestSubscribedWriterLogsPublishedEvents(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	h := startWriter(t, Config{DatabaseURL: dbURL, SubscribeEvents: true, BatchSize: 2}, true)
	h.waitFor("writer started", 0, func() bool { st, _ := h.sys.Tree().State(h.id); return st != nil })
	h.sys.Publish(floodEvent(t, "published", 1, testStart))
	h.sys.Publish("not an event")
	h.sys.Publish(floodEvent(t, "published", 2, testStart))
	h.waitFor("published events logged", 0, func() bool { return countRows(t, pool, "") == 2 })
	checkSequence(t, seqsInIDOrder(t, pool, "published"), 2)
}
