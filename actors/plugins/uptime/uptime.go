// Package uptime answers !uptime: how long the daemon has run and how long
// the channel connection has been online.
package uptime

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// Name is the plugin's name in the registry and on the tree.
const Name = "uptime"

// Props returns the uptime plugin of one channel.
func Props(deps pluginkit.Deps) *actor.Props {
	return pluginkit.Props(deps, func() actor.Actor {
		return &plugin{kit: pluginkit.New(deps, Name, declare)}
	})
}

func declare() pluginkit.Registration {
	return pluginkit.Registration{Commands: []messages.CommandSpec{{
		Name: "uptime", Cooldown: 5 * time.Second, PMAllowed: true,
		Description: "how long the bot has been running and connected", Usage: "uptime",
	}}, WatchConnection: true}
}

type plugin struct{ kit *pluginkit.Kit }

func (p *plugin) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	if m, ok := ctx.Message().(*messages.Command); ok && m.Name == "uptime" {
		p.kit.Reply(ctx, m, Text(p.kit.Deps.Clock.Now(), p.kit.Deps.StartedAt, p.kit.Deps.Channel, p.kit.Connection()))
	}
}

// Text is the !uptime answer.
func Text(now, started time.Time, channel string, conn pluginkit.Connection) string {
	s := fmt.Sprintf("Up %s", pluginkit.FormatDuration(now.Sub(started)))
	switch {
	case !conn.OnlineSince.IsZero():
		s += fmt.Sprintf(", connected to %s for %s", channel, pluginkit.FormatDuration(now.Sub(conn.OnlineSince)))
	case conn.Known:
		s += fmt.Sprintf(", connection to %s is %s", channel, conn.State.State)
	}
	return s + "."
}
