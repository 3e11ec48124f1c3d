package app

import (
	"strings"

	"github.com/daz-bot/daz/messages"
)

// observe counts bus broadcasts into metrics: failed connection attempts by
// reason and EventFilter decisions. It runs on the publisher's goroutine, so
// it only increments counters.
func (a *App) observe(msg any) {
	switch m := msg.(type) {
	case *messages.ConnectionState:
		switch m.State {
		case messages.StateBackingOff, messages.StateCoolingDown, messages.StateStopped:
			a.metrics.Reconnect(m.Channel, failureKind(m.LastError))
		}
	case *messages.Route:
		a.metrics.Routed(m.Channel, string(m.Decision))
	case *messages.CommandAnswered:
		a.metrics.CommandHandled(m.Command, m.Latency)
	}
}

// failureKind takes the failure kind ("kicked", "rate-limited", ...) that
// starts a connection error text, keeping the label set small and fixed even
// though the rest of the text comes from the server.
func failureKind(lastError string) string {
	kind, _, _ := strings.Cut(lastError, ":")
	if kind == "" || len(kind) > 24 || strings.Trim(kind, "abcdefghijklmnopqrstuvwxyz-") != "" {
		return "other"
	}
	return kind
}
