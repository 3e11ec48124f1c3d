package sandbox

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
)

func TestOpenPacketAnnouncesHeartbeat(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{PingInterval: 1500 * time.Millisecond, PingTimeout: 4 * time.Second})
	c := dial(t, s)
	open := c.take("open packet", func(f string) bool { return strings.HasPrefix(f, "0{") })
	var p struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int      `json:"pingInterval"`
		PingTimeout  int      `json:"pingTimeout"`
		MaxPayload   int      `json:"maxPayload"`
	}
	if err := json.Unmarshal([]byte(open[1:]), &p); err != nil {
		t.Fatalf("open packet %q: %v", open, err)
	}
	if len(p.SID) != 20 || p.Upgrades == nil || len(p.Upgrades) != 0 || p.PingInterval != 1500 ||
		p.PingTimeout != 4000 || p.MaxPayload != 1048576 {
		t.Errorf("open packet = %s", open)
	}
}

func countFrames(frames []string, frame string) int {
	n := 0
	for _, f := range frames {
		if f == frame {
			n++
		}
	}
	return n
}

func TestHeartbeatAnsweredKeepsConnection(t *testing.T) {
	t.Parallel()
	const interval, timeout = 40 * time.Millisecond, 150 * time.Millisecond
	s := startServer(t, Options{PingInterval: interval, PingTimeout: timeout})
	c := dial(t, s)
	c.autoPong.Store(true)
	c.handshake()
	// Eight answered pings span more than two ping timeouts.
	actortest.CheckFor(t, waitTimeout, "eight pings", func() bool { return countFrames(c.frames(), "2") >= 8 })
	if c.closed() || s.ConnectionCount() != 1 {
		t.Fatal("connection dropped although every ping was answered")
	}
}

func TestHeartbeatUnansweredDropsConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{PingInterval: 100 * time.Millisecond, PingTimeout: 300 * time.Millisecond})
	watcher := dial(t, s)
	watcher.autoPong.Store(true)
	watcher.join("sandbox")
	watcher.login("alice", "alice")
	bot := dial(t, s) // never answers
	bot.join("sandbox")
	bot.login("dazbot", "dazbot")

	leave := watcher.takeEvent("userLeave")
	if string(leave) != `{"name":"dazbot"}` {
		t.Fatalf("userLeave %s, want dazbot", leave)
	}
	actortest.CheckFor(t, waitTimeout, "the silent client's socket to close", bot.closed)
	if countFrames(bot.frames(), "2") != 1 {
		t.Errorf("the silent client got %d pings before the drop, want 1", countFrames(bot.frames(), "2"))
	}
	actortest.CheckFor(t, waitTimeout, "one connection left", func() bool { return s.ConnectionCount() == 1 })
	if watcher.closed() {
		t.Error("the answering client was dropped too")
	}
}
