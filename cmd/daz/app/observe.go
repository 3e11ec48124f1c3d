package app

import (
	"strings"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
)

// observe counts bus broadcasts into metrics (failed connection attempts by
// reason, EventFilter decisions) and wakes the retry-state store when the
// database is back. It runs on the publisher's goroutine, so it only
// increments counters and signals.
func (a *App) observe(msg any) {
	switch m := msg.(type) {
	case *messages.ConnectionState:
		a.showState(m)
		switch m.State {
		case messages.StateBackingOff, messages.StateCoolingDown, messages.StateStopped:
			a.metrics.Reconnect(m.Channel, failureKind(m.LastError))
			if m.State == messages.StateCoolingDown && strings.Contains(m.LastError, "Duplicate login") {
				// CyTube kicked one of two sessions of the bot in one
				// channel: a double connection, which ownership exists
				// to prevent.
				a.duplicates.Add(1)
			}
		}
	case *messages.Route:
		a.metrics.Routed(m.Channel, string(m.Decision))
	case *messages.CommandAnswered:
		a.metrics.CommandHandled(m.Command, m.Latency)
	case *messages.DatabaseState:
		// The writer's probe is the one loop waiting for the database;
		// the retry-state store rides on it.
		if s, ok := a.retryStore.(*supervision.PgRetryStore); ok && m.Up {
			s.DatabaseBack()
		}
	}
}

// showState keeps the web pages' view of a channel's connection. The app
// subscribes before the tree exists, so no state can be published before
// it listens, unlike a plugin that subscribes when it starts.
func (a *App) showState(m *messages.ConnectionState) {
	if a.webHub == nil {
		return
	}
	at := m.At
	if at.IsZero() {
		at = a.opts.Clock.Now()
	}
	a.webHub.SetRetry(m.Channel, hub.Retry{Attempt: m.Attempt, Until: m.Until, LastError: m.LastError, Reason: m.Reason})
	a.webHub.SetState(m.Channel, string(m.State), at)
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
