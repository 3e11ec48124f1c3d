package sqlwriter

import (
	"errors"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations/pgtest"
)

func TestSQLRequestRoundTrips(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	h := startWriter(t, Config{DatabaseURL: dbURL}, true)

	exec := func(id uint64, q string, args ...any) *messages.SQLResponse {
		t.Helper()
		resp := h.request(&messages.SQLRequest{ID: id, Kind: messages.SQLExec, Query: q, Args: args})
		if resp.ID != id {
			t.Fatalf("answer to request %d carries id %d", id, resp.ID)
		}
		return resp
	}
	query := func(id uint64, q string, args ...any) *messages.SQLResponse {
		t.Helper()
		return h.request(&messages.SQLRequest{ID: id, Kind: messages.SQLQuery, Query: q, Args: args})
	}

	if r := exec(1, `CREATE TABLE notes (id serial PRIMARY KEY, who text NOT NULL, body text NOT NULL)`); r.Err != nil {
		t.Fatalf("create: %v", r.Err)
	}
	// Two commands in one request are refused whatever the kind, also
	// without arguments (where pgx alone would use the simple protocol).
	for i, kind := range []messages.SQLKind{messages.SQLExec, messages.SQLQuery} {
		r := h.request(&messages.SQLRequest{ID: uint64(2 + i), Kind: kind, Query: `SELECT 1; DROP TABLE notes`})
		if r.Err == nil {
			t.Fatalf("kind %d: a two-command request was accepted", kind)
		}
	}
	if r := query(4, `SELECT count(*) FROM notes`); r.Err != nil {
		t.Fatalf("notes table gone after a refused two-command request: %v", r.Err)
	}
	hostile := "'); DROP TABLE notes; --"
	for i, who := range []string{"alice", "bob", "carol"} {
		r := exec(uint64(10+i), `INSERT INTO notes (who, body) VALUES ($1, $2)`, who, hostile)
		if r.Err != nil || r.RowsAffected != 1 {
			t.Fatalf("insert %s: affected %d, %v", who, r.RowsAffected, r.Err)
		}
	}
	if r := exec(20, `UPDATE notes SET body = $1 WHERE who <> $2`, "edited", "alice"); r.Err != nil || r.RowsAffected != 2 {
		t.Fatalf("update: affected %d, %v", r.RowsAffected, r.Err)
	}
	if r := exec(21, `DELETE FROM notes WHERE who = $1`, "carol"); r.Err != nil || r.RowsAffected != 1 {
		t.Fatalf("delete: affected %d, %v", r.RowsAffected, r.Err)
	}
	r := query(30, `SELECT who, body FROM notes ORDER BY who`)
	if r.Err != nil {
		t.Fatalf("select: %v", r.Err)
	}
	if len(r.Columns) != 2 || r.Columns[0] != "who" || r.Columns[1] != "body" {
		t.Fatalf("columns %v", r.Columns)
	}
	want := [][]any{{"alice", hostile}, {"bob", "edited"}}
	if len(r.Rows) != len(want) {
		t.Fatalf("rows %v, want %v", r.Rows, want)
	}
	for i := range want {
		for j := range want[i] {
			if r.Rows[i][j] != want[i][j] {
				t.Fatalf("row %d = %v, want %v", i, r.Rows[i], want[i])
			}
		}
	}

	// Text smuggled into the statement cannot add a second command.
	if r := query(40, `SELECT 1; DROP TABLE notes`); r.Err == nil {
		t.Fatal("two statements in one request were accepted")
	}
	if r := query(41, `SELECT count(*) FROM notes`); r.Err != nil || r.Rows[0][0] != int64(2) {
		t.Fatalf("notes after the smuggling attempt: %v, %v", r.Rows, r.Err)
	}
	// A bad statement is an error about the statement, not an outage.
	r = query(42, `SELECT * FROM no_such_table`)
	if r.Err == nil || errors.Is(r.Err, messages.ErrDatabaseUnavailable) {
		t.Fatalf("missing table: %v", r.Err)
	}
	if !h.stats().DBUp {
		t.Fatal("a bad statement marked the database down")
	}
}

func TestSQLRequestAnswersUnavailableWhileDatabaseIsCut(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	proxy := pgtest.NewFaultProxy(t, dbURL)
	h := startWriter(t, Config{DatabaseURL: proxy.URL(t, dbURL), RetryBase: time.Second, RetryMax: time.Second}, true)
	ping := &messages.SQLRequest{ID: 1, Kind: messages.SQLQuery, Query: `SELECT 1`}

	if r := h.request(ping); r.Err != nil {
		t.Fatalf("request before the cut: %v", r.Err)
	}
	proxy.Cut()
	r := h.request(&messages.SQLRequest{ID: 2, Kind: messages.SQLQuery, Query: `SELECT 1`})
	if !errors.Is(r.Err, messages.ErrDatabaseUnavailable) {
		t.Fatalf("request during the cut: %v, want ErrDatabaseUnavailable", r.Err)
	}
	h.waitFor("writer knows the database is down", 0, func() bool { return !h.stats().DBUp })
	// Now answered by the actor itself, without trying the database.
	r = h.request(&messages.SQLRequest{ID: 3, Kind: messages.SQLExec, Query: `DELETE FROM daz_core_chat_log`})
	if !errors.Is(r.Err, messages.ErrDatabaseUnavailable) || r.ID != 3 {
		t.Fatalf("request while known down: id %d, %v", r.ID, r.Err)
	}

	proxy.Restore()
	h.waitFor("retry finds the database back", 500*time.Millisecond, func() bool { return h.stats().DBUp })
	if r := h.request(ping); r.Err != nil {
		t.Fatalf("request after the restore: %v", r.Err)
	}
}

