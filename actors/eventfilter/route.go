package eventfilter

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/messages"
)

// serverUser is the pseudo-user of moderator notices; it never runs commands.
const serverUser = "[server]"

// parsed is a command line split into its parts.
type parsed struct {
	word    string // lower-case, without the prefix
	invoked string // as typed, without the prefix
	args    []string
	argText string
}

// parseCommand recognises "<prefix>word args..." in plain text. The prefix
// must be followed directly by the command word.
func parseCommand(prefix, text string) (parsed, bool) {
	text = strings.TrimLeftFunc(text, unicode.IsSpace)
	if !strings.HasPrefix(text, prefix) {
		return parsed{}, false
	}
	rest := text[len(prefix):]
	if rest == "" {
		return parsed{}, false
	}
	end := strings.IndexFunc(rest, unicode.IsSpace)
	if end == 0 {
		return parsed{}, false
	}
	if end < 0 {
		end = len(rest)
	}
	word := rest[:end]
	argText := strings.TrimSpace(rest[end:])
	return parsed{word: strings.ToLower(word), invoked: word, args: strings.Fields(argText), argText: argText}, true
}

func (f *filter) onChat(ctx actor.Context, ev *messages.Event, m *messages.ChatMsg) {
	if m.Username == "" || m.Username == serverUser {
		return
	}
	p, ok := parseCommand(f.cfg.Prefix, m.Text)
	if !ok {
		return
	}
	at := ev.Received
	if st, ok := ev.ServerTime(); ok {
		at = st
	}
	switch {
	case ev.Backlog:
		f.route(ctx, p.word, m.Username, messages.RouteIgnored, "", "join backlog")
	case ev.Own:
		f.route(ctx, p.word, m.Username, messages.RouteIgnored, "", "own message")
	default:
		f.command(ctx, p, m.Username, false, at)
	}
}

func (f *filter) onPM(ctx actor.Context, ev *messages.Event, m *messages.Pm) {
	if m.Username == "" || m.Username == serverUser {
		return
	}
	p, ok := parseCommand(f.cfg.Prefix, m.Text)
	if !ok {
		return
	}
	if ev.Own {
		f.route(ctx, p.word, m.Username, messages.RouteIgnored, "", "own message")
		return
	}
	at := ev.Received
	if st, ok := ev.ServerTime(); ok {
		at = st
	}
	f.command(ctx, p, m.Username, true, at)
}

// command runs the preconditions in order and routes the command when all
// of them pass. Every outcome is published as a Route.
func (f *filter) command(ctx actor.Context, p parsed, user string, pm bool, at time.Time) {
	f.stats.Commands++
	now := f.cfg.Clock.Now()
	if f.lim.ignored[strings.ToLower(user)] {
		f.route(ctx, p.word, user, messages.RouteIgnored, "", "ignored user")
		return
	}
	c := f.reg.lookup(p.word)
	if c == nil {
		f.route(ctx, p.word, user, messages.RouteUnknown, "", "")
		return
	}
	name := c.spec.Name
	gap := max(c.cooldown, f.cfg.RefusalCooldown)
	// Every way a known command can be turned down below is answered (once
	// per window) and logged: nobody is ignored without a word.
	if c.unavailable != "" {
		reason := "plugin unavailable: " + c.unavailable
		f.route(ctx, name, user, messages.RouteIgnored, c.plugin, reason)
		f.refuse(ctx, user, name, pm, gap, reason, fmt.Sprintf("Sorry %s, %s%s is unavailable right now.", user, f.cfg.Prefix, name))
		return
	}
	if !c.enabled {
		f.route(ctx, name, user, messages.RouteIgnored, c.plugin, "command disabled")
		f.refuse(ctx, user, name, pm, gap, "command disabled", fmt.Sprintf("Sorry %s, %s%s is turned off here.", user, f.cfg.Prefix, name))
		return
	}
	rank := f.roster.rankOf(user)
	if pm && !c.spec.PMAllowed {
		f.route(ctx, name, user, messages.RouteIgnored, c.plugin, "not allowed in PM")
		f.refuse(ctx, user, name, pm, gap, "not allowed in PM", fmt.Sprintf("%s%s only works in the channel chat.", f.cfg.Prefix, name))
		return
	}
	if rank < c.minRank {
		reason := fmt.Sprintf("rank %s below %s", formatRank(rank), formatRank(c.minRank))
		f.route(ctx, name, user, messages.RouteBlockedRank, c.plugin, reason)
		f.refuse(ctx, user, name, pm, gap, reason, fmt.Sprintf("Sorry %s, %s%s needs rank %s (%s).",
			user, f.cfg.Prefix, name, formatRank(c.minRank), rankName(c.minRank)))
		return
	}
	if wait, over := f.lim.overRate(user, f.cfg.UserRateLimit, now); over {
		f.route(ctx, name, user, messages.RouteBlockedCooldown, c.plugin, "user rate limit")
		text := fmt.Sprintf("Slow down, %s — try again in %s.", user, seconds(wait))
		if wait <= 0 {
			text = fmt.Sprintf("Sorry %s, you may not run commands here.", user)
		}
		// One answer per user, not per command; it comes again once a
		// command of theirs has run (recordRun), or after the window.
		f.refuseKey(ctx, user, rateKey, name, pm, rateWindow, "user rate limit", text)
		return
	}
	if wait := f.lim.cooling(user, name, c.cooldown, now); wait > 0 {
		f.route(ctx, name, user, messages.RouteBlockedCooldown, c.plugin, "cooldown")
		f.refuse(ctx, user, name, pm, gap, "cooldown", fmt.Sprintf("Wait %s before %s%s again, %s.", seconds(wait), f.cfg.Prefix, name, user))
		return
	}
	f.lim.recordRun(user, name, now)
	ctx.Send(c.owner, &messages.Command{
		Channel: f.cfg.Channel, Name: name, Invoked: p.invoked, Args: p.args, ArgText: p.argText,
		User: user, Rank: rank, PM: pm, At: at,
	})
	f.route(ctx, name, user, messages.RouteRouted, c.plugin, "")
}

