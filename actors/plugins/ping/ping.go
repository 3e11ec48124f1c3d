// Package ping is the smallest plugin: !ping answers pong, which shows the
// whole path (connection, EventFilter, plugin, outbound) works.
package ping

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// Name is the plugin's name in the registry and on the tree.
const Name = "ping"

// Props returns the ping plugin of one channel.
func Props(deps pluginkit.Deps) *actor.Props {
	return pluginkit.Props(deps, func() actor.Actor {
		return &plugin{kit: pluginkit.New(deps, Name, declare)}
	})
}

func declare() pluginkit.Registration {
	return pluginkit.Registration{Commands: []messages.CommandSpec{{
		Name: "ping", Cooldown: 2 * time.Second, PMAllowed: true,
		Description: "check that the bot is alive", Usage: "ping",
	}}}
}

type plugin struct{ kit *pluginkit.Kit }

func (p *plugin) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	if cmd, ok := ctx.Message().(*messages.Command); ok && cmd.Name == "ping" {
		p.kit.Reply(ctx, cmd, "pong")
	}
}
