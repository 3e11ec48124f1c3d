package sandbox

import (
	"strings"
)

// This file is the protocol layer above the websocket: Engine.IO packet types,
// the Socket.IO default namespace and event dispatch.

func (c *conn) handleFrame(frame string) {
	if frame == "" {
		return
	}
	switch frame[0] {
	case eioPong:
		select {
		case c.pong <- struct{}{}:
		default:
		}
	case eioMessage:
		c.handlePacket(frame[1:])
	case eioClose:
		c.drop("client sent engine.io close")
	case eioPing, eioUpgrade, eioNoop:
		// EIO4 clients never ping; upgrade and noop only matter on polling.
	default:
		c.log.Warn("engine.io parse error, closing", "frame", truncateForLog(frame))
		c.drop("engine.io parse error")
	}
}

func (c *conn) handlePacket(packet string) {
	if packet == "" {
		return
	}
	s := c.srv
	switch packet[0] {
	case sioConnect:
		c.connectNamespace(packet[1:])
	case sioDisconnect:
		s.mu.Lock()
		c.disconnectNamespace()
		s.mu.Unlock()
	case sioEvent:
		ev, err := parseEvent(packet[1:])
		if err != nil {
			c.log.Warn("malformed socket.io event ignored", "err", err, "frame", truncateForLog(packet))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !c.nsConnected {
			c.log.Debug("event before namespace connect ignored", "event", ev.name)
			return
		}
		c.dispatch(ev)
	default:
		c.log.Debug("socket.io packet ignored", "frame", truncateForLog(packet))
	}
}

// connectNamespace answers "40": only the default namespace exists.
func (c *conn) connectNamespace(rest string) {
	if strings.HasPrefix(rest, "/") {
		ns, _, _ := strings.Cut(rest, ",")
		if ns != "/" {
			c.send("44" + ns + "," + string(mustJSON(map[string]string{"message": "Invalid namespace"})))
			return
		}
	}
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.nsConnected {
		return
	}
	c.nsConnected = true
	c.send("40" + string(mustJSON(map[string]string{"sid": newSID()})))
	c.emit("rank", -1)
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
