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
func HostProps(sys *actorkit.System, specs []Spec, strategy actor.SupervisorStrategy) *actor.Props {
	var opts []actorkit.Option
	if strategy != nil {
		opts = append(opts, actorkit.WithSupervisor(strategy))
	}
	return sys.Props("plugins", func() actor.Actor { return &host{sys: sys, specs: specs} }, opts...)
}

type host struct {
	sys   *actorkit.System
	specs []Spec
}

func (h *host) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); !ok {
		return
	}
	for _, s := range h.specs {
		if _, err := ctx.SpawnNamed(s.Props, s.Name); err != nil {
			// A name clash is a wiring bug; the other plugins still start.
			h.sys.Logger().Error("plugin did not start", slog.String("actor", ctx.Self().Id+"/"+s.Name), slog.Any("error", err))
		}
	}
}