// A batch stuck behind a table lock must not hold up requests: they run on
// their own connections.
func TestSQLRequestDoesNotWaitBehindSlowFlush(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	h := startWriter(t, Config{DatabaseURL: dbURL, BatchSize: 1}, true)

	release := lockChatLog(t, pool)
	h.send(floodEvent(t, "locked", 1, testStart))
	h.waitFor("the batch is waiting for the lock", 0, func() bool { return chatLogLockWaiters(t, pool) > 0 })
	r := h.request(&messages.SQLRequest{ID: 1, Kind: messages.SQLQuery, Query: `SELECT 40 + $1::int`, Args: []any{2}})
	if r.Err != nil || r.Rows[0][0] != int32(42) {
		t.Fatalf("request behind a blocked batch: %v, %v", r.Rows, r.Err)
	}
	release()
	h.waitFor("batch written once the lock is gone", 0, func() bool { return countRows(t, pool, "") == 1 })
}

// Fifty channels starting together send their plugins' start-up statements
// at once, far more than the workers' channel holds; every one must be run,
// none refused as "overloaded" (issue 9: command registrations were lost).
func TestStartUpBurstOfManyChannelsIsNeverRefused(t *testing.T) {
	t.Parallel()
	const channels, perChannel = 50, 40
	dbURL := testpg.NewMigrated(t)
	h := startWriter(t, Config{DatabaseURL: dbURL}, false)
	if r := h.request(&messages.SQLRequest{ID: 1, Kind: messages.SQLExec,
		Query: `CREATE TABLE registrations (channel int, cmd int, PRIMARY KEY (channel, cmd))`}); r.Err != nil {
		t.Fatalf("create: %v", r.Err)
	}

	futures := make([]*actor.Future, 0, channels*perChannel)
	for c := range channels {
		for i := range perChannel {
			req := &messages.SQLRequest{ID: uint64(c*perChannel + i + 10), Kind: messages.SQLExec,
				Query: `INSERT INTO registrations (channel, cmd) VALUES ($1, $2)
					ON CONFLICT (channel, cmd) DO UPDATE SET cmd = excluded.cmd`,
				Args: []any{c, i}}
			futures = append(futures, h.sys.Root().RequestFuture(h.pid, req, 30*time.Second))
		}
	}
	refused := 0
	for _, f := range futures {
		res, err := f.Result()
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		if resp := res.(*messages.SQLResponse); resp.Err != nil {
			if refused == 0 {
				t.Errorf("request %d: %v", resp.ID, resp.Err)
			}
			refused++
		}
	}
	if refused > 0 {
		t.Fatalf("%d of %d start-up requests refused", refused, len(futures))
	}
	r := h.request(&messages.SQLRequest{ID: 2, Kind: messages.SQLQuery, Query: `SELECT count(*) FROM registrations`})
	if r.Err != nil || r.Rows[0][0] != int64(channels*perChannel) {
		t.Fatalf("registrations stored: %v, %v; want %d", r.Rows, r.Err, channels*perChannel)
	}
}

// A request still waiting for a worker when its sender's deadline passed is
// answered as unavailable instead of being run for a sender that gave up.
func TestSQLRequestWaitingPastItsDeadlineIsAnsweredUnavailable(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	h := startWriter(t, Config{DatabaseURL: dbURL, RequestWorkers: 1, RequestQueue: 1, RequestTimeout: 5 * time.Second}, true)
	release := lockChatLog(t, pool)
	ask := func(id uint64, q string) *actor.Future {
		return h.sys.Root().RequestFuture(h.pid, &messages.SQLRequest{ID: id, Kind: messages.SQLQuery, Query: q,
			Patience: 5 * time.Second}, 20*time.Second)
	}
	blocked := ask(1, `SELECT count(*) FROM daz_core_chat_log`)
	h.waitFor("the first request waits for the lock", 0, func() bool { return chatLogLockWaiters(t, pool) > 0 })
	inChannel, late := ask(2, `SELECT 2`), ask(3, `SELECT 3`)
	h.waitFor("the third request waits in the actor", 0, func() bool { return h.stats().Waiting == 1 })
	h.clk.Advance(6 * time.Second)
	release()
	for i, f := range []*actor.Future{blocked, inChannel} {
		res, err := f.Result()
		if err != nil || res.(*messages.SQLResponse).Err != nil {
			t.Fatalf("request %d: %v %v", i+1, res, err)
		}
	}
	res, err := late.Result()
	if err != nil {
		t.Fatal(err)
	}
	if r := res.(*messages.SQLResponse); !errors.Is(r.Err, messages.ErrDatabaseUnavailable) {
		t.Fatalf("request that waited past its deadline: %v, want ErrDatabaseUnavailable", r.Err)
	}
}
