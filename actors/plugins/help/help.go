// Package help answers !help from the EventFilter's live command table, so
// it lists exactly what is routed, with the operator's overrides applied,
// and only what the asking user may run.
package help

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// Name is the plugin's name in the registry and on the tree.
const Name = "help"

// askTimeout bounds the wait for the EventFilter's table.
const askTimeout = 5 * time.Second

// Props returns the help plugin of one channel.
func Props(deps pluginkit.Deps) *actor.Props {
	return pluginkit.Props(deps, func() actor.Actor {
		return &plugin{kit: pluginkit.New(deps, Name, declare)}
	})
}

func declare() pluginkit.Registration {
	return pluginkit.Registration{Commands: []messages.CommandSpec{{
		Name: "help", Aliases: []string{"commands"}, Cooldown: 5 * time.Second, PMAllowed: true,
		Description: "list the commands you can use, or explain one", Usage: "help [command]",
	}}}
}

type plugin struct{ kit *pluginkit.Kit }

func (p *plugin) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	cmd, ok := ctx.Message().(*messages.Command)
	if !ok || cmd.Name != "help" {
		return
	}
	pluginkit.Ask(p.kit.Deps.System, ctx, p.kit.Deps.EventFilter, askTimeout, &messages.ListCommands{Channel: p.kit.Deps.Channel},
		func(res any, err error) {
			list, ok := res.(*messages.CommandList)
			if err != nil || !ok {
				p.kit.Log.Warn("command table not available", slog.Any("error", err))
				p.kit.Reply(ctx, cmd, "Help is not available right now, try again in a moment.")
				return
			}
			p.kit.Reply(ctx, cmd, Answer(p.kit.Deps.Prefix, cmd, list.Commands))
		})
}

// Answer is the reply to cmd given the command table.
func Answer(prefix string, cmd *messages.Command, table []messages.CommandInfo) string {
	if len(cmd.Args) > 0 {
		return describe(prefix, strings.ToLower(strings.TrimPrefix(cmd.Args[0], prefix)), table)
	}
	var names []string
	for _, c := range table {
		if c.Enabled && c.MinRank <= cmd.Rank && (!cmd.PM || c.PMAllowed) {
			names = append(names, prefix+c.Name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "No commands are available to you here."
	}
	return fmt.Sprintf("Commands: %s — %shelp <command> for details.", strings.Join(names, " "), prefix)
}

func describe(prefix, word string, table []messages.CommandInfo) string {
	for _, c := range table {
		if c.Name != word && !slices.Contains(c.Aliases, word) {
			continue
		}
		if !c.Enabled {
			return fmt.Sprintf("%s%s is disabled.", prefix, c.Name)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s%s", prefix, c.Name)
		if c.Description != "" {
			fmt.Fprintf(&b, " — %s.", strings.TrimSuffix(c.Description, "."))
		}
		usage := c.Usage
		if usage == "" {
			usage = c.Name
		}
		fmt.Fprintf(&b, " Usage: %s%s", prefix, usage)
		if len(c.Aliases) > 0 {
			b.WriteString(" — also")
			for _, a := range c.Aliases {
				fmt.Fprintf(&b, " %s%s", prefix, a)
			}
		}
		if c.MinRank > 0 {
			fmt.Fprintf(&b, " — needs rank %g", c.MinRank)
		}
		if !c.PMAllowed {
			b.WriteString(" — chat only")
		}
		return b.String()
	}
	return fmt.Sprintf("There is no %s%s command.", prefix, word)
}
