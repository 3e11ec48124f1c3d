package connection_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/internal/testutil"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
)

func standardRig(t *testing.T, opts sandbox.Options, retry supervision.RetryConfig) (*sandbox.Server, *Rig) {
	t.Helper()
	srv := sandboxtest.Start(t, opts)
	rig := NewRig(t, RigConfig{
		Conn:  connection.Config{Channel: "testchan", ServerURL: srv.URL(), Username: "dazbot", Password: "pw"},
		Retry: retry,
	})
	return srv, rig
}

// alive proves the connection handled everything queued before it and is
// still online: a send answered without error went through its mailbox
// after every earlier timer message.
func alive(t *testing.T, rig *Rig) {
	t.Helper()
	if res := rig.Request(t, &messages.SendChat{Msg: "still here"}); res.Err != nil {
		t.Fatalf("connection not online: %v", res.Err)
	}
}

// A link without server pings for pingInterval+pingTimeout is dead; a ping
// moves the deadline; the strategy then reconnects.
func TestNoPingForIntervalPlusTimeoutReconnects(t *testing.T) {
	t.Parallel()
	// The sandbox pings only when told (sandboxtest sets ManualPings).
	srv, rig := standardRig(t, sandbox.Options{PingInterval: 25 * time.Second, PingTimeout: 120 * time.Second},
		supervision.RetryConfig{})
	rig.WaitState(t, messages.StateOnline, 1)
	start := rig.Clock.Now()

	rig.AdvanceTo(start.Add(100 * time.Second))
	srv.PingAll()
	if err := srv.Socket(1).WaitPongs(1, wait); err != nil {
		t.Fatalf("no pong: %v", err)
	}
	// The first deadline (open + 145 s) finds a ping 45 s old: still alive.
	rig.AdvanceTo(start.Add(145 * time.Second))
	alive(t, rig)
	// Media or chat is not a sign of life.
	srv.Broadcast(`42["mediaUpdate",{"currentTime":12.5,"paused":false}]`)
	srv.Broadcast(sandboxtest.ChatFrame("alice", "hello?", 1795718600000))
	testutil.CheckFor(t, wait, "media and chat read", func() bool {
		return len(rig.Sink.Named("mediaUpdate")) == 1 && len(rig.Sink.Named("chatMsg")) >= 1
	})
	rig.AdvanceTo(start.Add(245*time.Second - time.Millisecond))
	alive(t, rig)
	if srv.Connections() != 1 {
		t.Fatalf("reconnected before the link was dead")
	}
	rig.AdvanceTo(start.Add(245 * time.Second)) // ping at 100 s + 145 s

	backoff := rig.WaitState(t, messages.StateBackingOff, 1)
	if !strings.Contains(backoff.LastError, string(connection.KindDeadLink)) {
		t.Fatalf("backing off because %q, want a dead link", backoff.LastError)
	}
	rig.AdvanceTo(backoff.Until)
	testutil.CheckFor(t, wait, "second connection", func() bool { return srv.Connections() == 2 })
	rig.WaitState(t, messages.StateOnline, 2)
}

// Sends answer with a SendResult: an error before the connection is online,
// nil once the frame is written.
func TestSendResultBeforeAndAfterOnline(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	srv, rig := standardRig(t, sandbox.Options{Hooks: sandbox.Hooks{AfterJoin: func(*sandbox.Socket) { <-gate }}},
		supervision.RetryConfig{})
	testutil.CheckFor(t, wait, "joining", func() bool { return rig.CountStates(messages.StateLoggingIn) == 1 })
	if res := rig.Request(t, &messages.SendChat{Msg: "too early"}); !errors.Is(res.Err, connection.ErrNotOnline) {
		t.Fatalf("send before online: err = %v, want ErrNotOnline", res.Err)
	}
	if res := rig.Request(t, &messages.SendChat{Channel: "otherchan", Msg: "wrong channel"}); res.Err == nil {
		t.Fatal("send for another channel was accepted")
	}
	close(gate)
	rig.WaitState(t, messages.StateOnline, 1)
	if res := rig.Request(t, &messages.SendEvent{Name: "requestBanlist"}); res.Err != nil {
		t.Fatalf("send event: %v", res.Err)
	}
	if res := rig.Request(t, &messages.SendPM{To: "alice", Msg: `<b>&"'`}); res.Err != nil {
		t.Fatalf("send pm: %v", res.Err)
	}
	conn := srv.Socket(1)
	testutil.CheckFor(t, wait, "frames at the server", func() bool {
		got := conn.Received()
		return contains(got, `42["requestBanlist"]`) && contains(got, `42["pm",{"to":"alice","msg":"<b>&\"'","meta":{}}]`)
	})
	for _, f := range conn.Received() {
		if strings.Contains(f, "too early") || strings.Contains(f, "wrong channel") {
			t.Fatalf("refused send reached the server: %s", f)
		}
	}
}
