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
