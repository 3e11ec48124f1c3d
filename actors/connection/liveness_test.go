package connection_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/internal/cytubetest"
	"github.com/daz-bot/daz/actors/internal/testutil"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
)

func standardRig(t *testing.T, st *cytubetest.Standard, retry supervision.RetryConfig) (*cytubetest.Server, *cytubetest.Rig) {
	t.Helper()
	srv := cytubetest.NewServer(t, st.Handle)
	rig := cytubetest.NewRig(t, cytubetest.RigConfig{
		Conn:  connection.Config{Channel: "testchan", ServerURL: srv.URL(), Username: "dazbot", Password: "dazbot-test-pw"},
		Retry: retry,
	})
	return srv, rig
}

// alive proves the connection handled everything queued before it and is
// still online: a send answered without error went through its mailbox
// after every earlier timer message.
func alive(t *testing.T, rig *cytubetest.Rig) {
	t.Helper()
	if res := rig.Request(t, &messages.SendChat{Msg: "still here"}); res.Err != nil {
		t.Fatalf("connection not online: %v", res.Err)
	}
}

// A link without server pings for pingInterval+pingTimeout is dead; a ping
// moves the deadline; the strategy then reconnects.
func TestNoPingForIntervalPlusTimeoutReconnects(t *testing.T) {
	t.Parallel()
	st := &cytubetest.Standard{PingInterval: 25 * time.Second, PingTimeout: 120 * time.Second}
	srv, rig := standardRig(t, st, supervision.RetryConfig{})
	rig.WaitState(t, messages.StateOnline, 1)
	start := rig.Clock.Now()

	rig.AdvanceTo(start.Add(100 * time.Second))
	srv.PingAll()
	if err := srv.Conn(1).WaitPongs(1, wait); err != nil {
		t.Fatalf("no pong: %v", err)
	}
	// The first deadline (open + 145 s) finds a ping 45 s old: still alive.
	rig.AdvanceTo(start.Add(145 * time.Second))
	alive(t, rig)
	// Media or chat is not a sign of life.
	srv.Broadcast(`42["mediaUpdate",{"currentTime":12.5,"paused":false}]`)
	srv.InjectChat("alice", "hello?", 1795718600000)
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
	st := &cytubetest.Standard{AfterJoin: func(*cytubetest.Conn) { <-gate }}
	srv, rig := standardRig(t, st, supervision.RetryConfig{})
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
	conn := srv.Conn(1)
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
