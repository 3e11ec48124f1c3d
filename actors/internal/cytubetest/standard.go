package cytubetest

import (
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/daz-bot/daz/actors/connection/frame"
)

// Standard is a small, well-behaved CyTube: handshake, join, login, chat and
// PM echo. Its fields script deviations; the zero value behaves like the
// recordings (pingInterval 25 s, pingTimeout 120 s, but no ping unless the
// test sends one).
type Standard struct {
	PingInterval, PingTimeout time.Duration
	// ConnectError answers the client's 40 with 44{"message":...}.
	ConnectError string
	// LoginError refuses every login with this text.
	LoginError string
	// Backlog is replayed as chatMsg frames in the join burst.
	Backlog []string
	// AfterJoin runs after the join burst, AfterLogin after a successful
	// login reply; the connection continues when they return (unless they
	// dropped or kicked it).
	AfterJoin  func(c *Conn)
	AfterLogin func(c *Conn)

	clock atomic.Int64
}

// Handle runs the protocol on one connection until the client leaves.
func (st *Standard) Handle(c *Conn) {
	interval, timeout := st.PingInterval, st.PingTimeout
	if interval == 0 {
		interval = 25 * time.Second
	}
	if timeout == 0 {
		timeout = 120 * time.Second
	}
	if c.Open(interval, timeout) != nil {
		return
	}
	if st.ConnectError != "" {
		_ = c.RejectConnect(Forever, st.ConnectError)
		<-c.Done()
		return
	}
	if c.AcceptConnect(Forever) != nil {
		return
	}
	for {
		f, err := c.Next(Forever)
		if err != nil {
			return
		}
		if f == frame.FrameDisconnect {
			<-c.Done()
			return
		}
		p, err := frame.Parse([]byte(f))
		if err != nil || p.Type != frame.TypeEvent {
			continue
		}
		if !st.answer(c, p.Name, p.Payload()) {
			return
		}
	}
}

// answer replies to one client event; false ends the connection handler.
func (st *Standard) answer(c *Conn, name string, payload json.RawMessage) bool {
	var body struct {
		Name string          `json:"name"`
		PW   string          `json:"pw"`
		To   string          `json:"to"`
		Msg  string          `json:"msg"`
		Meta json.RawMessage `json:"meta"`
	}
	_ = json.Unmarshal(payload, &body)
	switch name {
	case "joinChannel":
		for _, line := range st.Backlog {
			_ = c.Send(ChatFrame("someone", line, st.tick()))
		}
		_ = c.Emit("userlist", []any{})
		if st.AfterJoin != nil {
			st.AfterJoin(c)
		}
	case "login":
		return st.login(c, body.Name, body.PW)
	case "chatMsg":
		_ = c.Send(ChatFrame(c.loginName(), body.Msg, st.tick()))
	case "pm":
		_ = c.Emit("pm", map[string]any{
			"username": c.loginName(), "msg": body.Msg, "meta": map[string]any{}, "time": st.tick(), "to": body.To,
		})
	}
	return true
}

func (st *Standard) login(c *Conn, name, pw string) bool {
	if st.LoginError != "" {
		_ = c.Emit("login", map[string]any{"success": false, "error": st.LoginError})
		return true
	}
	c.setLoginName(name)
	if pw == "" {
		_ = c.Emit("rank", 0)
		_ = c.Emit("login", map[string]any{"success": true, "name": name, "guest": true})
	} else {
		_ = c.Emit("rank", 1)
		_ = c.Emit("login", map[string]any{"success": true, "name": name})
	}
	if st.AfterLogin != nil {
		st.AfterLogin(c)
	}
	return true
}

// tick is a server clock for chat times: increasing epoch milliseconds.
func (st *Standard) tick() int64 {
	return 1795718500000 + st.clock.Add(1)
}
