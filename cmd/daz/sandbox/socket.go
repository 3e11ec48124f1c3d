package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/daz-bot/daz/actors/connection/frame"
)

// This file is the scripting side of the sandbox: the connection tests drive
// single websockets through a Socket to make the server misbehave in ways the
// real protocol code never would (drop mid-handshake, never answer 40, replay
// a recording's server side).

// ErrClientGone is returned by reads once the client's socket is closed.
var ErrClientGone = errors.New("sandbox: client disconnected")

// ErrTimeout is returned by reads that waited longer than asked.
var ErrTimeout = errors.New("sandbox: timed out waiting for the client")

// Forever makes a read wait until the client sends or leaves.
const Forever time.Duration = -1

// SocketScript speaks the protocol on one websocket instead of the sandbox.
// The socket is closed (with a close frame, unless the script dropped it)
// when the script returns.
type SocketScript func(s *Socket)

// Hooks script deviations from the normal protocol. Every field is optional;
// a zero Hooks is the plain sandbox.
type Hooks struct {
	// Script picks a script for the n-th websocket (1-based); nil lets the
	// sandbox speak the protocol as usual. It is called with the server's
	// lock held, so it must only choose, not call the Server.
	Script func(n int) SocketScript
	// ConnectError answers every "40" with 44{"message":ConnectError}.
	ConnectError string
	// AfterJoin runs after a socket's join burst, AfterLogin after its
	// successful login; the socket's further frames are read once they
	// return, so a hook may block to hold the client where it is.
	AfterJoin  func(s *Socket)
	AfterLogin func(s *Socket)
}

// recording keeps what crossed one websocket, for tests (Options.Record and
// scripted sockets).
type recording struct {
	mu       sync.Mutex
	queue    []string // client frames not taken yet (pongs excluded)
	received []string // every client frame, pongs included
	sent     []string // every frame queued for the client, in wire order
	pongs    int
	gone     bool
	changed  chan struct{} // closed and replaced on every change
}

func newRecording() *recording { return &recording{changed: make(chan struct{})} }

func (r *recording) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recording) receive(f string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.received = append(r.received, f)
	if f == frame.FramePong {
		r.pongs++
	} else {
		r.queue = append(r.queue, f)
	}
	r.notifyLocked()
}

func (r *recording) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone = true
	r.notifyLocked()
}

// wait blocks until cond (called with mu held) is true, the client is gone
// or timeout passes.
func (r *recording) wait(timeout time.Duration, cond func() bool) error {
	var deadline <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		r.mu.Lock()
		ok, gone, changed := cond(), r.gone, r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		if gone {
			return ErrClientGone
		}
		select {
		case <-changed:
		case <-deadline:
			return ErrTimeout
		}
	}
}

// Socket is a test's handle on one websocket of the sandbox.
type Socket struct{ c *conn }

// Index is the 1-based number of this websocket on its server.
func (s *Socket) Index() int { return s.c.index }

// Done is closed once the socket is gone.
func (s *Socket) Done() <-chan struct{} { return s.c.done }

// Received returns every frame the client sent, pongs included, in order.
func (s *Socket) Received() []string {
	r := s.c.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.received...)
}

// Sent returns every frame the server sent or queued on this socket, in
// order.
func (s *Socket) Sent() []string {
	r := s.c.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...)
}

// Pongs is the number of "3" frames received.
func (s *Socket) Pongs() int {
	r := s.c.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pongs
}

// Send queues one raw text frame for the client, waiting for room if the
// queue is full.
func (s *Socket) Send(f string) error {
	c := s.c
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	select {
	case <-c.done:
		return ErrClientGone
	default:
	}
	select {
	case c.out <- f:
		c.rec.sent = append(c.rec.sent, f)
		return nil
	case <-c.done:
		return ErrClientGone
	}
}

// Emit sends 42["name",payload] (payload nil: no argument).
func (s *Socket) Emit(name string, payload any) error {
	f, err := frame.EncodeEvent(name, payload)
	if err != nil {
		return fmt.Errorf("sandbox: emit: %w", err)
	}
	return s.Send(string(f))
}

// Open sends the Engine.IO open packet with the given heartbeat settings.
func (s *Socket) Open(pingInterval, pingTimeout time.Duration) error {
	return s.Send(openFrame(frame.Open{
		SID: "eio-" + strconv.Itoa(s.c.index), PingInterval: pingInterval.Milliseconds(),
		PingTimeout: pingTimeout.Milliseconds(), MaxPayload: maxPayload,
	}))
}

// AcceptConnect waits for the client's "40" and answers 40{"sid"} followed
// by rank -1, as CyTube does.
func (s *Socket) AcceptConnect(timeout time.Duration) error {
	if err := s.expectConnect(timeout); err != nil {
		return err
	}
	if err := s.Send(`40{"sid":"sio-` + strconv.Itoa(s.c.index) + `"}`); err != nil {
		return err
	}
	return s.Emit("rank", rankAnonymous)
}

