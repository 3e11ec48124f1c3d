// Package chatclient is a minimal CyTube user for end-to-end tests: it joins
// a channel over the real Engine.IO v4 websocket, logs in, chats, and
// records every chatMsg and pm it sees. It is deliberately independent of
// daz's own connection code, so the two cannot share a bug.
package chatclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Line is one chat line or PM the client received.
type Line struct {
	Event    string // chatMsg or pm
	Username string
	Msg      string
}

// Client is one connected user.
type Client struct {
	ws    *websocket.Conn
	wmu   sync.Mutex
	mu    sync.Mutex
	lines []Line
	done  chan struct{}
	login chan loginResult // the server's first answer to our login
}

type loginResult struct {
	Success bool
	Error   string
}

// loginWait bounds how long Dial waits for the login answer when ctx has no
// deadline of its own.
const loginWait = 10 * time.Second

// Dial connects to serverURL (http://host:port), joins channel and, when
// name is set, logs in (guest when password is empty) and returns once the
// server has answered the login. Returning earlier let a test's next client
// join before this one was a moderator, so this one missed the server's
// join notice.
func Dial(ctx context.Context, serverURL, channel, name, password string) (*Client, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("chatclient: %w", err)
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path, u.RawQuery = "/socket.io/", "EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("chatclient: dial: %w", err)
	}
	c := &Client{ws: ws, done: make(chan struct{}), login: make(chan loginResult, 1)}
	if _, _, err := ws.ReadMessage(); err != nil { // the open packet
		_ = ws.Close()
		return nil, fmt.Errorf("chatclient: open: %w", err)
	}
	go c.read()
	if err := c.writeRaw("40"); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Emit("joinChannel", map[string]string{"name": channel}); err != nil {
		c.Close()
		return nil, err
	}
	if name != "" {
		login := map[string]string{"name": name}
		if password != "" {
			login["pw"] = password
		}
		if err := c.Emit("login", login); err != nil {
			c.Close()
			return nil, err
		}
		if err := c.awaitLogin(ctx); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *Client) awaitLogin(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, loginWait)
	defer cancel()
	select {
	case r := <-c.login:
		if !r.Success {
			return fmt.Errorf("chatclient: login refused: %s", r.Error)
		}
		return nil
	case <-c.done:
		return fmt.Errorf("chatclient: connection closed before the login answer")
	case <-ctx.Done():
		return fmt.Errorf("chatclient: waiting for the login answer: %w", ctx.Err())
	}
}

func (c *Client) read() {
	defer close(c.done)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		frame := string(data)
		switch {
		case frame == "2":
			_ = c.writeRaw("3")
		case strings.HasPrefix(frame, "42"):
			var args []json.RawMessage
			if json.Unmarshal(data[2:], &args) != nil || len(args) < 2 {
				continue
			}
			var name string
			_ = json.Unmarshal(args[0], &name)
			if name == "login" {
				var r loginResult
				if json.Unmarshal(args[1], &r) == nil {
					select {
					case c.login <- r:
					default: // only the first answer matters
					}
				}
				continue
			}
			if name != "chatMsg" && name != "pm" {
				continue
			}
			var body struct{ Username, Msg string }
			if json.Unmarshal(args[1], &body) == nil {
				c.mu.Lock()
				c.lines = append(c.lines, Line{Event: name, Username: body.Username, Msg: body.Msg})
				c.mu.Unlock()
			}
		}
	}
}

func (c *Client) writeRaw(frame string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		return fmt.Errorf("chatclient: write: %w", err)
	}
	return nil
}

// Emit sends one client event.
func (c *Client) Emit(name string, payload any) error {
	b, err := json.Marshal([]any{name, payload})
	if err != nil {
		return fmt.Errorf("chatclient: encode %s: %w", name, err)
	}
	return c.writeRaw("42" + string(b))
}

// Say sends a chat line.
func (c *Client) Say(msg string) error {
	return c.Emit("chatMsg", map[string]any{"msg": msg, "meta": map[string]any{}})
}

// PM sends a private message.
func (c *Client) PM(to, msg string) error {
	return c.Emit("pm", map[string]any{"to": to, "msg": msg, "meta": map[string]any{}})
}

// Lines returns what the client received so far.
func (c *Client) Lines() []Line {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Line(nil), c.lines...)
}

// Count returns how many received lines match.
func (c *Client) Count(match func(Line) bool) int {
	n := 0
	for _, l := range c.Lines() {
		if match(l) {
			n++
		}
	}
	return n
}

// Close leaves politely and waits for the reader.
func (c *Client) Close() {
	_ = c.writeRaw("41")
	_ = c.ws.Close()
	<-c.done
}
