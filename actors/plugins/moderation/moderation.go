// Package moderation is daz's moderation plugin: !kick, !ban, !unban,
// !tempban, !mute, !unmute and !modlog for channel staff, automod rules with
// an escalation ladder (!automod), and the moderation log
// daz_moderation_actions. Moderation travels as chat text ("/kick name
// reason") through the channel's outbound queue, so it is paced like every
// other line; unbanning is requestBanlist, then unban {id, name}.
//
// Before sending anything the plugin checks what the server would: the
// target is here, is below the moderator and below us, and our own rank
// reaches the channel's setPermissions threshold. A refusal the server
// still sends back (errorMsg) is reported to whoever asked.
//
// Tempbans and timed mutes are rows with an end time; the plugin keeps the
// ones in force in memory, lifts each when its time comes (late if daz was
// down, never forgotten), and applies one again to a user who rejoins while
// it lasts. Log rows are queued in order while the database is away.
package moderation

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// Name is the plugin's name in the registry and on the tree.
const Name = "moderation"

// Tunables.
const (
	// refusalWindow is how long after sending a moderation command an
	// errorMsg is taken as the server's answer to it.
	refusalWindow = 10 * time.Second
	// reapplyEvery coalesces re-applying a timed action to one user.
	reapplyEvery = 10 * time.Second
	// liftRetry is how soon a lift that got no answer (no banlist, offline)
	// is tried again.
	liftRetry = 30 * time.Second
	// loadRetry is how soon a failed start-up read is retried.
	loadRetry = 10 * time.Second
	// maxReason bounds the reason sent with /kick and /ban.
	maxReason = 200
	// modlogRows is how many actions !modlog lists.
	modlogRows = 10
)

// Props returns the moderation plugin of one channel.
func Props(deps pluginkit.Deps) *actor.Props {
	// The roster and the queued log rows outlive a restart of the actor
	// after a panic: the server sends the userlist only on join, and the
	// rows are the log of actions already taken. The timed actions are
	// read back from the database.
	sh := &shared{roster: newRoster()}
	return pluginkit.Props(deps, func() actor.Actor {
		p := &plugin{sh: sh, roster: sh.roster, active: map[string]*timed{}, unbans: map[string]unbanReq{},
			reapplied: map[string]time.Time{}}
		p.kit = pluginkit.New(deps, Name, declare)
		p.auto = newAutomod(p.kit.Deps.Clock)
		return p
	})
}

// Events the plugin follows.
var events = []string{"userlist", "addUser", "userLeave", "setUserRank", "setUserMeta", "login", "rank",
	"setPermissions", "errorMsg", "banlist", "banlistRemove", "chatMsg"}

func declare() pluginkit.Registration {
	cmd := func(name string, rank float64, usage, desc string) messages.CommandSpec {
		return messages.CommandSpec{Name: name, MinRank: rank, PMAllowed: true, Usage: usage, Description: desc}
	}
	return pluginkit.Registration{Commands: []messages.CommandSpec{
		cmd("kick", 2, "kick <user> [reason]", "kick a user out of the channel"),
		cmd("ban", 3, "ban <user> [reason]", "ban a user's name"),
		cmd("unban", 3, "unban <user>", "lift a ban"),
		cmd("tempban", 2, "tempban <user> <duration> [reason]", "ban a user for a while (e.g. 1h30m, 2d)"),
		cmd("mute", 2, "mute <user> [duration] [reason]", "mute a user, for a while or until unmuted"),
		cmd("unmute", 2, "unmute <user>", "lift a mute"),
		cmd("modlog", 2, "modlog [user]", "the last moderation actions, by PM"),
		cmd("automod", 3, "automod add|del|list|test|dryrun ...", "manage the automod rules"),
	}, Events: events}
}

// Timer messages.
type (
	dueTick   struct{}
	loadTick  struct{}
	flushTick struct{}
)

// sent is a moderation command on its way, waiting for a possible errorMsg.
type sent struct {
	key    string
	verb   string
	target string
	asker  string // who to tell about a refusal; "" for automod
	at     time.Time
}

// unbanReq is an unban waiting for the banlist.
type unbanReq struct {
	asker string // "" for a timed ban running out
	at    time.Time
}

// shared is what one Props hands to each incarnation of the plugin.
type shared struct {
	roster *roster
	writes []logWrite
}

