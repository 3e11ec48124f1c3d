package sandbox

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"

	"github.com/gorilla/websocket"
)

func TestSayFeedsBroadcastMessagesAndBacklog(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	start := clock.Now()
	s := startServer(t, Options{Clock: clock})
	for i := 1; i <= 20; i++ {
		if err := s.Say("sandbox", "owner", fmt.Sprintf("line %d <b>", i)); err != nil {
			t.Fatalf("Say: %v", err)
		}
		clock.Advance(time.Second)
	}
	msgs := s.Messages("sandbox")
	if len(msgs) != 20 {
		t.Fatalf("Messages: %d lines, want 20", len(msgs))
	}
	if m := msgs[0]; m.Username != "owner" || m.HTML != "line 1 &lt;b&gt;" || !m.Time.Equal(start) {
		t.Errorf("first message %+v", m)
	}

	// A joiner gets the last 15 lines with their original times.
	c := dial(t, s)
	c.handshake()
	c.emit("joinChannel", map[string]string{"name": "SandBox"})
	for i := 6; i <= 20; i++ {
		var m chatMsg
		mustUnmarshal(t, c.takeEvent("chatMsg"), &m)
		wantTime := start.Add(time.Duration(i-1) * time.Second).UnixMilli()
		if m.Msg != fmt.Sprintf("line %d &lt;b&gt;", i) || m.Time != wantTime {
			t.Fatalf("backlog line %d = %+v, want time %d", i, m, wantTime)
		}
	}
	if next := eventName(c.take("after the backlog", func(string) bool { return true })); next != "drinkCount" {
		t.Fatalf("after 15 backlog lines came %q, want drinkCount", next)
	}

	if err := s.Say("sandbox", "owner", "/me waves"); err != nil {
		t.Fatalf("Say: %v", err)
	}
	var live chatMsg
	mustUnmarshal(t, c.takeEvent("chatMsg"), &live)
	if live.Msg != "waves" || live.Meta.AddClass != "action" || !live.Meta.Action {
		t.Errorf("live /me line %+v", live)
	}
	if err := s.Say("nosuch", "owner", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Say to an unknown channel: %v", err)
	}
	if err := s.Say("sandbox", "owner", " \t "); err == nil {
		t.Error("Say accepted a blank line")
	}
}

func TestKickHookLeavesWebsocketOpen(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	alice := dial(t, s)
	alice.join("sandbox")
	alice.login("alice", "alice")
	bot := dial(t, s)
	bot.join("sandbox")
	bot.login("dazbot", "dazbot")

	if err := s.Kick("sandbox", "ALICE", "bye now"); err != nil {
		t.Fatalf("Kick: %v", err)
	}
	if got := string(alice.takeEvent("kick")); got != `{"reason":"bye now"}` {
		t.Errorf("kick payload %s", got)
	}
	alice.take("41 after kick", func(f string) bool { return f == "41" })
	if got := string(bot.takeEvent("userLeave")); got != `{"name":"alice"}` {
		t.Errorf("userLeave %s", got)
	}
	// The websocket is still usable: a new namespace connect starts over.
	if alice.closed() {
		t.Fatal("server closed the kicked socket; CyTube leaves that to the client")
	}
	alice.send("40")
	alice.take("namespace reconnect", func(f string) bool { return strings.HasPrefix(f, "40{") })
	if err := s.Kick("sandbox", "alice", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("kicking a user who left: %v", err)
	}
}

func TestConnectionCountAndDropAll(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	a, b := dial(t, s), dial(t, s)
	a.handshake()
	b.handshake()
	if n := s.ConnectionCount(); n != 2 {
		t.Fatalf("ConnectionCount = %d, want 2", n)
	}
	s.DropAll()
	for _, c := range []*testClient{a, b} {
		actortest.CheckFor(t, waitTimeout, "socket to drop", c.closed)
		if !websocket.IsCloseError(c.readErr, websocket.CloseAbnormalClosure) {
			t.Errorf("drop seen as %v, want close 1006 (no close frame)", c.readErr)
		}
	}
	actortest.CheckFor(t, waitTimeout, "no connections", func() bool { return s.ConnectionCount() == 0 })
}

func TestPartitionChangeSendsSocketConfig(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	c := dial(t, s)
	c.join("sandbox")
	if err := s.PartitionChange("sandbox"); err != nil {
		t.Fatalf("PartitionChange: %v", err)
	}
	want := `{"servers":[{"url":"` + s.URL() + `","secure":false}]}`
	if got := string(c.takeEvent("partitionChange")); got != want {
		t.Errorf("partitionChange %s, want %s", got, want)
	}
	if err := s.PartitionChange("nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("PartitionChange on an unknown channel: %v", err)
	}
}