// RejectConnect waits for "40" and answers 44{"message":msg}.
func (s *Socket) RejectConnect(timeout time.Duration, msg string) error {
	if err := s.expectConnect(timeout); err != nil {
		return err
	}
	return s.Send(connectErrorFrame(msg))
}

func (s *Socket) expectConnect(timeout time.Duration) error {
	f, err := s.Next(timeout)
	if err != nil {
		return err
	}
	if f != frame.FrameConnect {
		return fmt.Errorf("sandbox: want %q from the client, got %q", frame.FrameConnect, truncateForLog(f))
	}
	return nil
}

// Ping sends "2".
func (s *Socket) Ping() error { return s.Send("2") }

// Kick is CyTube's kick: kick {"reason"}, then 41. On a socket the sandbox
// runs, the user also leaves the channel as on a moderator's /kick.
func (s *Socket) Kick(reason string) error {
	c := s.c
	if c.script {
		if err := s.Emit("kick", map[string]string{"reason": reason}); err != nil {
			return err
		}
		_ = s.Send(frame.FrameDisconnect) // a client may close on the kick alone
		return nil
	}
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	c.kick(reason)
	return nil
}

// Drop ends the socket without a websocket close frame, like a network
// failure, after every frame queued before it was written: the TCP stream
// ends in order (FIN), so the client reads them all first.
func (s *Socket) Drop() { s.c.queueEnd(dropMarker) }

// Next takes the oldest client frame not taken yet (pongs excluded).
func (s *Socket) Next(timeout time.Duration) (string, error) {
	return s.Take(func(string) bool { return true }, timeout)
}

// Take takes the oldest queued client frame for which match is true,
// waiting for one; frames before it stay queued.
func (s *Socket) Take(match func(string) bool, timeout time.Duration) (string, error) {
	r := s.c.rec
	var got string
	err := r.wait(timeout, func() bool {
		for i, f := range r.queue {
			if match(f) {
				r.queue = append(r.queue[:i:i], r.queue[i+1:]...)
				got = f
				return true
			}
		}
		return false
	})
	return got, err
}

// ExpectEvent takes the next client frame and checks it is event name,
// returning its payload.
func (s *Socket) ExpectEvent(name string, timeout time.Duration) (json.RawMessage, error) {
	f, err := s.Next(timeout)
	if err != nil {
		return nil, err
	}
	p, err := frame.Parse([]byte(f))
	if err != nil {
		return nil, fmt.Errorf("sandbox: client frame %q: %w", truncateForLog(f), err)
	}
	if p.Type != frame.TypeEvent || p.Name != name {
		return nil, fmt.Errorf("sandbox: want event %q from the client, got %q", name, truncateForLog(f))
	}
	return p.Payload(), nil
}

// WaitPongs waits until at least n pongs arrived.
func (s *Socket) WaitPongs(n int, timeout time.Duration) error {
	r := s.c.rec
	return r.wait(timeout, func() bool { return r.pongs >= n })
}

// Markers queued behind the frames a socket must still write: the writer
// ends the socket once it reaches one.
const (
	dropMarker  = "\x00drop"
	closeMarker = "\x00close"
	// bareCloseMarker sends a close frame without a status code (1005).
	bareCloseMarker = "\x00bareclose"
	// dropLinger bounds how long a dropped socket waits for the client to
	// close its end after reading the EOF.
	dropLinger = 10 * time.Second
)

// queueEnd asks the writer to end the socket after what is queued.
func (c *conn) queueEnd(marker string) {
	select {
	case <-c.done:
	case c.out <- marker:
	}
}

// finish ends the socket the way marker asks; it runs on the writer.
func (c *conn) finish(marker string) {
	switch marker {
	case closeMarker:
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.drop("closed by the server")
		return
	case bareCloseMarker:
		_ = c.ws.WriteControl(websocket.CloseMessage, nil, time.Now().Add(time.Second))
		c.drop("closed by the server")
		return
	}
	// Closing at once could reset the stream before the client read what
	// was sent; half-close and let the client close its end.
	if tcp, ok := c.ws.NetConn().(*net.TCPConn); ok {
		_ = tcp.CloseWrite()
		t := time.NewTimer(dropLinger)
		defer t.Stop()
		select {
		case <-c.done:
		case <-t.C:
		}
	}
	c.drop("dropped by a script")
}

// runScript hands a fresh websocket to a script; the read and write loops
// only move frames. It runs on the HTTP handler goroutine.
func (c *conn) runScript(script SocketScript) {
	defer c.srv.wg.Done()
	script(&Socket{c: c})
	c.queueEnd(closeMarker)
}
