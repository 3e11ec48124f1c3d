package sandbox

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"

	"github.com/gorilla/websocket"
)

// CyTube's connection throttle: five sockets per IP at once, then one per
// ten seconds; the excess is refused with 44 in reply to 40, and closed
// (1005) if it talks on.
func TestConnectionRateLimitAtCyTubeDefaults(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := startServer(t, Options{Clock: clock, ConnectBurst: CyTubeConnectBurst, ConnectInterval: CyTubeConnectInterval})
	connect := func() (*testClient, string) {
		c := dial(t, s)
		c.take("open packet", func(f string) bool { return strings.HasPrefix(f, "0{") })
		c.send("40")
		return c, c.take("reply to 40", func(f string) bool { return strings.HasPrefix(f, "4") })
	}
	for i := 1; i <= CyTubeConnectBurst; i++ {
		if _, reply := connect(); !strings.HasPrefix(reply, "40{") {
			t.Fatalf("socket %d refused: %s", i, reply)
		}
	}
	refused, reply := connect()
	if reply != `44{"message":"Rate limit exceeded"}` {
		t.Fatalf("sixth socket got %s, want the rate limit", reply)
	}
	refused.emit("joinChannel", map[string]string{"name": "sandbox"})
	actortest.CheckFor(t, waitTimeout, "the refused socket to be closed", refused.closed)
	if !websocket.IsCloseError(refused.readErr, websocket.CloseNoStatusReceived) {
		t.Errorf("refused socket closed with %v, want 1005", refused.readErr)
	}

	clock.Advance(CyTubeConnectInterval - time.Millisecond)
	if _, reply := connect(); !strings.HasPrefix(reply, "44") {
		t.Fatalf("a socket before the interval passed got %s", reply)
	}
	clock.Advance(time.Millisecond)
	if _, reply := connect(); !strings.HasPrefix(reply, "40{") {
		t.Fatalf("a socket once the interval passed got %s", reply)
	}
	var got []ConnectOutcome
	for _, r := range s.ConnectLog() {
		if r.IP != "127.0.0.1" {
			t.Errorf("connect from %q", r.IP)
		}
		got = append(got, r.Outcome)
	}
	want := []ConnectOutcome{ConnectAccepted, ConnectAccepted, ConnectAccepted, ConnectAccepted, ConnectAccepted,
		ConnectRateLimited, ConnectRateLimited, ConnectAccepted}
	if !slices.Equal(got, want) {
		t.Errorf("connect log %v, want %v", got, want)
	}
}

// With CyTube's cap of ten sockets per IP the eleventh is kicked and closed;
// once one leaves, a new one is let in.
func TestSocketsPerIPCapAtCyTubeDefault(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{MaxSocketsPerIP: CyTubeMaxSocketsPerIP})
	var open []*testClient
	for range CyTubeMaxSocketsPerIP {
		c := dial(t, s)
		c.handshake()
		open = append(open, c)
	}
	extra := dial(t, s)
	extra.take("open packet", func(f string) bool { return strings.HasPrefix(f, "0{") })
	extra.send("40")
	extra.take("namespace connect", func(f string) bool { return strings.HasPrefix(f, "40{") })
	if got := string(extra.takeEvent("kick")); got != `{"reason":"Too many connections from your IP address"}` {
		t.Fatalf("eleventh socket: kick %s", got)
	}
	extra.take("41 after the kick", func(f string) bool { return f == "41" })
	actortest.CheckFor(t, waitTimeout, "the eleventh socket to be closed", extra.closed)
	if log := s.ConnectLog(); len(log) != CyTubeMaxSocketsPerIP+1 || log[len(log)-1].Outcome != ConnectTooMany {
		t.Errorf("connect log %+v: want the eleventh recorded as too many", log)
	}

	open[0].close()
	actortest.CheckFor(t, waitTimeout, "a slot to free up", func() bool { return s.ConnectionCount() == CyTubeMaxSocketsPerIP-1 })
	again := dial(t, s)
	again.join("sandbox")
}

// Without limits in Options (the test default) many sockets are fine.
func TestNoConnectionLimitsByDefault(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	for range 3 * CyTubeMaxSocketsPerIP {
		c := dial(t, s)
		c.handshake()
	}
}