func TestSetRankAnnouncesLikeSetChannelRank(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	alice := dial(t, s)
	alice.join("sandbox")
	alice.login("alice", "alice")
	bot := dial(t, s)
	bot.join("sandbox")
	bot.login("dazbot", "dazbot")

	if err := s.SetRank("sandbox", "alice", 2); err != nil {
		t.Fatalf("SetRank: %v", err)
	}
	list := string(alice.takeEvent("userlist"))
	if !strings.Contains(list, `"aliases":["alice"]`) {
		t.Errorf("promoted user's userlist lacks moderator metadata: %s", list)
	}
	if got := string(alice.takeEvent("rank")); got != "2" {
		t.Errorf("rank %s, want 2", got)
	}
	if got := string(alice.takeEvent("setUserRank")); got != `{"name":"alice","rank":2}` {
		t.Errorf("setUserRank to target %s", got)
	}
	aboutAlice := bot.take("setUserRank about alice", func(f string) bool {
		return eventName(f) == "setUserRank" && strings.Contains(f, `"alice"`)
	})
	if aboutAlice != `42["setUserRank",{"name":"alice","rank":2}]` {
		t.Errorf("setUserRank to others %s", aboutAlice)
	}
	for _, bad := range [][2]string{{"nosuch", "alice"}, {"sandbox", "nobody"}} {
		if err := s.SetRank(bad[0], bad[1], 2); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetRank(%q, %q): %v", bad[0], bad[1], err)
		}
	}
}

func TestDiscoveryFaults(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	get := func(path string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get("/socketconfig/sandbox.json"); code != http.StatusOK {
		t.Fatalf("plain discovery: %d", code)
	}
	s.FailSocketConfig(http.StatusOK, `{"servers":[]}`)
	if code, body := get("/socketconfig/sandbox.json"); code != http.StatusOK || body != `{"servers":[]}` {
		t.Fatalf("overridden discovery: %d %s", code, body)
	}
	s.SetSocketConfig(nil)
	s.SetRefuse(true)
	if code, _ := get("/socketconfig/sandbox.json"); code != http.StatusInternalServerError {
		t.Fatalf("refused discovery: %d", code)
	}
	if _, _, err := websocket.DefaultDialer.Dial(wsURL(s), nil); err == nil {
		t.Fatal("websocket accepted while refusing")
	}
	s.SetRefuse(false)
	s.SetRefuseWebsocket(true)
	if code, _ := get("/socketconfig/sandbox.json"); code != http.StatusOK {
		t.Fatalf("discovery while only the websocket refuses: %d", code)
	}
	if _, _, err := websocket.DefaultDialer.Dial(wsURL(s), nil); err == nil {
		t.Fatal("websocket accepted while refusing")
	}
	if n := s.SocketConfigRequests(); n != 4 {
		t.Fatalf("SocketConfigRequests = %d, want 4", n)
	}
}

// A script's Drop writes everything queued before it, then ends the stream
// without a close frame; the recorded socket keeps both directions.
func TestScriptDropFlushesFirst(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{Record: true, Hooks: Hooks{Script: func(n int) SocketScript {
		if n > 1 {
			return nil
		}
		return func(c *Socket) {
			_ = c.Open(time.Second, time.Second)
			if err := c.AcceptConnect(waitTimeout); err != nil {
				return
			}
			for i := range 50 {
				_ = c.Emit("chatMsg", map[string]any{"username": "x", "msg": fmt.Sprint(i)})
			}
			c.Drop()
		}
	}}})
	c := dial(t, s)
	c.handshake()
	actortest.CheckFor(t, waitTimeout, "the drop", c.closed)
	if got := countEvents(c.frames(), "chatMsg"); got != 50 {
		t.Fatalf("client read %d of 50 lines before the drop", got)
	}
	if !websocket.IsCloseError(c.readErr, websocket.CloseAbnormalClosure) {
		t.Errorf("drop seen as %v, want 1006", c.readErr)
	}
	sock := s.Socket(1)
	if got := sock.Received(); len(got) == 0 || got[0] != "40" {
		t.Errorf("recorded client frames %q", got)
	}
	if got := countEvents(sock.Sent(), "chatMsg"); got != 50 {
		t.Errorf("recorded %d sent lines", got)
	}
	// The second socket gets the sandbox's own protocol.
	plain := dial(t, s)
	plain.join("sandbox")
}

func countEvents(frames []string, name string) int {
	n := 0
	for _, f := range frames {
		if eventName(f) == name {
			n++
		}
	}
	return n
}

// DuplicateLogins counts each join that found the account already in the
// channel (the moment two sessions shared it), not the other joins.
func TestDuplicateLoginsAreCounted(t *testing.T) {
	s := startServer(t, Options{})
	first := dial(t, s)
	first.join("sandbox")
	first.login("dazbot", "dazbot")
	other := dial(t, s)
	other.join("sandbox")
	other.login("alice", "alice")
	if n := s.DuplicateLogins(); n != 0 {
		t.Fatalf("%d duplicate logins before any", n)
	}
	second := dial(t, s)
	second.handshake()
	second.emit("login", map[string]string{"name": "dazbot", "pw": "dazbot"})
	second.takeEvent("login")
	second.emit("joinChannel", map[string]string{"name": "sandbox"})
	second.takeEvent("userlist")
	first.takeEvent("kick")
	if n := s.DuplicateLogins(); n != 1 {
		t.Fatalf("%d duplicate logins, want 1", n)
	}
}
