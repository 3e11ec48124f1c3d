package frame

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// SocketConfigError is the server's own refusal in a socketconfig body, e.g.
// `Channel "bad name" does not exist.` for an invalid channel name. Retrying
// will not help, unlike a network or HTTP failure.
type SocketConfigError struct {
	Message string
}

func (e *SocketConfigError) Error() string { return "socketconfig: " + e.Message }

// ParseSocketConfig reads the body of GET /socketconfig/<channel>.json and
// returns the server URL to connect to: the first secure server, else the
// first one.
func ParseSocketConfig(body []byte) (string, error) {
	var cfg struct {
		Servers []struct {
			URL    string `json:"url"`
			Secure bool   `json:"secure"`
		} `json:"servers"`
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(body, &cfg); err != nil {
		return "", fmt.Errorf("socketconfig: %w", err)
	}
	if cfg.Error != nil {
		return "", &SocketConfigError{Message: *cfg.Error}
	}
	chosen := ""
	for _, s := range cfg.Servers {
		if s.URL == "" {
			continue
		}
		if s.Secure {
			return s.URL, nil
		}
		if chosen == "" {
			chosen = s.URL
		}
	}
	if chosen == "" {
		return "", errors.New("socketconfig: no server with a url")
	}
	return chosen, nil
}

// WebsocketURL turns a socketconfig server URL into the Engine.IO v4
// websocket endpoint. Any path on the server URL is dropped: Socket.IO
// clients treat it as a namespace, not a prefix, and CyTube serves
// /socket.io/ at the root.
func WebsocketURL(serverURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(serverURL))
	if err != nil {
		return "", fmt.Errorf("websocket url from %q: %w", serverURL, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("websocket url from %q: unsupported scheme %q", serverURL, u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("websocket url from %q: no host", serverURL)
	}
	ws := url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/socket.io/", RawQuery: "EIO=4&transport=websocket"}
	return ws.String(), nil
}
