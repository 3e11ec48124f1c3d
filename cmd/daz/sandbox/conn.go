package sandbox

import (
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// outQueueLen bounds the frames waiting for one client. A client that
	// falls this far behind is dropped rather than slowing everyone.
	outQueueLen  = 1024
	writeTimeout = 10 * time.Second
)

// conn is one websocket client. The fields from nsConnected on are guarded
// by Server.mu.
type conn struct {
	srv    *Server
	id     uint64
	index  int // 1-based accept order, as Server.Socket counts
	ws     *websocket.Conn
	ip     string
	cloak  string // stands in for CyTube's cloaked IP in moderator metadata
	eioSID string
	log    *slog.Logger

	out      chan string
	pong     chan struct{}
	done     chan struct{}
	dropOnce sync.Once
	rec      *recording // nil unless Options.Record or scripted
	script   bool       // a SocketScript speaks the protocol, not the sandbox

	nsConnected bool     // Socket.IO default namespace joined ("40")
	ident       identity // zero value: anonymous
	ch          *channel
	waitingFor  *channel // a password channel that answered joinChannel with needPassword
	afk         bool
	limiter     *bucket // every chat line and PM
	antiflood   *bucket // chat below rank 2 while chat_antiflood is on
	refused     bool    // answered 44: the next event closes the socket
	// dueHooks run once the event that made them due is handled and mu is
	// released, so a test hook may block.
	dueHooks []func(*Socket)
}

// identity is who a socket logged in as.
type identity struct {
	name       string
	registered bool
	guest      bool
}

func (id identity) loggedIn() bool { return id.name != "" }

// accept registers a freshly upgraded websocket and runs it until it ends.
// It runs on the HTTP handler goroutine.
func (s *Server) accept(ws *websocket.Conn, remote string) {
	ip, _, err := net.SplitHostPort(remote)
	if err != nil {
		ip = remote
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.nextConnID++
	var script SocketScript
	if s.opts.Hooks.Script != nil {
		script = s.opts.Hooks.Script(int(s.nextConnID))
	}
	c := &conn{
		srv:     s,
		id:      s.nextConnID,
		index:   int(s.nextConnID),
		ws:      ws,
		ip:      ip,
		cloak:   cloakIP(ip),
		eioSID:  newSID(),
		out:     make(chan string, outQueueLen),
		pong:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		limiter: newBucket(modBurst, modSustained),
		script:  script != nil,
	}
	if s.opts.Record || c.script {
		c.rec = newRecording()
		s.accepted = append(s.accepted, c)
	}
	c.log = s.log.With("conn", c.id, "remote", remote)
	s.conns[c] = struct{}{}
	heartbeat := !c.script && !s.opts.ManualPings
	s.wg.Add(2)
	if heartbeat {
		s.wg.Add(1)
	}
	s.mu.Unlock()

	c.log.Debug("websocket open")
	go c.writeLoop()
	if c.script {
		s.wg.Add(1)
		go c.readLoop()
		c.runScript(script)
		return
	}
	c.send(openFrame(s.openPacket(c.eioSID, []string{})))
	if heartbeat {
		go c.heartbeat()
	}
	c.readLoop()
}

// cloakIP derives a stable opaque "xxx.xxx.xxx.xxx" tag from an address.
func cloakIP(ip string) string {
	sum := sha256.Sum256([]byte("daz-sandbox:" + ip))
	enc := base64.StdEncoding.EncodeToString(sum[:9])
	return enc[0:3] + "." + enc[3:6] + "." + enc[6:9] + "." + enc[9:12]
}

// send queues one frame; it never blocks, so it is safe under Server.mu.
func (c *conn) send(frame string) {
	select {
	case <-c.done:
		return
	default:
	}
	if c.rec != nil {
		// Held across the enqueue so Sent lists frames in wire order.
		c.rec.mu.Lock()
		defer c.rec.mu.Unlock()
	}
	select {
	case c.out <- frame:
		if c.rec != nil {
			c.rec.sent = append(c.rec.sent, frame)
		}
	default:
		c.log.Warn("client too slow, dropping it", "queued", len(c.out))
		c.drop("send queue full")
	}
}

func (c *conn) emit(name string, payload any) { c.send(eventFrame(name, payload)) }

// drop ends the transport without a close frame, like a server crash or a
// ping timeout: the client sees the TCP connection go away.
func (c *conn) drop(reason string) {
	c.dropOnce.Do(func() {
		c.log.Debug("dropping websocket", "reason", reason)
		close(c.done)
		_ = c.ws.Close()
	})
}

func (c *conn) writeLoop() {
	defer c.srv.wg.Done()
	for {
		select {
		case <-c.done:
			return
		case frame := <-c.out:
			if frame == dropMarker || frame == closeMarker || frame == bareCloseMarker {
				c.finish(frame)
				return
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := c.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
				c.drop("write failed: " + err.Error())
				return
			}
		}
	}
}

// heartbeat pings every PingInterval and drops the client if no pong arrives
// within PingTimeout, as an Engine.IO v4 server does.
func (c *conn) heartbeat() {
	defer c.srv.wg.Done()
	interval, timeout := c.srv.opts.PingInterval, c.srv.opts.PingTimeout
	next := time.NewTimer(interval)
	defer next.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-next.C:
		}
		select { // forget a pong nobody asked for
		case <-c.pong:
		default:
		}
		c.send("2")
		deadline := time.NewTimer(timeout)
		select {
		case <-c.done:
			deadline.Stop()
			return
		case <-c.pong:
			deadline.Stop()
		case <-deadline.C:
			c.log.Info("ping timeout, dropping client")
			c.drop("ping timeout")
			return
		}
		next.Reset(interval)
	}
}

func (c *conn) readLoop() {
	defer c.srv.wg.Done()
	defer c.cleanup()
	c.ws.SetReadLimit(maxPayload)
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			c.log.Debug("websocket closed", "err", err)
			if c.rec != nil {
				c.rec.end()
			}
			return
		}
		if c.rec != nil && kind == websocket.TextMessage {
			c.rec.receive(string(data))
		}
		if c.script {
			continue
		}
		if kind != websocket.TextMessage {
			c.log.Warn("binary frame ignored: the sandbox speaks text frames only", "bytes", len(data))
			continue
		}
		c.handleFrame(string(data))
	}
}

// cleanup runs once the read side is gone: the user leaves its channel.
func (c *conn) cleanup() {
	c.drop("connection ended")
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	c.leaveChannel()
	delete(s.conns, c)
}
