package connection_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/messages"
)

// Against the sandbox at CyTube's connection-rate limit, with the burst used
// up by other sockets from the same address: the bot's 40 gets "Rate limit
// exceeded", it backs off on the normal schedule, and once the server's
// bucket refilled (both sides on one fake clock) it comes online.
func TestConnectionRateLimitOfTheSandbox(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(Epoch)
	srv := sandboxtest.Start(t, sandbox.Options{
		Clock: clk, ConnectBurst: sandbox.CyTubeConnectBurst, ConnectInterval: sandbox.CyTubeConnectInterval,
	})
	for i := range sandbox.CyTubeConnectBurst {
		connectRaw(t, srv, i+1)
	}
	rig := NewRig(t, RigConfig{Clock: clk, Conn: connection.Config{
		Channel: "testchan", ServerURL: srv.URL(), Username: "dazbot", Password: "pw",
	}})
	st := rig.WaitState(t, messages.StateBackingOff, 1)
	if !strings.Contains(st.LastError, string(messages.FailRateLimited)) || !strings.Contains(st.LastError, "Rate limit exceeded") {
		t.Fatalf("backing off because %q, want the rate limit", st.LastError)
	}
	if d := st.Until.Sub(st.At); st.Attempt != 1 || d > 2*time.Second {
		t.Fatalf("not the normal schedule: attempt %d waits %s", st.Attempt, d)
	}
	// Attempts still inside the interval are refused again. Each restart
	// runs at its timer's time (the fake clock stops there while the timer
	// fires), so the clock only ever moves to the next restart: the first
	// one at or past the refill is let in.
	refill := Epoch.Add(sandbox.CyTubeConnectInterval)
	for n := 2; st.Until.Before(refill); n++ {
		// The restart timer must be set before the clock moves to it.
		until := st.Until
		actortest.CheckFor(t, wait, "the restart timer", func() bool {
			p := rig.Clock.Pending()
			return len(p) == 1 && p[0].Equal(until)
		})
		rig.AdvanceTo(until)
		st = rig.WaitState(t, messages.StateBackingOff, n)
		if !strings.Contains(st.LastError, "Rate limit exceeded") {
			t.Fatalf("attempt %d: %q", n, st.LastError)
		}
	}
	until := st.Until
	actortest.CheckFor(t, wait, "the restart timer", func() bool {
		p := rig.Clock.Pending()
		return len(p) == 1 && p[0].Equal(until)
	})
	rig.AdvanceTo(until)
	rig.WaitState(t, messages.StateOnline, 1)
}

// connectRaw opens a socket and connects the namespace, as a browser tab
// would, and keeps it open until the test ends.
func connectRaw(t *testing.T, srv *sandbox.Server, n int) {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL(), "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatalf("socket %d: %v", n, err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() { _ = ws.Close() })
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatalf("socket %d: %v", n, err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("socket %d: no reply to 40: %v", n, err)
		}
		if f := string(data); strings.HasPrefix(f, "40{") {
			return
		} else if strings.HasPrefix(f, "44") {
			t.Fatalf("socket %d refused: %s", n, f)
		}
	}
}
