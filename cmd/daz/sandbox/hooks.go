package sandbox

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// These methods let tests and the CLI drive the sandbox from outside the
// protocol. Channel and user names are case-insensitive.

// ErrNotFound reports an unknown channel or a user who is not in it.
var ErrNotFound = errors.New("sandbox: not found")

// existingChannel looks up a channel someone configured or joined. Callers
// hold mu.
func (s *Server) existingChannel(name string) (*channel, error) {
	ch, ok := s.channels[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("channel %q: %w", name, ErrNotFound)
	}
	return ch, nil
}

// SetRank sets a registered account's rank in a channel, announcing it the
// way setChannelRank does.
func (s *Server) SetRank(channel, name string, rank float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.existingChannel(channel)
	if err != nil {
		return err
	}
	acc, ok := s.accounts[strings.ToLower(name)]
	if !ok {
		return fmt.Errorf("account %q: %w", name, ErrNotFound)
	}
	ch.setRank(acc.name, rank)
	return nil
}

// Kick kicks a logged-in user: kick {"reason"} then 41, others see userLeave.
func (s *Server) Kick(channel, user, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.existingChannel(channel)
	if err != nil {
		return err
	}
	target := ch.userByName(user)
	if target == nil {
		return fmt.Errorf("user %q in %q: %w", user, channel, ErrNotFound)
	}
	target.kick(reason)
	return nil
}

// Say broadcasts a chat line as user (who need not be connected), through the
// same escaping as typed chat, and adds it to the backlog.
func (s *Server) Say(channel, user, msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.existingChannel(channel)
	if err != nil {
		return err
	}
	text := s.render.prepare(msg)
	if text == "" {
		return fmt.Errorf("sandbox: say in %q: message is blank", channel)
	}
	meta := chatMeta{}
	if rest, ok := strings.CutPrefix(text, "/me "); ok {
		text, meta = rest, chatMeta{AddClass: "action", Action: true}
	}
	ch.postChat(user, text, meta)
	return nil
}

// Messages returns every chat line broadcast in a channel so far, oldest
// first (moderator-only "[server]" notices excluded).
func (s *Server) Messages(channel string) []ChatMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.existingChannel(channel)
	if err != nil {
		return nil
	}
	out := make([]ChatMessage, 0, len(ch.history))
	for _, m := range ch.history {
		out = append(out, ChatMessage{Username: m.Username, HTML: m.Msg, Class: m.Meta.AddClass,
			Time: time.UnixMilli(m.Time)})
	}
	return out
}

// DuplicateLogins is how many times an account joined a channel it was
// already in (the older socket is kicked with "Duplicate login"): the
// number of moments two sessions of one account shared a channel.
func (s *Server) DuplicateLogins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.duplicateLogins
}

// ConnectionCount is the number of open websockets.
func (s *Server) ConnectionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// PartitionChange tells every socket in the channel that the channel moved:
// partitionChange carries a fresh socketconfig and clients are expected to
// reconnect through discovery. The server closes nothing itself.
func (s *Server) PartitionChange(channel string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.existingChannel(channel)
	if err != nil {
		return err
	}
	ch.broadcast("partitionChange", socketConfigFor(s.url))
	return nil
}

// DropAll cuts every websocket without a close frame, as a crash or network
// loss would (the clients see close code 1006).
func (s *Server) DropAll() {
	s.mu.Lock()
	conns := s.connList()
	s.mu.Unlock()
	for _, c := range conns {
		c.drop("DropAll")
	}
}

// SocketConfigFunc answers GET /socketconfig/<channel>.json in place of the
// sandbox: ok false leaves the request to the sandbox.
type SocketConfigFunc func(channel string) (status int, body string, ok bool)

// faults are the failures tests switch on at run time. Guarded by mu.
type faults struct {
	refuse       bool // discovery and websocket answer HTTP 500
	refuseWS     bool // only the websocket answers HTTP 500
	socketConfig SocketConfigFunc
	configGets   int
}

// SetRefuse makes discovery and the websocket endpoint answer HTTP 500.
func (s *Server) SetRefuse(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.refuse = refuse
}

// SetRefuseWebsocket makes only the websocket endpoint answer HTTP 500.
func (s *Server) SetRefuseWebsocket(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.refuseWS = refuse
}

// SetSocketConfig overrides discovery; nil restores the sandbox's own.
func (s *Server) SetSocketConfig(f SocketConfigFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.socketConfig = f
}

// FailSocketConfig makes discovery answer every channel with status and body.
func (s *Server) FailSocketConfig(status int, body string) {
	s.SetSocketConfig(func(string) (int, string, bool) { return status, body, true })
}

// SocketConfigRequests is the number of discovery requests so far.
func (s *Server) SocketConfigRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.configGets
}

// CloseListener stops accepting TCP connections, so clients get "connection
// refused"; open sockets stay up.
func (s *Server) CloseListener() {
	s.mu.Lock()
	l := s.listener
	s.mu.Unlock()
	if l != nil {
		_ = l.Close()
	}
}

// Connections is the number of websockets accepted so far, closed ones
// included.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.nextConnID)
}

// Socket returns the n-th accepted websocket (1-based), nil if there is none
// yet or it was not recorded (see Options.Record).
func (s *Server) Socket(n int) *Socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.accepted {
		if c.index == n {
			return &Socket{c: c}
		}
	}
	return nil
}

// PingAll sends "2" on every open websocket.
func (s *Server) PingAll() { s.Broadcast("2") }

// Broadcast sends one raw frame on every open websocket.
func (s *Server) Broadcast(f string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.send(f)
	}
}

// ConnectOutcome is what the server made of one "40".
type ConnectOutcome string

// The outcomes ConnectLog records.
const (
	ConnectAccepted    ConnectOutcome = "accepted"
	ConnectRateLimited ConnectOutcome = "rate-limited" // 44 "Rate limit exceeded"
	ConnectTooMany     ConnectOutcome = "too-many"     // kicked: too many connections from the address
	ConnectRefused     ConnectOutcome = "refused"      // Hooks.ConnectError
)

// ConnectRecord is one namespace connect as the server saw it, on its clock.
type ConnectRecord struct {
	IP      string
	At      time.Time
	Outcome ConnectOutcome
}

// maxConnectLog bounds the log of a long-running sandbox; tests look at far
// fewer.
const maxConnectLog = 10000

// logConnect records a "40". Callers hold mu.
func (s *Server) logConnect(ip string, outcome ConnectOutcome) {
	if len(s.connectLog) >= maxConnectLog {
		s.connectLog = append(s.connectLog[:0], s.connectLog[1:]...)
	}
	s.connectLog = append(s.connectLog, ConnectRecord{IP: ip, At: s.now(), Outcome: outcome})
}

// ConnectLog returns every namespace connect so far (the latest 10000),
// oldest first: who, when on the server's clock, and whether the server's
// per-address limits let it in.
func (s *Server) ConnectLog() []ConnectRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ConnectRecord(nil), s.connectLog...)
}
