// Package pluginkit is the shared plumbing of daz feature plugins: each
// plugin is its own actor, declares its commands and the events it wants to
// the channel's EventFilter when it starts (and again whenever the
// EventFilter restarts), answers in chat or by PM through the channel's
// outbound queue, and talks to PostgreSQL only through the SQL writer without
// ever blocking its mailbox.
package pluginkit

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/web/hub"
)

// DefaultSQLTimeout bounds one SQL round trip; a plugin answers "database
// unavailable" instead of waiting longer.
const DefaultSQLTimeout = 10 * time.Second

// Deps is what every plugin of one channel shares. The lead wires it once per
// channel subtree.
type Deps struct {
	System      *actorkit.System
	Channel     string
	Prefix      string     // command prefix, for help texts; "!" when empty
	EventFilter *actor.PID // the channel's EventFilter
	Outbound    *actor.PID // the channel's outbound queue
	SQL         *actor.PID // the shared SQL writer
	Clock       clock.Clock
	Logger      *slog.Logger
	Version     string    // shown by !about
	StartedAt   time.Time // daemon start, shown by !uptime; Clock.Now() when zero
	LogDir      string    // root of the logger plugin's text logs; empty disables it
	SQLTimeout  time.Duration
	// Supervision reports plugins that their supervisor disabled after
	// repeated failures; nil when no such supervisor is in use.
	Supervision DisableChecker
	// Web is the web server's live hub; nil when the web server is off.
	Web *hub.Hub
	// StateNodes are the tree nodes that hold the channel's latest
	// ConnectionState, freshest first (the connection, then the channel,
	// which keeps it once the connection has stopped). A watching Kit
	// starts from what they hold: a plugin that starts, or restarts after
	// a panic, once the channel is online would otherwise not know it until
	// the next reconnect.
	StateNodes []string

	// shared, set by Shared, is one defaulted copy that every Kit made
	// from these Deps points to instead of keeping its own.
	shared *Deps
}

// Shared returns d with its defaults filled and a copy that every plugin Kit
// made from it (or from a copy of it) shares. A channel's eleven plugins
// each kept their own ~180-byte Deps before.
func (d Deps) Shared() Deps {
	d = d.WithDefaults()
	d.shared = nil
	c := d
	d.shared = &c
	return d
}

// DisableChecker is implemented by the plugin supervisor strategy
// (supervision.PluginStrategy).
type DisableChecker interface {
	Disabled(actorID string) (reason string, disabled bool)
}

// Spec is one plugin the lead spawns under the channel subtree.
type Spec struct {
	Name  string
	Props *actor.Props
}

// WithDefaults fills the optional fields.
func (d Deps) WithDefaults() Deps {
	if d.Clock == nil {
		if d.System != nil {
			d.Clock = d.System.Clock()
		} else {
			d.Clock = clock.Real()
		}
	}
	if d.Logger == nil {
		if d.System != nil {
			d.Logger = d.System.Logger()
		} else {
			d.Logger = slog.New(slog.DiscardHandler)
		}
	}
	if d.Prefix == "" {
		d.Prefix = "!"
	}
	if d.StartedAt.IsZero() {
		d.StartedAt = d.Clock.Now()
	}
	if d.SQLTimeout <= 0 {
		d.SQLTimeout = DefaultSQLTimeout
	}
	return d
}