type plugin struct {
	sh     *shared
	kit    *pluginkit.Kit
	roster *roster
	auto   *automod

	active    map[string]*timed // timed actions in force, by log key
	loaded    bool
	timer     clock.Timer
	timerAt   time.Time
	loadTimer clock.Timer

	pending   []sent
	unbans    map[string]unbanReq // lower-case name
	banlistAt time.Time           // when we last asked for the banlist
	reapplied map[string]time.Time

	writing    bool
	flushTimer clock.Timer
	outage     bool
}

type detail struct {
	Loaded      bool      `json:"loaded"`
	Active      int       `json:"active"`
	NextLift    time.Time `json:"next_lift,omitzero"`
	QueuedRows  int       `json:"queued_rows"`
	Rules       int       `json:"rules"`
	BotRank     float64   `json:"bot_rank"`
	RulesLoaded bool      `json:"rules_loaded"`
}

func (p *plugin) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		channel := p.kit.Deps.Channel
		if p.kit.Deps.System != nil {
			p.kit.Deps.System.Subscribe(ctx, func(msg any) bool {
				s, ok := msg.(*messages.ConnectionState)
				return ok && s.Channel == channel
			})
		}
		p.load(ctx)
		p.loadRules(ctx)
		// Rows an earlier incarnation left queued; a write it had in
		// flight is written again (inserts are keyed, updates idempotent).
		p.flush(ctx)
	case *actor.Stopping, *actor.Restarting:
		for _, t := range []clock.Timer{p.timer, p.loadTimer, p.flushTimer} {
			if t != nil {
				t.Stop()
			}
		}
	case *messages.ConnectionState:
		p.roster.identify(m)
		if m.State == messages.StateOnline {
			p.due(ctx)
		}
	case *messages.PluginNotify:
		if m.Event != nil && !m.Event.Backlog {
			p.onEvent(ctx, m.Event)
		}
	case *messages.Command:
		p.onCommand(ctx, m)
	case dueTick:
		p.timer = nil
		p.due(ctx)
	case loadTick:
		p.loadTimer = nil
		p.load(ctx)
		if !p.auto.loaded {
			p.loadRules(ctx)
		}
	case flushTick:
		p.flushTimer = nil
		p.flush(ctx)
	case banCheck:
		p.onBanCheck(ctx, m.name)
	}
}

func (p *plugin) publish() {
	d := detail{Loaded: p.loaded, Active: len(p.active), NextLift: p.timerAt, QueuedRows: len(p.sh.writes),
		Rules: len(p.auto.rules), BotRank: p.roster.botRank, RulesLoaded: p.auto.loaded}
	if p.timer == nil {
		d.NextLift = time.Time{}
	}
	p.kit.SetDetail(d)
}

func (p *plugin) onEvent(ctx actor.Context, ev *messages.Event) {
	if !p.roster.observe(ev) {
		p.kit.Log.Warn("malformed event ignored", slog.String("event", ev.Name))
		return
	}
	switch b := ev.Body.(type) {
	case *messages.Login, *messages.Rank, *messages.UserList, *messages.SetUserRank:
		p.publish() // our rank, on the tree
	case *messages.AddUser:
		p.onJoin(ctx, b.User)
	case *messages.SetUserMeta:
		if !b.Meta.Muted && !b.Meta.SMuted {
			p.onUnmuted(ctx, b.Name)
		}
	case *messages.ErrorMsg:
		p.onErrorMsg(ctx, b.Msg)
	case *messages.Banlist:
		p.onBanlist(ctx, b)
	case *messages.BanlistRemove:
		p.onBanlistRemove(ctx, b)
	case *messages.ChatMsg:
		p.onChat(ctx, ev, b)
	case *messages.RawEvent:
		// A frame the decoder could not type (setPermissions or banlist of
		// the wrong shape): logged, never fatal.
		p.kit.Log.Warn("malformed event ignored", slog.String("event", ev.Name))
	}
}

// verbs maps a command to the CyTube permission it needs and the word used
// in replies.
var perms = map[string]string{"kick": "kick", "ban": "ban", "tempban": "ban", "unban": "ban",
	"mute": "mute", "unmute": "mute"}

func (p *plugin) onCommand(ctx actor.Context, cmd *messages.Command) {
	switch cmd.Name {
	case "kick", "ban", "tempban", "mute":
		p.act(ctx, cmd)
	case "unban":
		p.unban(ctx, cmd)
	case "unmute":
		p.unmute(ctx, cmd)
	case "modlog":
		p.modlog(ctx, cmd)
	case "automod":
		p.automodCommand(ctx, cmd)
	}
}

// refuse answers a moderator's command that will not be sent, and logs why.
func (p *plugin) refuse(ctx actor.Context, cmd *messages.Command, reason, text string) {
	p.kit.Log.Info("command refused", slog.String("user", cmd.User), slog.String("command", cmd.Name),
		slog.String("reason", reason))
	p.kit.Reply(ctx, cmd, text)
}

