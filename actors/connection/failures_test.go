package connection_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/internal/testutil"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/messages"
)

// Every way an attempt can fail is a failure of the actor with its kind,
// retried on the normal schedule, and the next attempt starts again with
// discovery.
func TestScriptedFailuresAreRetriedFromDiscovery(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(srv *sandbox.Server)
		// script makes the sandbox misbehave; nil: it behaves.
		hooks sandbox.Hooks
		// advance moves the clock once the attempt is under way.
		advance time.Duration
		kind    connection.Kind
		text    string
		// unreachable: discovery requests cannot be counted.
		unreachable bool
	}{
		{name: "discovery refused", kind: connection.KindDiscovery, text: "HTTP 500",
			setup: func(srv *sandbox.Server) { srv.SetRefuse(true) }},
		{name: "discovery unreachable", kind: connection.KindDiscovery, text: "refused", unreachable: true,
			setup: func(srv *sandbox.Server) { srv.CloseListener() }},
		{name: "discovery without servers", kind: connection.KindDiscovery, text: "no server",
			setup: func(srv *sandbox.Server) { srv.FailSocketConfig(http.StatusOK, `{"servers":[]}`) }},
		{name: "discovery not json", kind: connection.KindDiscovery, text: "socketconfig",
			setup: func(srv *sandbox.Server) { srv.FailSocketConfig(http.StatusOK, `<html>maintenance</html>`) }},
		{name: "websocket refused", kind: connection.KindDial, text: "HTTP 500",
			setup: func(srv *sandbox.Server) { srv.SetRefuseWebsocket(true) }},
		{name: "rate limited", kind: connection.KindRateLimited, text: "Rate limit exceeded",
			hooks: sandbox.Hooks{ConnectError: "Rate limit exceeded"}},
		{name: "dropped after open", kind: connection.KindClosed, text: "socket closed",
			hooks: scriptEvery(func(c *sandbox.Socket) { _ = c.Open(25*time.Second, 120*time.Second); c.Drop() })},
		{name: "namespace disconnect", kind: connection.KindClosed, text: "41",
			hooks: sandbox.Hooks{AfterLogin: func(c *sandbox.Socket) { _ = c.Send("41") }}},
		{name: "engine.io close", kind: connection.KindClosed, text: "(1)",
			hooks: sandbox.Hooks{AfterLogin: func(c *sandbox.Socket) { _ = c.Send("1") }}},
		{name: "partition change", kind: connection.KindPartitionChange, text: "servers",
			hooks: sandbox.Hooks{AfterLogin: func(c *sandbox.Socket) {
				_ = c.Send(`42["partitionChange",{"servers":[{"url":"http://127.0.0.1:1","secure":false}]}]`)
			}}},
		{name: "handshake timeout", kind: connection.KindHandshakeTimeout, text: "not online after 30s",
			hooks: scriptEvery(func(c *sandbox.Socket) {
				_ = c.Open(25*time.Second, 120*time.Second)
				<-c.Done() // never answers 40
			}),
			advance: connection.DefaultHandshakeTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := sandboxtest.Start(t, sandbox.Options{Hooks: tc.hooks})
			if tc.setup != nil {
				tc.setup(srv)
			}
			rig := NewRig(t, RigConfig{Conn: connection.Config{
				Channel: "testchan", ServerURL: srv.URL(), Username: "dazbot", Password: "pw",
			}})
			if tc.advance > 0 {
				testutil.CheckFor(t, wait, "socket open", func() bool { return srv.Connections() == 1 })
				rig.WaitState(t, messages.StateConnecting, 1)
				rig.AdvanceTo(rig.Clock.Now().Add(tc.advance - time.Millisecond))
				if rig.CountStates(messages.StateBackingOff) != 0 {
					t.Fatal("gave up before the handshake timeout")
				}
				rig.AdvanceTo(rig.Clock.Now().Add(time.Millisecond))
			}
			st := rig.WaitState(t, messages.StateBackingOff, 1)
			if !strings.HasPrefix(st.LastError, string(tc.kind)+":") || !strings.Contains(st.LastError, tc.text) {
				t.Fatalf("failed with %q, want kind %s mentioning %q", st.LastError, tc.kind, tc.text)
			}
			if st.Attempt != 1 || st.Until.Sub(st.At) > 2*time.Second {
				t.Fatalf("not the normal schedule: %+v", st)
			}
			gets := srv.SocketConfigRequests()
			rig.AdvanceTo(st.Until)
			if !tc.unreachable {
				testutil.CheckFor(t, wait, "rediscovery", func() bool { return srv.SocketConfigRequests() == gets+1 })
			}
			rig.WaitState(t, messages.StateDiscovering, 2)
		})
	}
}

// Hostile or unknown frames are counted and logged; the connection stays
// online and delivers everything else.
func TestBadFramesDoNotHurtTheConnection(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, sandbox.Options{Hooks: sandbox.Hooks{AfterLogin: func(c *sandbox.Socket) {
		for _, f := range []string{
			"xyz",                              // not Engine.IO
			`42["brandNewEvent",{"a":1}]`,      // unknown event
			`42["chatMsg",null]`,               // known event, wrong shape
			`42["chatMsg",{"username":"alice"`, // cut off
			`451-["binary",{"_placeholder":true,"num":0}]`,
			sandboxtest.ChatFrame("alice", "still <b>fine</b>", 1795718600000),
		} {
			_ = c.Send(f)
		}
	}}})
	counters := &connection.Counters{}
	rig := NewRig(t, RigConfig{Conn: connection.Config{
		Channel: "testchan", ServerURL: srv.URL(), Username: "dazbot", Password: "pw", Counters: counters,
	}})
	testutil.CheckFor(t, wait, "the good chat line", func() bool {
		for _, ev := range rig.Sink.Named("chatMsg") {
			if c, ok := ev.Body.(*messages.ChatMsg); ok && c.Text == "still fine" {
				return true
			}
		}
		return false
	})
	alive(t, rig)
	if got := counters.Malformed.Load(); got != 3 {
		t.Errorf("malformed frames counted %d, want 3", got)
	}
	if got := counters.UnknownEvents.Load(); got != 1 {
		t.Errorf("unknown events counted %d, want 1", got)
	}
	if got := counters.DecodeErrors.Load(); got != 1 {
		t.Errorf("decode errors counted %d, want 1", got)
	}
	unknown := rig.Sink.Named("brandNewEvent")
	if len(unknown) != 1 {
		t.Fatalf("unknown event delivered %d times, want once", len(unknown))
	}
	if raw, ok := unknown[0].Body.(*messages.RawEvent); !ok || string(raw.Payload) != `{"a":1}` {
		t.Fatalf("unknown event body %#v", unknown[0].Body)
	}
	if rig.CountStates(messages.StateBackingOff) != 0 || srv.Connections() != 1 {
		t.Fatal("bad frames broke the connection")
	}
	if !strings.Contains(rig.Logs.String(), "unreadable frame") {
		t.Fatal("malformed frames were not logged")
	}
}

// scriptEvery gives every socket the same script.
func scriptEvery(script sandbox.SocketScript) sandbox.Hooks {
	return sandbox.Hooks{Script: func(int) sandbox.SocketScript { return script }}
}
