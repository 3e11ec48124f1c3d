package connection_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
)

// Epoch is where rig clocks start.
var Epoch = time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)

// RigConfig sets up a Rig.
type RigConfig struct {
	Conn     connection.Config // Sinks, Clock and Attempts are filled in
	Retry    supervision.RetryConfig
	Store    supervision.RetryStore
	Restore  *supervision.RetryState // applied before the connection starts
	Clock    *clock.Fake             // default: a fake clock at Epoch
	Rand     func() float64          // default: always 0.5
	ParentID string                  // default "channel-" + channel
}

// Rig runs one connection actor the way daz does: under a channel-like
// parent supervised by a supervision.ConnectionStrategy, with a test sink,
// a fake clock and captured logs.
type Rig struct {
	Sys      *actorkit.System
	Clock    *clock.Fake
	Sink     *Sink
	Strategy *supervision.ConnectionStrategy
	Logs     *LogBuffer
	ParentID string
	ConnID   string

	mu     sync.Mutex
	states []messages.ConnectionState
}

// NewRig starts the rig; it is shut down leaf-first when the test ends.
func NewRig(t testing.TB, cfg RigConfig) *Rig {
	t.Helper()
	clk := cfg.Clock
	if clk == nil {
		clk = clock.NewFake(Epoch)
	}
	logs := &LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sys := actorkit.NewSystem(logger, clk)
	r := &Rig{Sys: sys, Clock: clk, Sink: &Sink{}, Logs: logs}
	unsubscribe := sys.SubscribeFunc(func(m any) {
		if st, ok := m.(*messages.ConnectionState); ok {
			r.mu.Lock()
			defer r.mu.Unlock()
			// A rank event while online republishes the online state (the
			// sandbox, like CyTube, sends rank again after login); the
			// tests count comings online, so a repeat is not one.
			if n := len(r.states); n > 0 && st.State == messages.StateOnline && r.states[n-1].State == messages.StateOnline {
				return
			}
			r.states = append(r.states, *st)
		}
	})

	rnd := cfg.Rand
	if rnd == nil {
		rnd = func() float64 { return 0.5 }
	}
	strategy, err := supervision.NewConnectionStrategy(supervision.ConnectionStrategyConfig{
		Channel: cfg.Conn.Channel, Retry: cfg.Retry, System: sys, Store: cfg.Store, Rand: rnd,
	})
	if err != nil {
		t.Fatalf("rig: %v", err)
	}
	if cfg.Restore != nil {
		strategy.Restore(*cfg.Restore)
	}
	r.Strategy = strategy

	sinkPID, err := sys.Root().SpawnNamed(r.Sink.Props(sys), "sink")
	if err != nil {
		t.Fatalf("rig: spawn sink: %v", err)
	}
	conn := cfg.Conn
	conn.Sinks = append(conn.Sinks, sinkPID)
	conn.Clock = clk
	conn.Attempts = strategy
	r.ParentID = cfg.ParentID
	if r.ParentID == "" {
		r.ParentID = "channel-" + conn.Channel
	}
	r.ConnID = r.ParentID + "/connection"
	parent := Parent{
		ChildName:  "connection",
		Child:      connection.Props(sys, conn),
		Supervisor: strategy,
	}
	if _, err := sys.Root().SpawnNamed(parent.Props(sys), r.ParentID); err != nil {
		t.Fatalf("rig: spawn parent: %v", err)
	}
	t.Cleanup(func() {
		r.Stop(t)
		unsubscribe()
	})
	return r
}

// Stop shuts the rig down leaf-first (connection, parent, sink). The
// connection's Stopping closes its socket and waits for its reader. Safe to
// call twice.
func (r *Rig) Stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Sys.Shutdown(ctx, r.ParentID); err != nil {
		t.Errorf("rig: shutdown %s: %v", r.ParentID, err)
	}
	r.Strategy.Close()
	if err := r.Sys.Shutdown(ctx, "sink"); err != nil {
		t.Errorf("rig: shutdown sink: %v", err)
	}
}

// ConnPID is the live connection actor, nil when there is none.
func (r *Rig) ConnPID() *actor.PID {
	pid, _ := r.Sys.Tree().PID(r.ConnID)
	return pid
}

// Request sends msg to the connection and waits for its *messages.SendResult.
func (r *Rig) Request(t testing.TB, msg any) *messages.SendResult {
	t.Helper()
	pid := r.ConnPID()
	if pid == nil {
		t.Fatalf("rig: no connection actor")
	}
	res, err := r.Sys.Root().RequestFuture(pid, msg, 10*time.Second).Result()
	if err != nil {
		t.Fatalf("rig: request %T: %v", msg, err)
	}
	out, ok := res.(*messages.SendResult)
	if !ok {
		t.Fatalf("rig: request %T answered with %T", msg, res)
	}
	return out
}

// States returns every ConnectionState published so far.
func (r *Rig) States() []messages.ConnectionState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]messages.ConnectionState(nil), r.states...)
}

// CountStates counts published states in the given phase.
func (r *Rig) CountStates(phase messages.ConnState) int {
	n := 0
	for _, st := range r.States() {
		if st.State == phase {
			n++
		}
	}
	return n
}

// WaitState waits for the n-th (1-based) published state in phase and
// returns it.
func (r *Rig) WaitState(t testing.TB, phase messages.ConnState, n int) messages.ConnectionState {
	t.Helper()
	var found messages.ConnectionState
	ok := actortest.WaitFor(10*time.Second, func() bool {
		seen := 0
		for _, st := range r.States() {
			if st.State == phase {
				seen++
				if seen == n {
					found = st
					return true
				}
			}
		}
		return false
	})
	if !ok {
		// The path taken is what a failure needs explained.
		var path []string
		for _, st := range r.States() {
			path = append(path, fmt.Sprintf("%s #%d at %s (%s)", st.State, st.Attempt, st.At.Format("15:04:05.000"), st.LastError))
		}
		t.Fatalf("timed out after 10s waiting for state %s #%d; states seen: %s; clock at %s, timers pending at %v",
			phase, n, strings.Join(path, " → "), r.Clock.Now().Format("15:04:05.000"), r.Clock.Pending())
	}
	return found
}

// NodeState is what the connection's tree node shows (the debug endpoint's
// view), ok=false when the node is gone.
func (r *Rig) NodeState() (messages.ConnectionState, bool) {
	v, ok := r.Sys.Tree().State(r.ConnID)
	if !ok {
		return messages.ConnectionState{}, false
	}
	st, ok := v.(messages.ConnectionState)
	return st, ok
}

// AdvanceTo moves the fake clock to t.
func (r *Rig) AdvanceTo(t time.Time) { r.Clock.Set(t) }

// LogBuffer collects log output for assertions.
type LogBuffer = actortest.LogBuffer
