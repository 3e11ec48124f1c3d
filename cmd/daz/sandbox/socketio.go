package sandbox

import (
	"strings"

	"github.com/daz-bot/daz/actors/connection/frame"
)

// This file is the protocol layer above the websocket: Engine.IO packet types,
// the Socket.IO default namespace and event dispatch.

func (c *conn) handleFrame(text string) {
	p, err := frame.Parse([]byte(text))
	if err != nil {
		c.badFrame(text, err)
		return
	}
	s := c.srv
	switch p.Type {
	case frame.TypePong:
		select {
		case c.pong <- struct{}{}:
		default:
		}
	case frame.TypeClose:
		c.drop("client sent engine.io close")
	case frame.TypeConnect:
		c.connectNamespace()
	case frame.TypeDisconnect:
		s.mu.Lock()
		c.disconnectNamespace()
		s.mu.Unlock()
	case frame.TypeEvent:
		s.mu.Lock()
		if !c.nsConnected {
			refused := c.refused
			s.mu.Unlock()
			if refused {
				// CyTube closes a rate-limited socket that talks on.
				c.queueEnd(bareCloseMarker)
				return
			}
			c.log.Debug("event before namespace connect ignored", "event", p.Name)
			return
		}
		c.dispatch(incomingEvent{name: p.Name, payload: p.Payload()})
		hooks := c.dueHooks
		c.dueHooks = nil
		s.mu.Unlock()
		for _, h := range hooks {
			h(&Socket{c: c})
		}
	default:
		// EIO4 clients never ping; upgrade and noop only matter on polling.
		c.log.Debug("packet ignored", "frame", truncateForLog(text))
	}
}

// badFrame answers what frame.Parse refused: another namespace gets
// CyTube's "Invalid namespace", other Socket.IO trouble is ignored, and
// Engine.IO garbage ends the socket as engine.io does.
func (c *conn) badFrame(text string, err error) {
	switch {
	case strings.HasPrefix(text, "40/"):
		ns, _, _ := strings.Cut(text[2:], ",")
		c.send("44" + ns + "," + string(mustJSON(map[string]string{"message": "Invalid namespace"})))
	case strings.HasPrefix(text, "4"):
		c.log.Warn("malformed socket.io packet ignored", "err", err, "frame", truncateForLog(text))
	default:
		c.log.Warn("engine.io parse error, closing", "frame", truncateForLog(text))
		c.drop("engine.io parse error")
	}
}

// connectNamespace answers "40": only the default namespace exists. A
// socket over the connection-rate limit, or any socket when a test asks for
// it, gets 44 instead.
func (c *conn) connectNamespace() {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.nsConnected {
		return
	}
	msg := s.opts.Hooks.ConnectError
	if msg == "" && !s.allowConnect(c.ip) {
		msg = "Rate limit exceeded"
	}
	if msg != "" {
		outcome := ConnectRefused
		if msg == "Rate limit exceeded" && s.opts.Hooks.ConnectError == "" {
			outcome = ConnectRateLimited
		}
		s.logConnect(c.ip, outcome)
		c.refused = true
		c.send(connectErrorFrame(msg))
		return
	}
	c.nsConnected = true
	c.send("40" + string(mustJSON(map[string]string{"sid": newSID()})))
	if max := s.opts.MaxSocketsPerIP; max > 0 && s.socketsFrom(c.ip) > max {
		s.logConnect(c.ip, ConnectTooMany)
		c.log.Info("too many sockets from one address", "ip", c.ip, "max", max)
		c.emit("kick", map[string]string{"reason": "Too many connections from your IP address"})
		c.disconnectNamespace()
		c.send("41")
		c.queueEnd(closeMarker)
		return
	}
	s.logConnect(c.ip, ConnectAccepted)
	c.emit("rank", -1)
}

// allowConnect spends one token of the client IP's connection-rate bucket.
// Callers hold mu.
func (s *Server) allowConnect(ip string) bool {
	if s.opts.ConnectBurst <= 0 || s.opts.ConnectInterval <= 0 {
		return true
	}
	b, ok := s.connRate[ip]
	if !ok {
		b = newBucket(float64(s.opts.ConnectBurst), 1/s.opts.ConnectInterval.Seconds())
		s.connRate[ip] = b
	}
	return b.limiter.AllowN(s.now(), 1)
}

// socketsFrom counts the connected sockets of one client IP. Callers hold mu.
func (s *Server) socketsFrom(ip string) int {
	n := 0
	for c := range s.conns {
		if c.ip == ip && c.nsConnected {
			n++
		}
	}
	return n
}

// disconnectNamespace is "41" in either direction: the socket leaves its
// channel and forgets its login; the websocket itself stays open, and a new
// "40" starts over. Callers hold Server.mu.
func (c *conn) disconnectNamespace() {
	c.leaveChannel()
	c.nsConnected = false
	c.ident = identity{}
	c.antiflood = nil
}

// kick is CyTube's kick: the reason, then a namespace disconnect. The server
// leaves the websocket open; clients close it themselves. Callers hold
// Server.mu.
func (c *conn) kick(reason string) {
	c.emit("kick", map[string]string{"reason": reason})
	c.disconnectNamespace()
	c.send("41")
}

func (c *conn) dispatch(ev incomingEvent) {
	switch ev.name {
	case "joinChannel":
		c.onJoinChannel(ev.payload)
	case "login":
		c.onLogin(ev.payload)
	case "channelPassword":
		c.onChannelPassword(ev.payload)
	case "chatMsg":
		c.onChatMsg(ev.payload)
	case "pm":
		c.onPM(ev.payload)
	case "setOptions":
		c.onSetOptions(ev.payload)
	case "setChannelRank":
		c.onSetChannelRank(ev.payload)
	case "requestChannelRanks":
		c.onRequestChannelRanks()
	case "setMotd":
		c.onSetMotd(ev.payload)
	case "requestBanlist":
		c.onRequestBanlist()
	case "unban":
		c.onUnban(ev.payload)
	case "queue":
		c.onQueue(ev.payload)
	case "delete":
		c.onDelete(ev.payload)
	case "playNext":
		c.onPlayNext()
	default:
		// CyTube ignores events it has no handler for; so do we.
		c.log.Debug("unsupported event ignored", "event", ev.name)
	}
}

// rank is the socket's effective rank: -1 anonymous, 0 guest, otherwise the
// account's rank in its channel (1 outside any channel).
func (c *conn) rank() float64 {
	switch {
	case !c.ident.loggedIn():
		return rankAnonymous
	case c.ident.guest:
		return rankGuest
	case c.ch != nil:
		return c.ch.rankOf(c.ident.name)
	default:
		return rankRegistered
	}
}

func truncateForLog(s string) string {
	const limit = 200
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}
