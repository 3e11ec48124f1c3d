package sandbox

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/daz-bot/daz/actors/actorkit/actortest"

	"github.com/gorilla/websocket"
)

// TestHostileFramesLeaveTheServerUsable sends what a broken or hostile client
// might, then checks the socket (or at least the server) still works.
func TestHostileFramesLeaveTheServerUsable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		send   func(c *testClient)
		drops  bool   // the server must close this socket
		expect string // a frame the server must answer with, if any
	}{
		{name: "malformed event", send: func(c *testClient) { c.send(`42["chatMsg",{`) }},
		{name: "event name not a string", send: func(c *testClient) { c.send(`42[7,{}]`) }},
		{name: "empty event array", send: func(c *testClient) { c.send(`42[]`) }},
		{name: "unknown event", send: func(c *testClient) { c.send(`42["queue",{"id":"x"}]`) }},
		{name: "joinChannel without a name", send: func(c *testClient) { c.send(`42["joinChannel",{}]`) }},
		{name: "login with a numeric name", send: func(c *testClient) { c.send(`42["login",{"name":5}]`) }},
		{name: "chatMsg as a string", send: func(c *testClient) { c.send(`42["chatMsg","hi"]`) },
			expect: `42["errorMsg",{"msg":"Unexpected error for message chatMsg: Expected type object, got string"}]`},
		{name: "pm without to", send: func(c *testClient) { c.send(`42["pm",{"msg":"x"}]`) },
			expect: `42["errorMsg",{"msg":"Unexpected error for message pm: Expected key to to be of type string, instead got undefined"}]`},
		{name: "binary frame", send: func(c *testClient) {
			c.writeMu.Lock()
			defer c.writeMu.Unlock()
			_ = c.ws.WriteMessage(websocket.BinaryMessage, []byte{4, 2})
		}},
		{name: "unknown namespace", send: func(c *testClient) { c.send("40/admin,") },
			expect: `44/admin,{"message":"Invalid namespace"}`},
		{name: "engine.io garbage", send: func(c *testClient) { c.send("x") }, drops: true},
		{name: "engine.io close", send: func(c *testClient) { c.send("1") }, drops: true},
	}
	s := startServer(t, Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			c.handshake()
			tc.send(c)
			if tc.expect != "" {
				c.take(tc.expect, func(f string) bool { return f == tc.expect })
			}
			if tc.drops {
				actortest.CheckFor(t, waitTimeout, "the server to close the socket", c.closed)
				return
			}
			c.emit("joinChannel", map[string]string{"name": "sandbox"})
			c.takeEvent("userlist")
			c.login("alice", "alice")
			c.close()
		})
	}
	// Everyone above went through the same server: it still serves newcomers.
	c := dial(t, s)
	c.join("sandbox")
	c.login("dazbot", "dazbot")
}

func TestEventsBeforeNamespaceConnectAreIgnored(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	c := dial(t, s)
	c.take("open packet", func(f string) bool { return strings.HasPrefix(f, "0{") })
	c.emit("joinChannel", map[string]string{"name": "sandbox"})
	c.send("40")
	c.take("namespace connect", func(f string) bool { return strings.HasPrefix(f, "40{") })
	c.takeEvent("rank")
	for _, f := range c.frames() {
		if eventName(f) == "setPermissions" {
			t.Fatal("joinChannel sent before 40 was honoured")
		}
	}
}

func TestNamespaceDisconnectLeavesAndAllowsReconnect(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	alice := dial(t, s)
	alice.join("sandbox")
	alice.login("alice", "alice")
	bot := dial(t, s)
	bot.join("sandbox")
	bot.login("dazbot", "dazbot")

	bot.send("41")
	if got := string(alice.takeEvent("userLeave")); got != `{"name":"dazbot"}` {
		t.Fatalf("userLeave %s", got)
	}
	bot.send("40")
	bot.take("namespace reconnect", func(f string) bool { return strings.HasPrefix(f, "40{") })
	if got := string(bot.takeEvent("rank")); got != "-1" {
		t.Errorf("rank after reconnect %s, want -1: the login must be forgotten", got)
	}
	bot.emit("joinChannel", map[string]string{"name": "sandbox"})
	bot.takeEvent("userlist")
	bot.login("dazbot", "dazbot")
	if got := string(alice.takeEvent("addUser")); !strings.Contains(got, `"name":"dazbot"`) {
		t.Errorf("addUser after rejoin %s", got)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts Options
	}{
		{"channel with a space", Options{Channels: []string{"bad name"}}},
		{"channel too long", Options{Channels: []string{strings.Repeat("c", 31)}}},
		{"account name invalid", Options{Accounts: map[string]Account{"bad name!": {Password: "x"}}}},
		{"account twice by case", Options{Accounts: map[string]Account{"Bob": {}, "bob": {}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tc.opts); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestStartReportsBusyAddressAndCloseIsIdempotent(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer func() { _ = l.Close() }()
	s, err := New(Options{Addr: l.Addr().String()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(t.Context()); err == nil {
		t.Fatal("Start on a busy address succeeded")
	}

	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	actortest.CheckFor(t, waitTimeout, "URL to be set", func() bool { return s.URL() == "http://"+l.Addr().String() })
	c := dial(t, s)
	c.handshake()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after Close: %v", err)
	}
	actortest.CheckFor(t, waitTimeout, "client to see the drop", c.closed)
}

func TestStartStopsWithContext(t *testing.T) {
	t.Parallel()
	s, err := New(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	if err := s.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	c := dial(t, s)
	c.handshake()
	cancel()
	actortest.CheckFor(t, waitTimeout, "client to see the shutdown", c.closed)
	ws, resp, err := websocket.DefaultDialer.DialContext(t.Context(), wsURL(s), nil)
	if err == nil {
		_ = resp.Body.Close()
		_ = ws.Close()
	}
	if err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("dial after shutdown: %v, want a connection error", err)
	}
}
