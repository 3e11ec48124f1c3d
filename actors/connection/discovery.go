package connection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/daz-bot/daz/messages"

	"github.com/daz-bot/daz/actors/connection/frame"
)

// maxSocketConfigBytes bounds the discovery body; a real one is ~70 bytes.
const maxSocketConfigBytes = 64 << 10

// socketConfigURL is <server>/socketconfig/<channel>.json.
func socketConfigURL(serverURL, channel string) string {
	return strings.TrimRight(serverURL, "/") + "/socketconfig/" + url.PathEscape(channel) + ".json"
}

// discover asks the server where the channel lives and returns the
// websocket URL. A JSON error from the server (HTTP 404 for an invalid name)
// is messages.FailInvalidChannel; anything else is messages.FailDiscovery and worth a retry.
func discover(ctx context.Context, client *http.Client, serverURL, channel string) (string, *messages.ConnectionFailure) {
	target := socketConfigURL(serverURL, channel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", fail(messages.FailConfig, "", fmt.Errorf("discovery request %s: %w", target, err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fail(messages.FailDiscovery, "", fmt.Errorf("GET %s: %w", target, err))
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSocketConfigBytes))
	if err != nil {
		return "", fail(messages.FailDiscovery, "", fmt.Errorf("GET %s: read body: %w", target, err))
	}
	server, perr := frame.ParseSocketConfig(body)
	var refusal *frame.SocketConfigError
	switch {
	case errors.As(perr, &refusal):
		return "", fail(messages.FailInvalidChannel, refusal.Message, fmt.Errorf("GET %s: HTTP %d", target, resp.StatusCode))
	case resp.StatusCode != http.StatusOK:
		return "", fail(messages.FailDiscovery, "", fmt.Errorf("GET %s: HTTP %d", target, resp.StatusCode))
	case perr != nil:
		return "", fail(messages.FailDiscovery, "", fmt.Errorf("GET %s: %w", target, perr))
	}
	wsURL, err := frame.WebsocketURL(server)
	if err != nil {
		return "", fail(messages.FailDiscovery, "", fmt.Errorf("GET %s: %w", target, err))
	}
	return wsURL, nil
}
