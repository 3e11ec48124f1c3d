package channelreg

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
)

// watchChannels follows daz_channels alone, as the daemon's listener does
// among its other channels.
func watchChannels(ctx context.Context, databaseURL string, clk clock.Clock, logger *slog.Logger, onChange func()) error {
	return Follow(ctx, databaseURL, clk, logger, map[string]func(){NotifyChannel: onChange})
}

// seen is what a daemon would do in onChange: read the table again.
type seen struct {
	mu    sync.Mutex
	calls int
	names []string
}

func (s *seen) snapshot() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, s.names
}

func (s *seen) has(name string) bool {
	_, names := s.snapshot()
	return slices.Contains(names, name)
}

func startWatch(t *testing.T, dbURL string, store *Store, clk clock.Clock) *seen {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &seen{}
	done := make(chan error, 1)
	go func() {
		done <- watchChannels(ctx, dbURL, clk, actortest.Logger(t, slog.LevelDebug), func() {
			list, err := store.List(ctx)
			if err != nil {
				return // ctx ended, or the database is away: the next call reads again
			}
			var names []string
			for _, c := range list {
				names = append(names, c.Name)
			}
			s.mu.Lock()
			s.calls++
			s.names = names
			s.mu.Unlock()
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow: %v", err)
		}
	})
	return s
}

// listenerPID finds the listener's connection by its application_name.
func listenerPID(t *testing.T, store *Store) int {
	t.Helper()
	var pid int
	err := store.pool.QueryRow(t.Context(), `
		SELECT COALESCE(max(pid), 0) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, ListenerApplicationName).Scan(&pid)
	if err != nil {
		t.Fatalf("find listener: %v", err)
	}
	return pid
}

func TestWatchReportsChangesFromAnyClient(t *testing.T) {
	t.Parallel()
	dbURL, pool := migrated(t)
	store := NewStore(pool)
	if err := store.Add(t.Context(), Channel{Name: "before", ServerURL: "https://cytu.be"}); err != nil {
		t.Fatal(err)
	}
	s := startWatch(t, dbURL, store, clock.Real())
	// The call after connecting reads what was there before.
	actortest.CheckFor(t, 30*time.Second, "the first read", func() bool { return s.has("before") })
	actortest.CheckFor(t, 30*time.Second, "the listener in pg_stat_activity", func() bool { return listenerPID(t, store) != 0 })

	// Plain SQL on another connection, as psql would do it.
	if _, err := pool.Exec(t.Context(), `INSERT INTO daz_channels (name, server_url, source) VALUES ('bypsql', 'https://cytu.be', 'cli')`); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 30*time.Second, "the insert reported", func() bool { return s.has("bypsql") })
	if _, err := store.Remove(t.Context(), "before"); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 30*time.Second, "the delete reported", func() bool { return !s.has("before") })
}

// The listener's connection is killed; a change made while it is away is
// lost as a notification but still reported by the call after reconnecting,
// and notifications flow again afterwards.
func TestWatchReconnectsAndRereads(t *testing.T) {
	t.Parallel()
	dbURL, pool := migrated(t)
	store := NewStore(pool)
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := startWatch(t, dbURL, store, clk)
	actortest.CheckFor(t, 30*time.Second, "the first read", func() bool { c, _ := s.snapshot(); return c >= 1 })
	var pid int
	actortest.CheckFor(t, 30*time.Second, "the listener in pg_stat_activity", func() bool { pid = listenerPID(t, store); return pid != 0 })

	if _, err := pool.Exec(t.Context(), `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	// The reconnect waits on the fake clock, so nobody listens until the
	// test advances it.
	actortest.CheckFor(t, 30*time.Second, "a reconnect scheduled", func() bool { return len(clk.Pending()) == 1 })
	if got := listenerPID(t, store); got != 0 {
		t.Fatalf("listener %d still connected while waiting to reconnect", got)
	}
	if err := store.Add(t.Context(), Channel{Name: "missed", ServerURL: "https://cytu.be"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(reconnectBase)
	actortest.CheckFor(t, 30*time.Second, "the change made while away reported", func() bool { return s.has("missed") })
	if got := listenerPID(t, store); got == 0 || got == pid {
		t.Fatalf("listener after the reconnect: pid %d (killed %d)", got, pid)
	}

	if err := store.Add(t.Context(), Channel{Name: "after", ServerURL: "https://cytu.be"}); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 30*time.Second, "a change after the reconnect reported", func() bool { return s.has("after") })
}

// A database that is not there yet: the listener keeps trying on the backoff
// schedule instead of giving up, and returns when its context ends.
func TestWatchRetriesAnAbsentDatabase(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- watchChannels(ctx, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", clk, actortest.Logger(t, slog.LevelDebug), func() {
			t.Error("onChange called without a connection")
		})
	}()
	for want := 1; want <= 3; want++ {
		actortest.CheckFor(t, 30*time.Second, "a retry scheduled", func() bool { return len(clk.Pending()) == 1 })
		at := clk.Pending()[0].Sub(clk.Now())
		if exp := clock.Backoff(reconnectBase, reconnectMax, want); at != exp {
			t.Fatalf("retry %d after %v, want %v", want, at, exp)
		}
		clk.Advance(at)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow = %v", err)
	}
	if err := watchChannels(context.Background(), "postgres://x:bad-port/db", clk, nil, func() {}); err == nil {
		t.Fatal("Follow with an unparseable URL returned nil")
	}
}

// Two notification channels share the one listener connection, and each
// notification reaches only its own channel's handler.
func TestFollowServesSeveralChannelsOnOneConnection(t *testing.T) {
	t.Parallel()
	dbURL, pool := migrated(t)
	store := NewStore(pool)
	var mu sync.Mutex
	calls := map[string]int{}
	count := func(name string) func() {
		return func() { mu.Lock(); calls[name]++; mu.Unlock() }
	}
	got := func(name string) int { mu.Lock(); defer mu.Unlock(); return calls[name] }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, dbURL, clock.Real(), actortest.Logger(t, slog.LevelDebug), map[string]func(){
			NotifyChannel: count(NotifyChannel), "daz_test_other": count("daz_test_other"),
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow: %v", err)
		}
	})
	// Each handler is called once after connecting.
	actortest.CheckFor(t, 30*time.Second, "both handlers called after connecting", func() bool {
		return got(NotifyChannel) == 1 && got("daz_test_other") == 1
	})
	var conns int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, ListenerApplicationName).Scan(&conns); err != nil {
		t.Fatal(err)
	}
	if conns != 1 {
		t.Fatalf("%d listener connections, want 1", conns)
	}

	if _, err := pool.Exec(t.Context(), `SELECT pg_notify('daz_test_other', 'x')`); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 30*time.Second, "the other channel's notification handled", func() bool { return got("daz_test_other") == 2 })
	if err := store.Add(t.Context(), Channel{Name: "one", ServerURL: "https://cytu.be"}); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 30*time.Second, "the registry's notification handled", func() bool { return got(NotifyChannel) == 2 })
	if n := got("daz_test_other"); n != 2 {
		t.Fatalf("the registry's notification also called the other handler (%d calls)", n)
	}
}