// checkRights answers "I need rank N to ban here" when our own rank does not
// reach what the channel's setPermissions asks.
func (p *plugin) checkRights(ctx actor.Context, cmd *messages.Command) bool {
	perm := perms[cmd.Name]
	if p.roster.may(perm) {
		return true
	}
	p.kit.Refuse(ctx, cmd, fmt.Sprintf("our rank %s is below the channel's %s threshold %s",
		formatRank(p.roster.botRank), perm, formatRank(p.roster.need(perm))),
		fmt.Sprintf("I need rank %s to %s here.", formatRank(p.roster.need(perm)), perm))
	return false
}

// checkTarget refuses unknown users, ourselves, and anyone the moderator or
// we may not act on; it returns the target as the roster knows them.
func (p *plugin) checkTarget(ctx actor.Context, cmd *messages.Command, name string) (member, bool) {
	verb := cmd.Name
	switch {
	case p.roster.isBot(name):
		p.refuse(ctx, cmd, "target is the bot", fmt.Sprintf("I won't %s myself.", verb))
		return member{}, false
	case strings.EqualFold(name, serverName):
		p.refuse(ctx, cmd, "target is the server", fmt.Sprintf("I can't %s the server.", verb))
		return member{}, false
	}
	m, ok := p.roster.lookup(name)
	if !ok {
		p.refuse(ctx, cmd, "unknown user", fmt.Sprintf("%s is not here.", name))
		return member{}, false
	}
	if m.Rank >= cmd.Rank {
		p.refuse(ctx, cmd, "target rank not below the moderator's",
			fmt.Sprintf("You can't %s %s: their rank (%s) is not below yours (%s).", verb, m.Name,
				formatRank(m.Rank), formatRank(cmd.Rank)))
		return member{}, false
	}
	if m.Rank >= p.roster.botRank {
		p.refuse(ctx, cmd, "target rank not below ours",
			fmt.Sprintf("I can't %s %s: their rank (%s) is not below mine (%s).", verb, m.Name,
				formatRank(m.Rank), formatRank(p.roster.botRank)))
		return member{}, false
	}
	return m, true
}

// act runs !kick, !ban, !tempban and !mute.
func (p *plugin) act(ctx actor.Context, cmd *messages.Command) {
	prefix := p.kit.Deps.Prefix
	usage := map[string]string{
		"kick":    "Usage: " + prefix + "kick <user> [reason]",
		"ban":     "Usage: " + prefix + "ban <user> [reason]",
		"tempban": "Usage: " + prefix + "tempban <user> <duration> [reason], e.g. " + prefix + "tempban bob 1h30m spam",
		"mute":    "Usage: " + prefix + "mute <user> [duration] [reason], e.g. " + prefix + "mute bob 10m",
	}[cmd.Name]
	if len(cmd.Args) < 1 {
		p.kit.Reply(ctx, cmd, usage)
		return
	}
	rest := cmd.Args[1:]
	var dur time.Duration
	switch {
	case cmd.Name == "tempban":
		if len(rest) < 1 {
			p.kit.Reply(ctx, cmd, usage)
			return
		}
		d, err := ParseDuration(rest[0])
		if err != nil {
			p.kit.Reply(ctx, cmd, usage+" ("+err.Error()+").")
			return
		}
		dur, rest = d, rest[1:]
	case cmd.Name == "mute" && len(rest) > 0 && looksLikeDuration(rest[0]):
		dur, _ = ParseDuration(rest[0])
		rest = rest[1:]
	}
	if !p.checkRights(ctx, cmd) {
		return
	}
	target, ok := p.checkTarget(ctx, cmd, cmd.Args[0])
	if !ok {
		return
	}
	a := action{by: cmd.User, asker: cmd.User, verb: cmd.Name, target: target.Name,
		reason: cleanReason(strings.Join(rest, " ")), dur: dur}
	p.apply(ctx, a)
	reply := map[string]string{"kick": "Kicked %s.", "ban": "Banned %s.", "tempban": "Banned %s", "mute": "Muted %s"}[cmd.Name]
	text := fmt.Sprintf(reply, target.Name)
	if cmd.Name == "tempban" || cmd.Name == "mute" {
		if dur > 0 {
			text += " for " + pluginkit.FormatDuration(dur) + "."
		} else {
			text += " until unmuted."
		}
	}
	p.kit.Reply(ctx, cmd, text)
}

