package cytubetest

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

// ErrClientGone is returned by reads once the client's socket is closed.
var ErrClientGone = errors.New("cytubetest: client disconnected")

// ErrTimeout is returned by reads that waited longer than asked.
var ErrTimeout = errors.New("cytubetest: timed out waiting for the client")

// Forever makes a read wait until the client sends or leaves.
const Forever time.Duration = -1

// Conn is the server side of one client websocket. A goroutine reads the
// client's frames into a queue; pongs ("3") are counted instead of queued,
// so handlers can wait for either independently.
type Conn struct {
	index int
	ws    *websocket.Conn

	writeMu sync.Mutex

	mu       sync.Mutex
	queue    []string // client frames not taken yet (pongs excluded)
	received []string // every client frame, pongs included
	sent     []string
	pongs    int
	gone     bool
	dropped  bool
	login    string
	changed  chan struct{} // closed and replaced on every change

	done chan struct{}
}

func newConn(index int, ws *websocket.Conn) *Conn {
	c := &Conn{index: index, ws: ws, changed: make(chan struct{}), done: make(chan struct{})}
	go c.read()
	return c
}

func (c *Conn) read() {
	defer close(c.done)
	for {
		_, data, err := c.ws.ReadMessage()
		c.mu.Lock()
		if err != nil {
			c.gone = true
			c.notifyLocked()
			c.mu.Unlock()
			_ = c.ws.Close()
			return
		}
		f := string(data)
		c.received = append(c.received, f)
		if f == frame.FramePong {
			c.pongs++
		} else {
			c.queue = append(c.queue, f)
		}
		c.notifyLocked()
		c.mu.Unlock()
	}
}

func (c *Conn) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Index is the 1-based number of this connection on its server.
func (c *Conn) Index() int { return c.index }

// Done is closed once the client's socket is gone.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Received returns every frame the client sent, pongs included, in order.
func (c *Conn) Received() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.received...)
}

// Sent returns every frame the server sent on this socket, in order.
func (c *Conn) Sent() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sent...)
}

// Pongs is the number of "3" frames received.
func (c *Conn) Pongs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pongs
}

// Send writes one text frame to the client.
func (c *Conn) Send(f string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
		return fmt.Errorf("cytubetest: send %q: %w", clip(f), err)
	}
	c.mu.Lock()
	c.sent = append(c.sent, f)
	c.mu.Unlock()
	return nil
}

// Emit sends 42["name",payload] (payload nil: no argument).
func (c *Conn) Emit(name string, payload any) error {
	f, err := frame.EncodeEvent(name, payload)
	if err != nil {
		return err
	}
	return c.Send(string(f))
}

// Open sends the Engine.IO open packet with the given heartbeat settings.
func (c *Conn) Open(pingInterval, pingTimeout time.Duration) error {
	f, err := frame.EncodePacket(frame.Packet{Type: frame.TypeOpen, Open: &frame.Open{
		SID:          "eio-" + strconv.Itoa(c.index),
		PingInterval: pingInterval.Milliseconds(),
		PingTimeout:  pingTimeout.Milliseconds(),
		MaxPayload:   1 << 20,
	}})
	if err != nil {
		return err
	}
	return c.Send(string(f))
}

// AcceptConnect waits for the client's "40" and answers 40{"sid":...}
// followed by rank -1, as CyTube does.
func (c *Conn) AcceptConnect(timeout time.Duration) error {
	if err := c.expectConnect(timeout); err != nil {
		return err
	}
	if err := c.Send(`40{"sid":"sio-` + strconv.Itoa(c.index) + `"}`); err != nil {
		return err
	}
	return c.Emit("rank", -1)
}

// RejectConnect waits for "40" and answers 44{"message":msg}.
func (c *Conn) RejectConnect(timeout time.Duration, msg string) error {
	if err := c.expectConnect(timeout); err != nil {
		return err
	}
	f, _ := frame.EncodePacket(frame.Packet{Type: frame.TypeConnectError, Message: msg})
	return c.Send(string(f))
}

func (c *Conn) expectConnect(timeout time.Duration) error {
	f, err := c.Next(timeout)
	if err != nil {
		return err
	}
	if f != frame.FrameConnect {
		return fmt.Errorf("cytubetest: want %q from the client, got %q", frame.FrameConnect, clip(f))
	}
	return nil
}

// Ping sends "2".
func (c *Conn) Ping() error { return c.Send("2") }

// Kick sends kick {"reason"} and then 41, as CyTube does. A client may
// close on the kick alone, so a failed 41 is not an error.
func (c *Conn) Kick(reason string) error {
	if err := c.Emit("kick", map[string]string{"reason": reason}); err != nil {
		return err
	}
	_ = c.Send(frame.FrameDisconnect)
	return nil
}

// Drop ends the socket without a websocket close frame, like a network
// failure. The TCP stream is ended in order (FIN), so every frame sent
// before reaches the client first.
func (c *Conn) Drop() {
	c.mu.Lock()
	c.dropped = true
	c.mu.Unlock()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if tcp, ok := c.ws.NetConn().(*net.TCPConn); ok {
		_ = tcp.CloseWrite()
		return
	}
	_ = c.ws.Close()
}

func (c *Conn) setLoginName(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.login = name
}

// loginName is the name the client logged in with ("" if anonymous).
func (c *Conn) loginName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.login
}

func (c *Conn) wasDropped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Close sends a normal close frame and closes the socket.
func (c *Conn) Close() {
	c.writeMu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.writeMu.Unlock()
	_ = c.ws.Close()
}

// Next takes the oldest client frame not taken yet (pongs excluded).
func (c *Conn) Next(timeout time.Duration) (string, error) {
	return c.Take(func(string) bool { return true }, timeout)
}

// Take takes the oldest queued client frame for which match is true,
// waiting for one; frames before it stay queued.
func (c *Conn) Take(match func(string) bool, timeout time.Duration) (string, error) {
	var deadline <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		c.mu.Lock()
		for i, f := range c.queue {
			if match(f) {
				c.queue = append(c.queue[:i:i], c.queue[i+1:]...)
				c.mu.Unlock()
				return f, nil
			}
		}
		gone, changed := c.gone, c.changed
		c.mu.Unlock()
		if gone {
			return "", ErrClientGone
		}
		select {
		case <-changed:
		case <-deadline:
			return "", ErrTimeout
		}
	}
}

// Queued returns the client frames not taken yet.
func (c *Conn) Queued() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.queue...)
}

// ExpectEvent takes the next client frame and checks it is event name,
// returning its payload.
func (c *Conn) ExpectEvent(name string, timeout time.Duration) (json.RawMessage, error) {
	f, err := c.Next(timeout)
	if err != nil {
		return nil, err
	}
	p, err := frame.Parse([]byte(f))
	if err != nil {
		return nil, fmt.Errorf("cytubetest: client frame %q: %w", clip(f), err)
	}
	if p.Type != frame.TypeEvent || p.Name != name {
		return nil, fmt.Errorf("cytubetest: want event %q from the client, got %q", name, clip(f))
	}
	return p.Payload(), nil
}

// WaitPongs waits until at least n pongs arrived.
func (c *Conn) WaitPongs(n int, timeout time.Duration) error {
	var deadline <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		c.mu.Lock()
		pongs, gone, changed := c.pongs, c.gone, c.changed
		c.mu.Unlock()
		if pongs >= n {
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

func clip(s string) string {
	const limit = 160
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}
