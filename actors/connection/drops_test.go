package connection_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/internal/testutil"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
)

// dropPlan says where one connection of the drop test breaks.
type dropPlan struct {
	stage int // 0 after open, 1 after 40, 2 after the join burst, 3 after login
	lines []string
}

// A server that drops the link 100 times at random points: the bot comes
// back 100 times, every chat line the server sent before a drop is in the
// sink, and nothing is left running afterwards.
//
// Not parallel: goleak compares against the goroutines at the start.
func TestHundredDropsLoseNothingAndLeakNothing(t *testing.T) {
	// The dead-letter throttle is protoactor's own, timed goroutine.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))

	const drops = 100
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	plans := make([]dropPlan, drops)
	loggedIn := 0
	for i := range plans {
		plans[i].stage = rng.IntN(4)
		if plans[i].stage == 3 {
			loggedIn++
		}
		for j := range rng.IntN(5) {
			plans[i].lines = append(plans[i].lines, fmt.Sprintf("socket %d line %d", i+1, j))
		}
	}

	srv := sandboxtest.Start(t, sandbox.Options{Hooks: sandbox.Hooks{
		Script: func(n int) sandbox.SocketScript {
			if n > drops {
				return nil // the sandbox's own protocol
			}
			return func(c *sandbox.Socket) { runDropPlan(c, plans[n-1]) }
		},
	}})
	rig := NewRig(t, RigConfig{
		Conn: connection.Config{Channel: "testchan", ServerURL: srv.URL(), Username: "dazbot", Password: "pw"},
		// One second between attempts and no cooldown within the test.
		Retry: supervision.RetryConfig{Base: time.Second, MaxDelay: time.Second, Attempts: 1000, Cooldown: time.Hour, Jitter: 0.2},
	})

	for i := 1; i <= drops; i++ {
		st := rig.WaitState(t, messages.StateBackingOff, i)
		if st.LastError == "" {
			t.Fatalf("drop %d: backing off without a reason", i)
		}
		rig.AdvanceTo(st.Until)
	}
	testutil.CheckFor(t, wait, "online after the drops", func() bool {
		return rig.CountStates(messages.StateOnline) == loggedIn+1
	})
	if n := srv.Connections(); n != drops+1 {
		t.Fatalf("%d connections, want %d", n, drops+1)
	}

	// Every line any dropped socket sent is in the sink, in order.
	var want []string
	for _, p := range plans {
		want = append(want, p.lines...)
	}
	var got []string
	testutil.CheckFor(t, wait, "every chat line in the sink", func() bool {
		got = got[:0]
		for _, ev := range rig.Sink.Named("chatMsg") {
			got = append(got, ev.Body.(*messages.ChatMsg).Msg)
		}
		return len(got) >= len(want)
	})
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sink chat lines differ from what the server sent\n got %q\nwant %q", got, want)
	}
	rig.Stop(t)
	srv.Close()
}

func runDropPlan(c *sandbox.Socket, p dropPlan) {
	defer func() {
		for _, l := range p.lines {
			_ = c.Send(sandboxtest.ChatFrame("alice", l, 1795718600000))
		}
		c.Drop()
	}()
	if c.Open(25*time.Second, 120*time.Second) != nil || p.stage == 0 {
		return
	}
	if c.AcceptConnect(wait) != nil || p.stage == 1 {
		return
	}
	if _, err := c.ExpectEvent("joinChannel", wait); err != nil {
		return
	}
	_ = c.Emit("userlist", []any{})
	if p.stage == 2 {
		return
	}
	if _, err := c.ExpectEvent("login", wait); err != nil {
		return
	}
	_ = c.Emit("login", map[string]any{"success": true, "name": "dazbot"})
}
