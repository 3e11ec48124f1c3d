package sqlwriter

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/messages"
)

// testStart is the fake clock's starting time in every test.
var testStart = time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)

// testLogger sends log lines to t.Log until the test's cleanups run, so a
// writer goroutine logging late cannot make the test panic.
func testLogger(t testing.TB) *slog.Logger { return actortest.Logger(t, slog.LevelInfo) }

// harness is one writer under test with the system it runs in.
type harness struct {
	t   testing.TB
	sys *actorkit.System
	clk *clock.Fake // nil when the system runs on the real clock
	pid *actor.PID
	id  string
	cfg Config
}

// startWriter spawns a writer; with fake set the system and the writer run
// on a fake clock. The writer is shut down when the test ends, before its
// database is dropped.
func startWriter(t testing.TB, cfg Config, fake bool) *harness {
	t.Helper()
	h := &harness{t: t}
	var clk clock.Clock
	if fake {
		h.clk = clock.NewFake(testStart)
		clk = h.clk
	}
	h.sys = actorkit.NewSystem(testLogger(t), clk)
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	h.cfg = cfg
	h.spawn()
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *harness) spawn() {
	h.t.Helper()
	pid, err := h.sys.Root().SpawnNamed(Props(h.sys, h.cfg), "sqlwriter")
	if err != nil {
		h.t.Fatalf("spawn writer: %v", err)
	}
	h.pid, h.id = pid, pid.Id
}

// stop shuts the writer down the way the daemon does.
func (h *harness) stop() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.sys.Shutdown(ctx, h.id); err != nil {
		h.t.Errorf("shutdown writer: %v", err)
	}
}

func (h *harness) send(ev *messages.Event) { h.sys.Send(h.pid, ev) }

// stats returns what the writer last published on the tree.
func (h *harness) stats() Stats {
	h.t.Helper()
	st, ok := h.sys.Tree().State(h.id)
	if !ok {
		h.t.Fatalf("writer %s not in the tree", h.id)
	}
	s, _ := st.(Stats)
	return s
}

// waitFor polls cond; on a fake clock it also moves time forward a little
// each round so flush and retry timers fire.
func (h *harness) waitFor(what string, step time.Duration, cond func() bool) {
	h.t.Helper()
	actortest.CheckFor(h.t, 60*time.Second, what, func() bool {
		if cond() {
			return true
		}
		if h.clk != nil && step > 0 {
			h.clk.Advance(step)
		}
		return false
	})
}

// request sends an SQLRequest and waits for its answer.
func (h *harness) request(req *messages.SQLRequest) *messages.SQLResponse {
	h.t.Helper()
	res, err := h.sys.Root().RequestFuture(h.pid, req, 20*time.Second).Result()
	if err != nil {
		h.t.Fatalf("sql request %d: no answer: %v", req.ID, err)
	}
	resp, ok := res.(*messages.SQLResponse)
	if !ok {
		h.t.Fatalf("sql request %d: answer is %T", req.ID, res)
	}
	return resp
}

// decoded builds an event the way the connection does, through the frame
// decoder, from a payload value or raw JSON bytes.
func decoded(t testing.TB, channel string, seq uint64, received time.Time, name string, payload any) *messages.Event {
	t.Helper()
	var raw json.RawMessage
	switch p := payload.(type) {
	case nil:
	case []byte:
		raw = p
	case json.RawMessage:
		raw = p
	default:
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal %s payload: %v", name, err)
		}
		raw = b
	}
	ev, _ := frame.DecodeEvent(channel, seq, received, name, raw)
	return ev
}

// chatPayload is a chatMsg as CyTube broadcasts it.
func chatPayload(user, msg string, timeMs int64) map[string]any {
	return map[string]any{"username": user, "msg": msg, "meta": map[string]any{}, "time": timeMs}
}

func countRows(t testing.TB, pool *pgxpool.Pool, where string, args ...any) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM daz_core_chat_log"
	if where != "" {
		q += " WHERE " + where
	}
	if err := pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("count rows (%s): %v", where, err)
	}
	return n
}

// seqsInIDOrder returns metadata.seq of a channel's rows ordered by id.
func seqsInIDOrder(t testing.TB, pool *pgxpool.Pool, channel string) []int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT (metadata->>'seq')::bigint FROM daz_core_chat_log WHERE channel = $1 ORDER BY id`, channel)
	if err != nil {
		t.Fatalf("query seqs: %v", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("scan seq: %v", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read seqs: %v", err)
	}
	return out
}

// checkSequence fails unless got is exactly 1..n.
func checkSequence(t testing.TB, got []int64, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d rows, want %d", len(got), n)
	}
	for i, s := range got {
		if s != int64(i+1) {
			t.Fatalf("row %d (by id) has seq %d, want %d: rows are missing, doubled or out of order", i+1, s, i+1)
		}
	}
}

// floodEvent is event number seq of a synthetic stream: mostly chat lines
// (which carry a dedup key) with presence and count events in between
// (which do not), so both kinds of rows are exercised.
func floodEvent(t testing.TB, channel string, seq uint64, received time.Time) *messages.Event {
	t.Helper()
	switch seq % 5 {
	case 3:
		return decoded(t, channel, seq, received, "usercount", seq)
	case 4:
		return decoded(t, channel, seq, received, "addUser", map[string]any{
			"name": fmt.Sprintf("viewer%d", seq), "rank": 0,
			"profile": map[string]any{"image": "", "text": ""}, "meta": map[string]any{"afk": false, "muted": false}})
	}
	return decoded(t, channel, seq, received, "chatMsg",
		chatPayload(fmt.Sprintf("user%d", seq%7), fmt.Sprintf("line %d", seq), received.UnixMilli()+int64(seq)))
}

// lockChatLog holds daz_core_chat_log's ACCESS EXCLUSIVE lock in a
// transaction, so the writer's batches (and queries on the table) wait until
// release is called; the test's end releases it too.
func lockChatLog(t testing.TB, pool *pgxpool.Pool) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, `LOCK TABLE daz_core_chat_log IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// chatLogLockWaits selects the sessions of the test's own database that wait
// for a lock on daz_core_chat_log (databases cloned from one template share
// the table's OID, so the database is part of the match).
const chatLogLockWaits = `FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND c.relname = 'daz_core_chat_log' AND NOT l.granted`

// chatLogLockWaiters counts the sessions waiting for daz_core_chat_log's lock.
func chatLogLockWaiters(t testing.TB, pool *pgxpool.Pool) int {
	t.Helper()
	var waiting int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) `+chatLogLockWaits).Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	return waiting
}
