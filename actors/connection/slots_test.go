package connection_test

import (
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/connection/servergate"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/messages"
)

// Two channels, one slot to the server: the second waits without failing,
// takes the slot when the first is kicked, and hands it back when it
// stops; the first, back from its backoff, waits in turn. The sandbox has
// no per-address cap here: it counts a socket until its own reader has
// seen the close, which on a loaded machine can lag behind the next
// connect by more than a real server ever would, so its count is no
// measure of ours; the gate's is (TestGroupSharesChannelsBeyondOneAddressLimit
// and TestOneDaemonKeepsWithinTheServersLimits check a capped sandbox).
func TestConnectionWaitsForASlot(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(Epoch)
	srv := sandboxtest.Start(t, sandbox.Options{Channels: []string{"slota", "slotb"}})
	gate, err := servergate.New(servergate.Config{
		Default: servergate.Limits{MaxConnections: 1, Burst: 100, Interval: time.Millisecond}, Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	rig := func(channel string) *Rig {
		return NewRig(t, RigConfig{Clock: clk, Conn: connection.Config{
			Channel: channel, ServerURL: srv.URL(), Username: "dazbot", Password: "pw", ServerGate: gate,
		}})
	}
	a := rig("slota")
	a.WaitState(t, messages.StateOnline, 1)
	b := rig("slotb")
	st := b.WaitState(t, messages.StateWaitingForSlot, 1)
	if st.Attempt != 1 || !strings.Contains(st.Reason, "1 of 1 connections") {
		t.Fatalf("waiting state %+v", st)
	}
	if node, ok := b.NodeState(); !ok || node.State != messages.StateWaitingForSlot {
		t.Fatalf("the debug tree shows %+v", node)
	}
	if srv.Connections() != 1 {
		t.Fatalf("%d sockets while one channel waits", srv.Connections())
	}

	// A kick fails a's attempt: its slot goes to b at once.
	if err := srv.Kick("slota", "dazbot", "make room"); err != nil {
		t.Fatal(err)
	}
	backoff := a.WaitState(t, messages.StateBackingOff, 1)
	b.WaitState(t, messages.StateOnline, 1)
	// a's next attempt, after its backoff, waits: no failure, no count.
	actortest.CheckFor(t, wait, "a's restart timer", func() bool { return len(clk.Pending()) > 0 })
	clk.Set(backoff.Until)
	st = a.WaitState(t, messages.StateWaitingForSlot, 1)
	if st.Attempt != 2 {
		t.Fatalf("a waits as attempt %d, want 2", st.Attempt)
	}
	if n := b.CountStates(messages.StateBackingOff) + b.CountStates(messages.StateCoolingDown); n != 0 {
		t.Fatalf("b failed %d times while it waited: %+v", n, b.States())
	}

	// b stops: its slot goes back to a.
	b.Stop(t)
	actortest.CheckFor(t, wait, "a online again", func() bool { return a.CountStates(messages.StateOnline) == 2 })
	if u := gate.Usage(srv.URL()); u.Held != 1 || u.Waiting != 0 {
		t.Fatalf("gate after b stopped: %+v", u)
	}

	// A channel that stops while it waits leaves the queue.
	c := rig("slotc")
	c.WaitState(t, messages.StateWaitingForSlot, 1)
	c.Stop(t)
	if u := gate.Usage(srv.URL()); u.Held != 1 || u.Waiting != 0 {
		t.Fatalf("gate after a waiting channel stopped: %+v", u)
	}
}
