package sqlwriter

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// A daemon that starts while PostgreSQL is down hands the writer its
// migrations: nothing is written or answered before the probe finds the
// database and the schema is up, then everything held is written, and the
// recovery is published once for whoever waits on it (the retry-state store).
func TestPrepareRunsOnTheProbeBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	dbURL := testpg.New(t) // no schema yet
	proxy := pgtest.NewFaultProxy(t, dbURL)
	proxy.Cut()
	var prepared atomic.Int32
	metrics := &Metrics{}
	h := startWriter(t, Config{
		Metrics: metrics, DatabaseURL: proxy.URL(t, dbURL), BatchSize: 10,
		Prepare: func(ctx context.Context) error {
			prepared.Add(1)
			_, err := migrations.Up(ctx, dbURL)
			return err
		},
	}, true)
	var mu sync.Mutex
	var states []messages.DatabaseState
	defer h.sys.SubscribeFunc(func(m any) {
		if st, ok := m.(*messages.DatabaseState); ok {
			mu.Lock()
			states = append(states, *st)
			mu.Unlock()
		}
	})()

	now := testStart
	for i := range 3 {
		h.send(decoded(t, "prepchan", uint64(i+1), now, "chatMsg", chatPayload("alice", "held", now.UnixMilli()+int64(i))))
	}
	resp := h.request(&messages.SQLRequest{ID: 1, Kind: messages.SQLQuery, Query: "SELECT 1"})
	if !errors.Is(resp.Err, messages.ErrDatabaseUnavailable) {
		t.Fatalf("a request before the database is prepared: %v, want unavailable", resp.Err)
	}
	h.waitFor("probes while the database is away", 100*time.Millisecond, func() bool { return metrics.WriteFailures.Load() >= 2 })
	if n := prepared.Load(); n != 0 {
		t.Fatalf("Prepare ran %d times without a database", n)
	}

	proxy.Restore()
	pool := testpg.Pool(t, dbURL)
	h.waitFor("held events written once the schema is up", 100*time.Millisecond, func() bool {
		return prepared.Load() == 1 && tableExists(t, pool) && countRows(t, pool, "") == 3
	})
	h.waitFor("recovery published", 100*time.Millisecond, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(states) == 1 && states[0].Up
	})
	if resp := h.request(&messages.SQLRequest{ID: 2, Kind: messages.SQLQuery, Query: "SELECT 1"}); resp.Err != nil {
		t.Fatalf("a request after recovery: %v", resp.Err)
	}
	if n := prepared.Load(); n != 1 {
		t.Fatalf("Prepare ran %d times, want once", n)
	}

	// A later outage is published as down, then up again; Prepare is done.
	proxy.Cut()
	h.send(decoded(t, "prepchan", 4, now, "chatMsg", chatPayload("alice", "later", now.UnixMilli()+10)))
	h.waitFor("outage published", 100*time.Millisecond, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(states) == 2 && !states[1].Up
	})
	proxy.Restore()
	h.waitFor("second recovery", 100*time.Millisecond, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(states) == 3 && states[2].Up && countRows(t, pool, "") == 4
	})
	if n := prepared.Load(); n != 1 {
		t.Fatalf("Prepare ran again after the schema was up: %d", n)
	}
}

func tableExists(t testing.TB, pool *pgxpool.Pool) bool {
	t.Helper()
	var ok bool
	if err := pool.QueryRow(context.Background(), `SELECT to_regclass('daz_core_chat_log') IS NOT NULL`).Scan(&ok); err != nil {
		t.Fatalf("look for the chat log table: %v", err)
	}
	return ok
}