// refuse answers a turned-down command politely, at most once per gap per
// user and command, so a user hammering a command they may not run cannot
// make the bot flood, and logs it for the operator: at info when the user
// is told, at debug for the repeats in the same window.
func (f *filter) refuse(ctx actor.Context, user, cmd string, pm bool, gap time.Duration, reason, text string) {
	f.refuseKey(ctx, user, cmd, cmd, pm, gap, reason, text)
}

// refuseKey is refuse with its own throttle key (the rate limit answers
// once per user, whatever the command).
func (f *filter) refuseKey(ctx actor.Context, user, throttle, cmd string, pm bool, gap time.Duration, reason, text string) {
	attrs := []any{slog.String("user", user), slog.String("command", cmd), slog.String("reason", reason)}
	if !f.lim.mayRefuse(user, throttle, gap, f.cfg.Clock.Now()) {
		f.log.Debug("command refused again; already answered in this window", attrs...)
		return
	}
	f.log.Info("command refused", attrs...)
	f.stats.Refusals++
	f.say(ctx, user, pm, text)
}

// onRefusal: a plugin could not serve a routed command (its database is
// away, say). The answer goes through the same throttle as the
// EventFilter's own refusals.
func (f *filter) onRefusal(ctx actor.Context, m *messages.Refusal) {
	gap := f.cfg.RefusalCooldown
	if c := f.reg.lookup(m.Command); c != nil {
		gap = max(gap, c.cooldown)
	}
	f.refuse(ctx, m.User, m.Command, m.PM, gap, m.Reason, m.Text)
}

// seconds renders a wait as whole seconds, rounded up ("40 s").
func seconds(d time.Duration) string {
	return fmt.Sprintf("%d s", int64(max(1, (d+time.Second-1)/time.Second)))
}

func (f *filter) say(ctx actor.Context, user string, pm bool, text string) {
	if f.cfg.Outbound == nil {
		return
	}
	if pm {
		ctx.Send(f.cfg.Outbound, &messages.SendPM{Channel: f.cfg.Channel, To: user, Msg: text})
		return
	}
	ctx.Send(f.cfg.Outbound, &messages.SendChat{Channel: f.cfg.Channel, Msg: text})
}

func (f *filter) route(ctx actor.Context, cmd, user string, d messages.RouteDecision, plugin, reason string) {
	defer f.publishState(ctx)
	switch d {
	case messages.RouteRouted:
		f.stats.Routed++
	case messages.RouteBlockedRank, messages.RouteBlockedCooldown:
		f.stats.Blocked++
	case messages.RouteUnknown:
		f.stats.Unknown++
	case messages.RouteIgnored:
		f.stats.Ignored++
	}
	f.sys.Publish(&messages.Route{
		Channel: f.cfg.Channel, Command: cmd, User: user, Decision: d, Plugin: plugin,
		Reason: reason, At: f.cfg.Clock.Now(),
	})
}

func formatRank(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }

// rankName names CyTube's channel ranks for refusal messages.
func rankName(r float64) string {
	switch {
	case r >= 255:
		return "site admin"
	case r >= 5:
		return "founder"
	case r >= 4:
		return "owner"
	case r >= 3:
		return "channel admin"
	case r >= 2:
		return "moderator"
	case r >= 1.5:
		return "trusted user"
	case r >= 1:
		return "registered user"
	case r >= 0:
		return "guest"
	default:
		return "anonymous"
	}
}

// builtins are the EventFilter's own commands.
func builtins() []messages.CommandSpec {
	return []messages.CommandSpec{{
		Name: "reload", MinRank: 2, Cooldown: 10 * time.Second, PMAllowed: true,
		Description: "re-read command overrides and ignored users from the database",
		Usage:       "reload",
	}}
}

func (f *filter) onOwnCommand(ctx actor.Context, m *messages.Command) {
	if m.Name != "reload" {
		return
	}
	user, pm := m.User, m.PM
	f.reload(ctx, func(err error) {
		if err != nil {
			f.say(ctx, user, pm, "Reload failed: the database is not reachable right now.")
			return
		}
		f.say(ctx, user, pm, fmt.Sprintf("Reloaded: %d commands, %d ignored users.", len(f.reg.byName), len(f.lim.ignored)))
	})
}
