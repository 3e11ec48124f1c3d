package pluginkit

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
)

// HostProps is an optional parent for a channel's plugins: it spawns each
// spec as a named child ("plugins/ping", ...) supervised by strategy, so the
// plugin strategy applies to plugins only and not to their siblings
// (connection, eventfilter). With a nil strategy protoactor's default
// (restart) applies.
//
// The host passes each plugin's *actor.Terminated on to eventFilter (when
// set), so the EventFilter marks the commands of a plugin that stopped for
// good unavailable. A parent hears of its children's end anyway; having the
// EventFilter watch every plugin instead cost each plugin protoactor's
// watcher set and context extras (~600 bytes a plugin).
func HostProps(sys *actorkit.System, specs []Spec, strategy actor.SupervisorStrategy, eventFilter *actor.PID) *actor.Props {
	var opts []actorkit.Option
	if strategy != nil {
		opts = append(opts, actorkit.WithSupervisor(strategy))
	}
	return sys.Props("plugins", func() actor.Actor { return &host{sys: sys, specs: specs, eventFilter: eventFilter} }, opts...)
}

type host struct {
	sys         *actorkit.System
	specs       []Spec
	eventFilter *actor.PID
}

func (h *host) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		h.start(ctx)
	case *actor.Terminated:
		if h.eventFilter != nil {
			ctx.Send(h.eventFilter, m)
		}
	}
}

func (h *host) start(ctx actor.Context) {
	for _, s := range h.specs {
		if _, err := ctx.SpawnNamed(s.Props, s.Name); err != nil {
			// A name clash is a wiring bug; the other plugins still start.
			h.sys.Logger().Error("plugin did not start", slog.String("actor", ctx.Self().Id+"/"+s.Name), slog.Any("error", err))
		}
	}
}
