package pluginkit

import (
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/messages"
)

// Reply answers cmd where it came from: by PM to the user for a PM command,
// in the channel otherwise.
func (k *Kit) Reply(ctx actor.Context, cmd *messages.Command, text string) {
	if k.Deps.System != nil && !cmd.At.IsZero() {
		k.Deps.System.Publish(&messages.CommandAnswered{
			Channel: k.Deps.Channel, Command: cmd.Name, Latency: k.Deps.Clock.Now().Sub(cmd.At),
		})
	}
	if cmd.PM {
		k.PM(ctx, cmd.User, text)
		return
	}
	k.Say(ctx, text)
}

// Refuse tells the user why cmd cannot be served (the database is away, say)
// through the EventFilter, which answers at most once per window per user
// and command and logs reason: one refusal throttle for the whole bot.
// Without an EventFilter (a bare test) the text is replied directly.
func (k *Kit) Refuse(ctx actor.Context, cmd *messages.Command, reason, text string) {
	if k.Deps.EventFilter == nil {
		k.Reply(ctx, cmd, text)
		return
	}
	ctx.Send(k.Deps.EventFilter, &messages.Refusal{Channel: k.Deps.Channel, Command: cmd.Name, User: cmd.User,
		PM: cmd.PM, Reason: reason, Text: text})
}

// Say queues a chat line on the channel.
func (k *Kit) Say(ctx actor.Context, text string) {
	text = SafeChat(text)
	if text == "" || k.Deps.Outbound == nil {
		return
	}
	ctx.Send(k.Deps.Outbound, &messages.SendChat{Channel: k.Deps.Channel, Msg: text})
}

// PM queues a private message to user.
func (k *Kit) PM(ctx actor.Context, user, text string) {
	text = SafeChat(text)
	if text == "" || user == "" || k.Deps.Outbound == nil {
		return
	}
	ctx.Send(k.Deps.Outbound, &messages.SendPM{Channel: k.Deps.Channel, To: user, Msg: text})
}

// SafeChat makes text safe to send as a chat line built from user input:
// control characters become spaces (the server would do the same), and a
// leading "/" is moved off the first column so that text such as
// "!echo /kick alice" can never make a moderator bot run a chat command.
func SafeChat(text string) string {
	text = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, text)
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "/") {
		text = " " + text
	}
	return text
}
