package sandbox

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection/frame"
)

const waitTimeout = 5 * time.Second

// checkFor polls cond until it holds or timeout passes. Tests use it instead
// of sleeping.
func checkFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// poll re-checks cond every few milliseconds and reports whether it held
// before timeout.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// newFakeClock is the daemon's fake clock, started at a recorded server
// time.
func newFakeClock() *clock.Fake { return clock.NewFake(time.UnixMilli(1795718500000)) }

// startServer runs a sandbox on a loopback port until the test ends.
func startServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	opts.Addr = "127.0.0.1:0"
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// testClient is a bare websocket client that records every frame it gets.
type testClient struct {
	t        testing.TB
	ws       *websocket.Conn
	writeMu  sync.Mutex  // gorilla allows one writer at a time
	autoPong atomic.Bool // answer the server's "2" from the read loop
	mu       sync.Mutex
	got      []string
	next     int // index of the first frame not yet taken by take
	// readErr is why the read loop ended; set before done closes.
	readErr error
	done    chan struct{}
}

func wsURL(s *Server) string {
	return "ws" + strings.TrimPrefix(s.URL(), "http") + "/socket.io/?EIO=4&transport=websocket"
}

func dial(t testing.TB, s *Server) *testClient {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(wsURL(s), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", wsURL(s), err)
	}
	_ = resp.Body.Close()
	c := &testClient{t: t, ws: ws, done: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(c.close)
	return c
}

func (c *testClient) readLoop() {
	defer close(c.done)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.readErr = err
			return
		}
		c.mu.Lock()
		c.got = append(c.got, string(data))
		c.mu.Unlock()
		if string(data) == "2" && c.autoPong.Load() {
			_ = c.write("3")
		}
	}
}

func (c *testClient) write(frame string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, []byte(frame))
}

func (c *testClient) close() {
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(time.Second))
	_ = c.ws.Close()
	<-c.done
}

func (c *testClient) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *testClient) send(frame string) {
	c.t.Helper()
	if err := c.write(frame); err != nil {
		c.t.Fatalf("send %q: %v", frame, err)
	}
}

func (c *testClient) emit(name string, payload any) { c.send(eventFrame(name, payload)) }

func (c *testClient) frames() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

// take waits for the next frame that keep accepts, skipping the others, and
// returns it.
func (c *testClient) take(what string, keep func(string) bool) string {
	c.t.Helper()
	var found string
	checkFor(c.t, waitTimeout, what, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for c.next < len(c.got) {
			f := c.got[c.next]
			c.next++
			if keep(f) {
				found = f
				return true
			}
		}
		return false
	})
	return found
}

// takeEvent waits for the next 42 event called name and returns its payload.
func (c *testClient) takeEvent(name string) json.RawMessage {
	c.t.Helper()
	f := c.take("event "+name, func(f string) bool { return eventName(f) == name })
	p, err := frame.Parse([]byte(f))
	if err != nil {
		c.t.Fatalf("parse %q: %v", f, err)
	}
	return p.Payload()
}

// handshake consumes the open packet, connects the namespace and eats the
// initial rank -1.
func (c *testClient) handshake() {
	c.t.Helper()
	c.take("open packet", func(f string) bool { return strings.HasPrefix(f, "0{") })
	c.send("40")
	c.take("namespace connect", func(f string) bool { return strings.HasPrefix(f, "40{") })
	c.takeEvent("rank")
}

// join connects and joins channel, consuming the burst up to userlist.
func (c *testClient) join(channel string) {
	c.t.Helper()
	c.handshake()
	c.emit("joinChannel", map[string]string{"name": channel})
	c.takeEvent("userlist")
}

func (c *testClient) login(name, pw string) {
	c.t.Helper()
	if pw == "" {
		c.emit("login", map[string]string{"name": name})
	} else {
		c.emit("login", map[string]string{"name": name, "pw": pw})
	}
	var res loginResult
	mustUnmarshal(c.t, c.takeEvent("login"), &res)
	if !res.Success {
		c.t.Fatalf("login %s: %s", name, res.Error)
	}
}

func eventName(f string) string {
	p, err := frame.Parse([]byte(f))
	if err != nil || p.Type != frame.TypeEvent {
		return ""
	}
	return p.Name
}

// eventPayload is the payload of an event frame, nil for anything else.
func eventPayload(f string) []byte {
	p, err := frame.Parse([]byte(f))
	if err != nil || p.Type != frame.TypeEvent {
		return nil
	}
	return p.Payload()
}

func mustUnmarshal(t testing.TB, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("unmarshal %s: %v", raw, err)
	}
}
