package sandbox

import (
	"encoding/json"
	"strings"
	"time"
)

// chatMeta is the meta object of chatMsg and pm; field order is wire order.
type chatMeta struct {
	AddClass                   string `json:"addClass,omitempty"`
	Action                     bool   `json:"action,omitempty"`
	AddClassToNameAndTimestamp bool   `json:"addClassToNameAndTimestamp,omitempty"`
	// Shadow marks a shadow-muted user's line, which only they and the
	// moderators get.
	Shadow bool `json:"shadow,omitempty"`
}

type chatMsg struct {
	Username string   `json:"username"`
	Msg      string   `json:"msg"`
	Meta     chatMeta `json:"meta"`
	Time     int64    `json:"time"`
}

type privateMsg struct {
	Username string   `json:"username"`
	Msg      string   `json:"msg"`
	Meta     chatMeta `json:"meta"`
	Time     int64    `json:"time"`
	To       string   `json:"to"`
}

// ChatMessage is one line the sandbox broadcast to a channel.
type ChatMessage struct {
	Username string
	// HTML is the message as sent on the wire: escaped, filtered, linked.
	HTML string
	// Class is meta.addClass: "action" for /me, "greentext", or "".
	Class string
	Time  time.Time
}

// checkMessagePayload mirrors CyTube's type check of chatMsg and pm: the
// returned text follows "Unexpected error for message <event>: ".
func checkMessagePayload(payload json.RawMessage, stringKeys ...string) (map[string]json.RawMessage, string) {
	if got := jsTypeOf(payload); got != "object" {
		return nil, "Expected type object, got " + got
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		return nil, "Expected type object, got " + jsTypeOf(payload)
	}
	for _, key := range stringKeys {
		if got := jsTypeOf(fields[key]); got != "string" {
			return nil, "Expected key " + key + " to be of type string, instead got " + got
		}
	}
	return fields, ""
}

func stringField(fields map[string]json.RawMessage, key string) string {
	var s string
	_ = json.Unmarshal(fields[key], &s) // checked by checkMessagePayload
	return s
}

// onChatMsg handles chatMsg {"msg","meta"}. Callers hold Server.mu.
func (c *conn) onChatMsg(payload json.RawMessage) {
	fields, problem := checkMessagePayload(payload, "msg")
	if problem != "" {
		c.emit("errorMsg", map[string]string{"msg": "Unexpected error for message chatMsg: " + problem})
		return
	}
	ch := c.ch
	if ch == nil || !c.ident.loggedIn() {
		return // anonymous chat is dropped without a word, as on CyTube
	}
	if ch.muted[strings.ToLower(c.ident.name)] {
		c.emit("noflood", map[string]string{"action": "chat", "msg": "You have been muted on this channel."})
		return
	}
	text := c.srv.render.prepare(stringField(fields, "msg"))
	if text == "" || !c.allowMessage(true) {
		return
	}
	if c.chatCommand(text) {
		return
	}
	meta := chatMeta{}
	if rest, ok := strings.CutPrefix(text, "/me "); ok {
		if isBlank(rest) {
			return
		}
		text, meta = rest, chatMeta{AddClass: "action", Action: true}
	}
	c.setAFK(false)
	if ch.smuted[strings.ToLower(c.ident.name)] {
		ch.postShadow(c, text, meta)
		return
	}
	ch.postChat(c.ident.name, text, meta)
}

// postShadow delivers a shadow-muted user's line to them and the moderators
// only, and keeps it out of the backlog.
func (ch *channel) postShadow(from *conn, text string, meta chatMeta) {
	if meta.AddClass == "" && strings.HasPrefix(text, ">") {
		meta.AddClass = "greentext"
	}
	meta.Shadow = true
	f := eventFrame("chatMsg", chatMsg{Username: from.ident.name, Msg: ch.srv.render.html(text), Meta: meta,
		Time: ch.srv.now().UnixMilli()})
	for _, m := range ch.members {
		if m == from || m.rank() >= rankModerator {
			m.send(f)
		}
	}
}

// postChat renders and broadcasts one chat line and keeps it for the join
// backlog and Messages.
func (ch *channel) postChat(username, text string, meta chatMeta) {
	if meta.AddClass == "" && strings.HasPrefix(text, ">") {
		meta.AddClass = "greentext"
	}
	msg := chatMsg{
		Username: username,
		Msg:      ch.srv.render.html(text),
		Meta:     meta,
		Time:     ch.srv.now().UnixMilli(),
	}
	ch.broadcast("chatMsg", msg)
	ch.remember(msg)
}

func (ch *channel) remember(msg chatMsg) {
	ch.history = append(ch.history, msg)
	ch.backlog = append(ch.backlog, msg)
	if len(ch.backlog) > backlogLen {
		ch.backlog = ch.backlog[len(ch.backlog)-backlogLen:]
	}
}

// onPM handles pm {"to","msg","meta"}: both sides get the same pm frame.
// Callers hold Server.mu.
func (c *conn) onPM(payload json.RawMessage) {
	fields, problem := checkMessagePayload(payload, "to", "msg")
	if problem != "" {
		c.emit("errorMsg", map[string]string{"msg": "Unexpected error for message pm: " + problem})
		return
	}
	ch := c.ch
	if ch == nil || !c.ident.loggedIn() {
		return
	}
	to := stringField(fields, "to")
	switch {
	case !validUserName(to):
		c.emit("errorMsg", map[string]string{"msg": "PM failed: " + to + " isn't a valid username."})
		return
	case strings.EqualFold(to, c.ident.name):
		c.emit("errorMsg", map[string]string{"msg": "You can't PM yourself!"})
		return
	}
	target := ch.userByName(to)
	if target == nil {
		c.emit("errorMsg", map[string]string{"msg": "PM failed: " + to + " isn't connected to this channel."})
		return
	}
	text := c.srv.render.prepare(stringField(fields, "msg"))
	if text == "" || !c.allowMessage(false) {
		return
	}
	meta := chatMeta{}
	if strings.HasPrefix(text, ">") {
		meta.AddClass = "greentext"
	}
	pm := privateMsg{
		Username: c.ident.name,
		Msg:      c.srv.render.html(text),
		Meta:     meta,
		Time:     c.srv.now().UnixMilli(),
		To:       target.ident.name,
	}
	target.emit("pm", pm)
	c.emit("pm", pm)
}

// setAFK changes the AFK flag and tells the channel, as /afk and the first
// line after it do.
func (c *conn) setAFK(afk bool) {
	if c.afk == afk || c.ch == nil {
		return
	}
	c.afk = afk
	if afk {
		c.emit("clearVoteskipVote", nil)
	}
	c.ch.broadcastUserMeta(c, rankAnonymous)
	c.ch.broadcast("setAFK", map[string]any{"name": c.ident.name, "afk": afk})
}