// action is one moderation act, by a moderator or an automod rule.
type action struct {
	by     string // moderator name or "rule #id"
	asker  string // who hears of a refusal; "" for rules
	verb   string // kick, ban, tempban, mute, warn
	target string
	reason string
	dur    time.Duration
}

// apply sends a and writes it to the log; a tempban or timed mute also
// starts being tracked.
func (p *plugin) apply(ctx actor.Context, a action) {
	now := p.kit.Deps.Clock.Now()
	key := newKey(p.kit.Deps.Channel, now)
	var until time.Time
	switch a.verb {
	case "kick":
		p.chat(ctx, "/kick "+a.target+reasonSuffix(a.reason))
	case "ban":
		p.chat(ctx, "/ban "+a.target+reasonSuffix(a.reason))
	case "tempban":
		until = now.Add(a.dur)
		p.chat(ctx, "/ban "+a.target+reasonSuffix(a.reason))
		p.track(ctx, &timed{key: key, target: a.target, verb: "ban", reason: a.reason, until: until})
	case "mute":
		p.chat(ctx, "/mute "+a.target)
		if a.dur > 0 {
			until = now.Add(a.dur)
			p.track(ctx, &timed{key: key, target: a.target, verb: "mute", reason: a.reason, until: until})
		}
		p.setMuted(a.target, true)
	}
	if a.verb != "warn" {
		p.pending = append(p.pending, sent{key: key, verb: a.verb, target: a.target, asker: a.asker, at: now})
	}
	p.kit.Log.Info("moderation action", slog.String("by", a.by), slog.String("user", a.target),
		slog.String("action", a.verb), slog.String("reason", a.reason), slog.String("duration", a.dur.String()))
	p.insertLog(ctx, logRow{key: key, moderator: a.by, target: a.target, action: a.verb, reason: a.reason,
		until: until, at: now, outcome: "done"})
}

// chat queues a moderation command; unlike Kit.Say it must start with "/".
func (p *plugin) chat(ctx actor.Context, text string) {
	if p.kit.Deps.Outbound == nil {
		return
	}
	ctx.Send(p.kit.Deps.Outbound, &messages.SendChat{Channel: p.kit.Deps.Channel, Msg: text})
}

func (p *plugin) sendEvent(ctx actor.Context, name string, payload any) {
	if p.kit.Deps.Outbound == nil {
		return
	}
	ctx.Send(p.kit.Deps.Outbound, &messages.SendEvent{Channel: p.kit.Deps.Channel, Name: name, Payload: payload})
}

func (p *plugin) setMuted(name string, muted bool) {
	key := strings.ToLower(name)
	if m, ok := p.roster.users[key]; ok {
		m.Muted = muted
		p.roster.users[key] = m
	}
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return " " + reason
}

// cleanReason keeps a reason to one short line of printable text.
func cleanReason(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(s); len(r) > maxReason {
		s = string(r[:maxReason])
	}
	return s
}

// onErrorMsg matches a server refusal to the moderation command it answers
// and tells whoever asked.
func (p *plugin) onErrorMsg(ctx actor.Context, msg string) {
	now := p.kit.Deps.Clock.Now()
	p.prunePending(now)
	if strings.HasPrefix(msg, "PM failed") || strings.HasPrefix(msg, "You can't PM") || len(p.pending) == 0 {
		return
	}
	lower := strings.ToLower(msg)
	at := -1
	for i := len(p.pending) - 1; i >= 0; i-- {
		if strings.Contains(lower, strings.ToLower(p.pending[i].target)) {
			at = i
			break
		}
	}
	if at < 0 {
		return
	}
	s := p.pending[at]
	p.pending = append(p.pending[:at], p.pending[at+1:]...)
	if t, ok := p.active[s.key]; ok {
		delete(p.active, t.key)
		p.schedule(ctx)
	}
	p.kit.Log.Info("moderation refused by the server", slog.String("user", s.target), slog.String("action", s.verb),
		slog.String("asker", s.asker), slog.String("reason", msg))
	p.updateLog(ctx, s.key, "refused", msg, time.Time{})
	if s.asker != "" {
		p.kit.PM(ctx, s.asker, fmt.Sprintf("The server refused to %s %s: %s", serverVerb(s.verb), s.target, msg))
	}
}

func serverVerb(v string) string {
	if v == "tempban" {
		return "ban"
	}
	return v
}

func (p *plugin) prunePending(now time.Time) {
	i := 0
	for i < len(p.pending) && now.Sub(p.pending[i].at) > refusalWindow {
		i++
	}
	p.pending = p.pending[i:]
}
