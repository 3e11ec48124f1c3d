// Package about answers !about: version, uptime and connection state.
package about

import (
	"fmt"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// Name is the plugin's name in the registry and on the tree.
const Name = "about"

// Props returns the about plugin of one channel.
func Props(deps pluginkit.Deps) *actor.Props {
	return pluginkit.Props(deps, func() actor.Actor {
		return &plugin{kit: pluginkit.New(deps, Name, declare)}
	})
}

func declare() pluginkit.Registration {
	return pluginkit.Registration{Commands: []messages.CommandSpec{{
		Name: "about", Aliases: []string{"version"}, Cooldown: 10 * time.Second, PMAllowed: true,
		Description: "what this bot is, its version and its connection", Usage: "about",
	}}, WatchConnection: true}
}

type plugin struct{ kit *pluginkit.Kit }

func (p *plugin) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	if m, ok := ctx.Message().(*messages.Command); ok && m.Name == "about" {
		d := p.kit.Deps
		p.kit.Reply(ctx, m, Text(d.Version, d.Clock.Now().Sub(d.StartedAt), p.kit.Connection()))
	}
}

// Text is the !about answer.
func Text(version string, up time.Duration, conn pluginkit.Connection) string {
	if version == "" {
		version = "dev"
	}
	s := fmt.Sprintf("daz %s, a CyTube bot. Up %s.", version, pluginkit.FormatDuration(up))
	if !conn.Known {
		return s
	}
	st := conn.State
	s += fmt.Sprintf(" Connection: %s", st.State)
	if st.State == messages.StateOnline && st.Username != "" {
		s += fmt.Sprintf(" as %s (rank %s)", st.Username, strconv.FormatFloat(st.Rank, 'f', -1, 64))
	}
	if st.Attempt > 0 && st.State != messages.StateOnline {
		s += fmt.Sprintf(", attempt %d", st.Attempt)
	}
	return s + "."
}
