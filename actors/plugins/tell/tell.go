// Package tell keeps messages for people who are not around: !tell bob text
// is stored in daz_tell_messages and delivered the next time bob joins or
// speaks, even across restarts of the daemon.
package tell

import (
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// Name is the plugin's name in the registry and on the tree.
const Name = "tell"

// Limits on what one user can leave.
const (
	MaxMessageChars = 300
	MaxPendingPair  = 3 // undelivered messages from one sender to one recipient
)

const loadRetry = 5 * time.Second

// validUser is CyTube's user-name rule.
var validUser = regexp.MustCompile(`^[A-Za-z0-9_-]{1,20}$`)

// Props returns the tell plugin of one channel.
func Props(deps pluginkit.Deps) *actor.Props {
	return pluginkit.Props(deps, func() actor.Actor {
		p := &plugin{pending: map[string]bool{}, busy: map[string]bool{}, early: map[string]string{}}
		p.kit = pluginkit.New(deps, Name, declare)
		return p
	})
}

func declare() pluginkit.Registration {
	return pluginkit.Registration{
		Commands: []messages.CommandSpec{{
			Name: "tell", Cooldown: 5 * time.Second, PMAllowed: true,
			Description: "leave a message, delivered when the user next joins or speaks",
			Usage:       "tell <user> <message>",
		}},
		Events: []string{"chatMsg", "addUser", "pm"},
	}
}

type loadTick struct{}

type plugin struct {
	kit     *pluginkit.Kit
	loaded  bool
	pending map[string]bool   // lower-case recipients with undelivered messages
	busy    map[string]bool   // deliveries in flight
	early   map[string]string // lower-case -> name of people who showed up before the load finished
}

type detail struct {
	Loaded     bool `json:"loaded"`
	Recipients int  `json:"recipients_waiting"`
}

func (p *plugin) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case *actor.Started, loadTick:
		p.load(ctx)
	case *messages.Command:
		if m.Name == "tell" {
			p.tell(ctx, m)
		}
	case *messages.PluginNotify:
		if who := speaker(m.Event); who != "" {
			p.arrived(ctx, who)
		}
	}
}

// speaker is who showed up in ev: a new user, or someone talking.
func speaker(ev *messages.Event) string {
	switch b := ev.Body.(type) {
	case *messages.ChatMsg:
		if strings.HasPrefix(b.Username, "[") {
			return ""
		}
		return b.Username
	case *messages.Pm:
		return b.Username
	case *messages.AddUser:
		return b.Name
	}
	return ""
}

func (p *plugin) load(ctx actor.Context) {
	p.kit.Query(ctx, `SELECT DISTINCT lower(to_user) FROM daz_tell_messages
WHERE channel = $1 AND delivered_at IS NULL`, []any{p.kit.Deps.Channel}, func(res *messages.SQLResponse) {
		if res.Err != nil {
			p.kit.Log.Warn("loading waiting messages failed; retrying", slog.Any("error", res.Err))
			p.kit.Deps.System.SendAfter(loadRetry, ctx.Self(), loadTick{})
			return
		}
		for _, r := range pluginkit.Rows(res) {
			p.pending[r.String(0)] = true
		}
		p.loaded = true
		early := p.early
		p.early = map[string]string{}
		for _, who := range early {
			p.arrived(ctx, who)
		}
		p.publish()
	})
}

func (p *plugin) publish() {
	p.kit.SetDetail(detail{Loaded: p.loaded, Recipients: len(p.pending)})
}

func (p *plugin) tell(ctx actor.Context, cmd *messages.Command) {
	prefix := p.kit.Deps.Prefix
	if len(cmd.Args) < 2 {
		p.kit.Reply(ctx, cmd, "Usage: "+prefix+"tell <user> <message>")
		return
	}
	to := strings.TrimPrefix(cmd.Args[0], "@")
	text := strings.TrimSpace(strings.TrimPrefix(cmd.ArgText, cmd.Args[0]))
	switch {
	case !validUser.MatchString(to):
		p.kit.Reply(ctx, cmd, fmt.Sprintf("%q is not a valid user name.", to))
		return
	case strings.EqualFold(to, cmd.User):
		p.kit.Reply(ctx, cmd, "You can tell yourself that right now.")
		return
	case len([]rune(text)) > MaxMessageChars:
		p.kit.Reply(ctx, cmd, fmt.Sprintf("That message is too long (at most %d characters).", MaxMessageChars))
		return
	}
	now := p.kit.Deps.Clock.Now()
	p.kit.Query(ctx, `INSERT INTO daz_tell_messages (channel, from_user, to_user, message, created_at, private)
SELECT $1, $2, $3, $4, $5, $6
WHERE (SELECT count(*) FROM daz_tell_messages
       WHERE channel = $1 AND lower(to_user) = lower($3) AND lower(from_user) = lower($2)
         AND delivered_at IS NULL) < $7
RETURNING id`,
		[]any{p.kit.Deps.Channel, cmd.User, to, text, now, cmd.PM, MaxPendingPair},
		func(res *messages.SQLResponse) {
			switch {
			case res.Err != nil:
				p.kit.Log.Warn("storing a message failed", slog.Any("error", res.Err))
				p.kit.Refuse(ctx, cmd, "database unavailable: "+res.Err.Error(), "The database is not reachable right now; your message was not saved.")
			case len(res.Rows) == 0:
				p.kit.Reply(ctx, cmd, fmt.Sprintf("You already have %d messages waiting for %s.", MaxPendingPair, to))
			default:
				p.pending[strings.ToLower(to)] = true
				p.publish()
				p.kit.Reply(ctx, cmd, fmt.Sprintf("OK %s, I'll tell %s when they're next here.", cmd.User, to))
			}
		})
}

// arrived delivers whatever waits for who. The rows are marked delivered
// and returned by one statement, so two deliveries can never both send a
// message; a failure leaves them waiting for the next time.
func (p *plugin) arrived(ctx actor.Context, who string) {
	lower := strings.ToLower(who)
	if !p.loaded {
		p.early[lower] = who
		return
	}
	if !p.pending[lower] || p.busy[lower] {
		return
	}
	p.busy[lower] = true
	now := p.kit.Deps.Clock.Now()
	p.kit.Query(ctx, `UPDATE daz_tell_messages SET delivered_at = $3
WHERE channel = $1 AND lower(to_user) = lower($2) AND delivered_at IS NULL
RETURNING from_user, message, created_at, private, to_user`,
		[]any{p.kit.Deps.Channel, who, now}, func(res *messages.SQLResponse) {
			delete(p.busy, lower)
			if res.Err != nil {
				p.kit.Log.Warn("delivering messages failed; they stay waiting", slog.String("user", who), slog.Any("error", res.Err))
				return
			}
			delete(p.pending, lower)
			p.publish()
			rows := pluginkit.Rows(res)
			sort.Slice(rows, func(i, j int) bool { return rows[i].Time(2).Before(rows[j].Time(2)) })
			for _, r := range rows {
				text := fmt.Sprintf("%s, %s left you a message %s: %s", who, r.String(0), pluginkit.Ago(now, r.Time(2)), r.String(1))
				if r.Bool(3) {
					p.kit.PM(ctx, who, text)
				} else {
					p.kit.Say(ctx, text)
				}
			}
		})
}
