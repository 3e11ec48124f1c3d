package connection_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/messages"
)

// closedGate is an Intake that holds every reader until it is opened.
type closedGate struct {
	open    chan struct{}
	waiting atomic.Int32
	sent    atomic.Int32
}

func (g *closedGate) Wait(ctx context.Context) error {
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *closedGate) Sent(*messages.Event) { g.sent.Add(1) }

// While the writer's Intake has no room the reader sends nothing on; once
// it has, every event arrives, in order, each counted once.
func TestReaderWaitsOnTheIntakeBeforeSending(t *testing.T) {
	t.Parallel()
	lines := transcript.MustLoad(t, "chat_and_presence")
	replay := sandboxtest.NewReplay(t, lines, sandboxtest.ReplayOptions{
		AnyOrder: true,
		SkipOut:  func(f string) bool { return f != "41" && f != "40" && !isJoinOrLogin(f) },
	})
	gate := &closedGate{open: make(chan struct{})}
	rig := NewRig(t, RigConfig{Conn: connection.Config{
		Channel: "testchan", ServerURL: replay.URL(), Username: "dazbot", Password: "dazbot-test-pw",
		Intake: gate,
	}})
	actortest.CheckFor(t, wait, "the reader waiting on the intake", func() bool { return gate.waiting.Load() == 1 })
	if n := len(rig.Sink.Events()); n != 0 {
		t.Fatalf("%d events reached the sink while the intake had no room", n)
	}
	close(gate.open)
	// 3 chat lines replayed in the burst, 13 live lines, 1 [server] notice.
	actortest.CheckFor(t, wait, "every chat line in the sink", func() bool { return len(rig.Sink.Named("chatMsg")) == 17 })
	evs := rig.Sink.Events()
	if int(gate.sent.Load()) < len(evs) {
		t.Fatalf("%d events in the sink, %d counted by the intake", len(evs), gate.sent.Load())
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq != evs[i-1].Seq+1 {
			t.Fatalf("event %d has seq %d after %d", i, evs[i].Seq, evs[i-1].Seq)
		}
	}
}
