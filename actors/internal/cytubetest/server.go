// Package cytubetest is a CyTube server for tests, on loopback: it serves
// socketconfig discovery and Engine.IO websockets, and either replays a
// recorded transcript (NewReplay) or runs a handler that tests script
// (NewServer with Standard or their own Handler).
package cytubetest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Handler runs one client connection; the socket is closed when it returns.
type Handler func(c *Conn)

// SocketConfigFunc answers GET /socketconfig/<channel>.json.
type SocketConfigFunc func(channel string) (status int, body string)

// Server is a test CyTube server.
type Server struct {
	hs       *httptest.Server
	upgrader websocket.Upgrader

	mu           sync.Mutex
	handler      Handler
	socketConfig SocketConfigFunc
	polling      string
	refuse       bool
	refuseWS     bool
	conns        []*Conn
	configGets   int
	closed       bool
	wg           sync.WaitGroup
}

// NewServer starts a server running h for every websocket; it is closed
// when the test ends.
func NewServer(t testing.TB, h Handler) *Server {
	t.Helper()
	s := &Server{handler: h}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.Close)
	return s
}

// URL is the server's base URL (http://127.0.0.1:port), the daemon's
// cytube.server_url.
func (s *Server) URL() string { return s.hs.URL }

// SetHandler replaces the handler for connections accepted from now on.
func (s *Server) SetHandler(h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

// SetSocketConfig replaces discovery; nil restores the default, which points
// every channel at this server.
func (s *Server) SetSocketConfig(f SocketConfigFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.socketConfig = f
}

// FailSocketConfig makes discovery answer status with body.
func (s *Server) FailSocketConfig(status int, body string) {
	s.SetSocketConfig(func(string) (int, string) { return status, body })
}

// SetRefuse makes discovery and the websocket endpoint answer HTTP 500.
func (s *Server) SetRefuse(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = refuse
}

// SetRefuseWebsocket makes only the websocket endpoint answer HTTP 500.
func (s *Server) SetRefuseWebsocket(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseWS = refuse
}

// CloseListener stops accepting TCP connections: clients then get
// "connection refused". Open sockets stay up.
func (s *Server) CloseListener() { _ = s.hs.Listener.Close() }

// Connections is the number of websockets accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// SocketConfigRequests is the number of discovery requests so far.
func (s *Server) SocketConfigRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.configGets
}

// Conn returns the i-th accepted websocket (1-based), nil if none yet.
func (s *Server) Conn(i int) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < 1 || i > len(s.conns) {
		return nil
	}
	return s.conns[i-1]
}

// Active returns the websockets whose client is still connected.
func (s *Server) Active() []*Conn {
	s.mu.Lock()
	all := append([]*Conn(nil), s.conns...)
	s.mu.Unlock()
	var out []*Conn
	for _, c := range all {
		select {
		case <-c.Done():
		default:
			out = append(out, c)
		}
	}
	return out
}

// PingAll sends "2" on every active socket.
func (s *Server) PingAll() {
	for _, c := range s.Active() {
		_ = c.Ping()
	}
}

// Broadcast sends one frame on every active socket.
func (s *Server) Broadcast(f string) {
	for _, c := range s.Active() {
		_ = c.Send(f)
	}
}

// InjectChat sends a chatMsg from user on every active socket and returns
// the frame it sent.
func (s *Server) InjectChat(user, msg string, serverTimeMillis int64) string {
	f := ChatFrame(user, msg, serverTimeMillis)
	s.Broadcast(f)
	return f
}

// ChatFrame is the chatMsg frame CyTube broadcasts for a line.
func ChatFrame(user, msg string, serverTimeMillis int64) string {
	payload, _ := json.Marshal(map[string]any{
		"username": user, "msg": msg, "meta": map[string]any{}, "time": serverTimeMillis,
	})
	return `42["chatMsg",` + string(payload) + `]`
}

// Close closes every socket and the server, and waits for the handlers.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := append([]*Conn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
	s.hs.CloseClientConnections()
	s.hs.Close()
	s.wg.Wait()
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse, refuseWS := s.refuse, s.refuse || s.refuseWS
	s.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/socketconfig/"):
		s.serveSocketConfig(w, r, refuse)
	case r.URL.Path == "/socket.io/" && r.URL.Query().Get("transport") == "websocket":
		s.serveWebsocket(w, r, refuseWS)
	case r.URL.Path == "/socket.io/" && r.URL.Query().Get("transport") == "polling":
		s.servePolling(w)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) serveSocketConfig(w http.ResponseWriter, r *http.Request, refuse bool) {
	s.mu.Lock()
	s.configGets++
	f := s.socketConfig
	s.mu.Unlock()
	if refuse {
		http.Error(w, "refused by the test", http.StatusInternalServerError)
		return
	}
	channel := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/socketconfig/"), ".json")
	status, body := http.StatusOK, `{"servers":[{"url":"`+s.URL()+`","secure":false}]}`
	if f != nil {
		status, body = f(channel)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (s *Server) servePolling(w http.ResponseWriter) {
	s.mu.Lock()
	body := s.polling
	s.mu.Unlock()
	if body == "" {
		http.Error(w, "polling is not served by this test server", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	_, _ = w.Write([]byte(body))
}

func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request, refuse bool) {
	if refuse {
		http.Error(w, "refused by the test", http.StatusInternalServerError)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade already answered the client
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	c := newConn(len(s.conns)+1, ws)
	s.conns = append(s.conns, c)
	h := s.handler
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	if h != nil {
		h(c)
	}
	if c.wasDropped() {
		// Closing now could reset the stream before the client read what
		// was sent; the client closes its end once it reads the EOF.
		select {
		case <-c.Done():
		case <-time.After(dropLinger):
		}
	}
	c.Close()
	<-c.Done()
}

// dropLinger bounds how long a dropped socket waits for the client to close.
const dropLinger = 10 * time.Second
