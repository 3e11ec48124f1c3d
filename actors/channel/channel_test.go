package channel

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/sqlwriter"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
)

// stateLog collects ConnectionStates from any goroutine.
type stateLog struct {
	mu     sync.Mutex
	states []messages.ConnectionState
}

func (l *stateLog) add(st *messages.ConnectionState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states = append(l.states, *st)
}

func (l *stateLog) all() []messages.ConnectionState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]messages.ConnectionState(nil), l.states...)
}

func (l *stateLog) count(phase messages.ConnState) int {
	n := 0
	for _, st := range l.all() {
		if st.State == phase {
			n++
		}
	}
	return n
}

// TestEachConnectionStateReachesTheChannelOnce: every state change is
// published once and reaches the channel actor once, and each login is
// confirmed to the retry strategy exactly once — across a kick and the
// reconnect that follows.
func TestEachConnectionStateReachesTheChannelOnce(t *testing.T) {
	t.Parallel()
	const name = "once"
	sb := sandboxtest.Start(t, sandbox.Options{Channels: []string{name}})

	sys := actorkit.NewSystem(actortest.Logger(t, slog.LevelError), clock.Real())
	published, heard := &stateLog{}, &stateLog{}
	unsubscribe := sys.SubscribeFunc(func(m any) {
		if st, ok := m.(*messages.ConnectionState); ok && st.Channel == name {
			published.add(st)
		}
	})
	t.Cleanup(unsubscribe)
	writer, err := sys.Root().SpawnNamed(sqlwriter.Props(sys, sqlwriter.Config{
		DatabaseURL: testpg.NewMigrated(t), DataDir: t.TempDir(), Clock: clock.Real(), Logger: sys.Logger(),
	}), "sqlwriter")
	if err != nil {
		t.Fatal(err)
	}
	retry := supervision.DefaultRetryConfig()
	retry.Base, retry.Jitter = 20*time.Millisecond, 0
	props, strategy, err := newProps(sys, Config{
		Channel: name, ServerURL: sb.URL(), Username: "dazbot", Password: "pw",
		SQL: writer, Retry: retry, DataDir: t.TempDir(), Version: "test",
		heard: heard.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Root().SpawnNamed(props, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for _, id := range []string{name, "sqlwriter"} {
			if err := sys.Shutdown(ctx, id); err != nil {
				t.Errorf("shutdown %s: %v", id, err)
			}
		}
	})

	const wait = 10 * time.Second
	online := func(attempt int) func() bool {
		return func() bool {
			for _, st := range heard.all() {
				if st.State == messages.StateOnline && st.Attempt == attempt {
					return true
				}
			}
			return false
		}
	}
	actortest.CheckFor(t, wait, "first login", online(1))
	if err := sb.Kick(name, "dazbot", "testing the state path"); err != nil {
		t.Fatal(err)
	}
	// The kick resets nothing: the reconnect is attempt 2 of a new round.
	actortest.CheckFor(t, wait, "second login", online(2))

	// A sentinel published now reaches the channel after everything
	// published before it; up to it, both lists must match one for one.
	const sentinel messages.ConnState = "sentinel"
	sys.Publish(&messages.ConnectionState{Channel: name, State: sentinel})
	actortest.CheckFor(t, wait, "channel caught up", func() bool { return heard.count(sentinel) == 1 })
	upTo := func(l []messages.ConnectionState) []messages.ConnectionState {
		for i, st := range l {
			if st.State == sentinel {
				return l[:i]
			}
		}
		return l
	}
	pub, got := upTo(published.all()), upTo(heard.all())
	if len(got) != len(pub) {
		t.Fatalf("the channel heard %d states for %d published:\nheard     %v\npublished %v", len(got), len(pub), got, pub)
	}
	for i := range pub {
		if got[i].State != pub[i].State || got[i].Attempt != pub[i].Attempt {
			t.Fatalf("state %d: heard %s (attempt %d), published %s (attempt %d)",
				i, got[i].State, got[i].Attempt, pub[i].State, pub[i].Attempt)
		}
	}
	if n := published.count(messages.StateBackingOff); n != 1 {
		t.Fatalf("%d backing-off states for one kick: %v", n, pub)
	}
	if n := strategy.LoginConfirmations(); n != 2 {
		t.Fatalf("LoginConfirmed called %d times for 2 logins", n)
	}
}
