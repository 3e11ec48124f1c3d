// Package analytics answers questions about the channel's past from the
// chat log: !seen, !stats, !top, !quote, and about its media: !np, !history.
// It also records every media item that starts playing
// (daz_analytics_media) and keeps the per-user daily roll-up that makes
// counting questions cheap (daz_analytics_chat_daily), plus each user's
// total over the !top window (daz_analytics_chat_window).
package analytics

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// Name is the plugin's name in the registry and on the tree.
const Name = "analytics"

// Tunables.
const (
	TopWindow    = 30 * 24 * time.Hour
	TopSize      = 5
	HistorySize  = 5
	RollupEvery  = 30 * time.Second
	RollupChunk  = 50_000 // log ids folded per statement (~1 s on a busy log, well inside the writer's timeout)
	retryAfter   = 10 * time.Second
	quoteMaxRune = 250
)

// Props returns the analytics plugin of one channel.
func Props(deps pluginkit.Deps) *actor.Props {
	return pluginkit.Props(deps, func() actor.Actor {
		p := &plugin{rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x9e3779b97f4a7c15))}
		p.kit = pluginkit.New(deps, Name, declare)
		return p
	})
}

func declare() pluginkit.Registration {
	cmd := func(name, usage, desc string, cooldown time.Duration, aliases ...string) messages.CommandSpec {
		return messages.CommandSpec{Name: name, Aliases: aliases, Usage: usage, Description: desc,
			Cooldown: cooldown, PMAllowed: true}
	}
	return pluginkit.Registration{
		Commands: []messages.CommandSpec{
			cmd("seen", "seen <user>", "when a user was last here and what they said", 3*time.Second),
			cmd("stats", "stats [user]", "message count and first/last message of a user", 5*time.Second),
			cmd("top", "top", "top chatters of the last 30 days", 30*time.Second),
			cmd("quote", "quote [user]", "a random line from the past", 10*time.Second),
			cmd("np", "np", "what is playing now", 5*time.Second, "nowplaying"),
			cmd("history", "history", "the last media played", 10*time.Second),
		},
		Events:          []string{"changeMedia"},
		WatchConnection: true, // the bot's own name, left out of !top and !quote
	}
}

type rollupTick struct{}

type plugin struct {
	kit *pluginkit.Kit
	rng *rand.Rand

	// roll-up: one statement at a time; callers wait for the round in flight.
	prepared    bool // the channel's roll-up position exists
	rolling     bool
	backfilling bool // the roll-up is still catching up with old history
	rollupWait  []func(error)
	rollTimer   clock.Timer
	lastRollup  time.Time
	rollupErr   string

	windowFrom time.Time // first day of the !top window totals as last moved; zero: unknown

	now      *playing // from changeMedia; nil until the first one
	lastID   string   // media_type:media_id last recorded, to skip a repeat
	loadedNP bool
}

type playing struct {
	id, kind, title string
	seconds         float64
	startedAt       time.Time
}

type detail struct {
	LastRollup time.Time `json:"last_rollup,omitzero"`
	RollupErr  string    `json:"rollup_error,omitempty"`
	NowPlaying string    `json:"now_playing,omitempty"`
}

func (p *plugin) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.loadLastMedia(ctx)
		p.rollup(ctx, nil)
	case *actor.Stopping, *actor.Restarting:
		if p.rollTimer != nil {
			p.rollTimer.Stop()
		}
	case rollupTick:
		p.rollTimer = nil
		p.rollup(ctx, nil)
	case *messages.PluginNotify:
		if cm, ok := m.Event.Body.(*messages.ChangeMedia); ok {
			p.mediaChanged(ctx, cm)
		}
	case *messages.Command:
		p.command(ctx, m)
	}
}

func (p *plugin) command(ctx actor.Context, cmd *messages.Command) {
	switch cmd.Name {
	case "seen":
		p.seen(ctx, cmd)
	case "stats":
		p.stats(ctx, cmd)
	case "top":
		p.top(ctx, cmd)
	case "quote":
		p.quote(ctx, cmd)
	case "np":
		p.nowPlaying(ctx, cmd)
	case "history":
		p.history(ctx, cmd)
	}
}

// botName is our own login, left out of !top and !quote.
func (p *plugin) botName() string { return p.kit.Connection().State.Username }

func (p *plugin) unavailable(ctx actor.Context, cmd *messages.Command, err error) {
	p.kit.Log.Warn("analytics query failed", slog.String("command", cmd.Name), slog.Any("error", err))
	p.kit.Refuse(ctx, cmd, "database unavailable: "+err.Error(), "The chat history is not reachable right now, try again later.")
}

func (p *plugin) seen(ctx actor.Context, cmd *messages.Command) {
	if len(cmd.Args) == 0 {
		p.kit.Reply(ctx, cmd, "Usage: "+p.kit.Deps.Prefix+"seen <user>")
		return
	}
	who := strings.TrimPrefix(cmd.Args[0], "@")
	if strings.EqualFold(who, cmd.User) {
		p.kit.Reply(ctx, cmd, "You're right here, "+cmd.User+".")
		return
	}
	p.kit.Query(ctx, SeenSQL, []any{p.kit.Deps.Channel, who}, func(res *messages.SQLResponse) {
		if res.Err != nil {
			p.unavailable(ctx, cmd, res.Err)
			return
		}
		rows := pluginkit.Rows(res)
		if len(rows) == 0 {
			p.kit.Reply(ctx, cmd, "I have never seen "+who+".")
			return
		}
		r := rows[0]
		name, kind, at, text := r.String(0), r.String(1), r.Time(2), r.String(3)
		ago := pluginkit.Ago(p.kit.Deps.Clock.Now(), at)
		switch kind {
		case "addUser":
			p.kit.Reply(ctx, cmd, fmt.Sprintf("%s joined %s.", name, ago))
		case "userLeave":
			p.kit.Reply(ctx, cmd, fmt.Sprintf("%s left %s.", name, ago))
		default:
			p.kit.Reply(ctx, cmd, fmt.Sprintf("%s was last seen %s, saying: %s", name, ago, clip(text)))
		}
	})
}

func (p *plugin) stats(ctx actor.Context, cmd *messages.Command) {
	who := cmd.User
	if len(cmd.Args) > 0 {
		who = strings.TrimPrefix(cmd.Args[0], "@")
	}
	// Fold in the lines since the last round so the count is current.
	p.rollup(ctx, func(err error) {
		if err != nil {
			p.unavailable(ctx, cmd, err)
			return
		}
		p.kit.Query(ctx, StatsSQL, []any{p.kit.Deps.Channel, who}, func(res *messages.SQLResponse) {
			if res.Err != nil {
				p.unavailable(ctx, cmd, res.Err)
				return
			}
			rows := pluginkit.Rows(res)
			if len(rows) == 0 || rows[0].Int(1) == 0 {
				p.kit.Reply(ctx, cmd, "I have no messages from "+who+".")
				return
			}
			r := rows[0]
			now := p.kit.Deps.Clock.Now()
			p.kit.Reply(ctx, cmd, fmt.Sprintf("%s: %d messages, first %s (%s), last %s.%s", r.String(0), r.Int(1),
				r.Time(2).UTC().Format("2006-01-02"), pluginkit.Ago(now, r.Time(2)), pluginkit.Ago(now, r.Time(3)), p.partial()))
		})
	})
}

func (p *plugin) top(ctx actor.Context, cmd *messages.Command) {
	// Fold in the lines since the last round (and move the window to
	// today's) so the ranking is current.
	p.rollup(ctx, func(err error) {
		if err != nil {
			p.unavailable(ctx, cmd, err)
			return
		}
		args := []any{p.kit.Deps.Channel, p.windowStart(), p.botName(), TopSize}
		p.kit.Query(ctx, TopSQL, args, func(res *messages.SQLResponse) {
			if res.Err != nil {
				p.unavailable(ctx, cmd, res.Err)
				return
			}
			rows := pluginkit.Rows(res)
			if len(rows) == 0 {
				p.kit.Reply(ctx, cmd, "Nobody has said anything in the last 30 days.")
				return
			}
			entries := make([]string, len(rows))
			for i, r := range rows {
				entries[i] = fmt.Sprintf("%d. %s (%d)", i+1, r.String(0), r.Int(1))
			}
			p.kit.Reply(ctx, cmd, "Top chatters, last 30 days: "+strings.Join(entries, ", ")+p.partial())
		})
	})
}

// windowStart is the first day (UTC) that !top counts.
func (p *plugin) windowStart() time.Time {
	return p.kit.Deps.Clock.Now().UTC().Add(-TopWindow).Truncate(24 * time.Hour)
}

func (p *plugin) quote(ctx actor.Context, cmd *messages.Command) {
	q, args := QuoteAnySQL, []any{p.kit.Deps.Channel, p.botName(), p.rng.Float64(), p.kit.Deps.Prefix}
	if len(cmd.Args) > 0 {
		q, args[1] = QuoteUserSQL, strings.TrimPrefix(cmd.Args[0], "@")
	}
	p.kit.Query(ctx, q, args, func(res *messages.SQLResponse) {
		if res.Err != nil {
			p.unavailable(ctx, cmd, res.Err)
			return
		}
		rows := pluginkit.Rows(res)
		if len(rows) == 0 {
			p.kit.Reply(ctx, cmd, "I have nothing to quote.")
			return
		}
		r := rows[0]
		p.kit.Reply(ctx, cmd, fmt.Sprintf("<%s> %s (%s)", r.String(0), clip(r.String(1)), r.Time(2).UTC().Format("2006-01-02")))
	})
}

// partial notes an answer given while old history is still being counted.
func (p *plugin) partial() string {
	if p.backfilling {
		return " (still counting older history)"
	}
	return ""
}

// clip keeps quoted lines to one chat message.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= quoteMaxRune {
		return s
	}
	return string(r[:quoteMaxRune]) + "…"
}

// rollup runs roll-up rounds until the daily counts have caught up with the
// log, then calls done. Only one round runs at a time: a caller arriving
// meanwhile waits for the end of the catch-up in progress.
func (p *plugin) rollup(ctx actor.Context, done func(error)) {
	if done != nil {
		p.rollupWait = append(p.rollupWait, done)
	}
	if p.rolling {
		return
	}
	p.rolling = true
	if p.prepared {
		p.shiftWindow(ctx)
		return
	}
	p.kit.Exec(ctx, RollupStateSQL, []any{p.kit.Deps.Channel}, func(res *messages.SQLResponse) {
		if res.Err != nil {
			p.rollupDone(ctx, res.Err)
			return
		}
		p.prepared = true
		p.shiftWindow(ctx)
	})
}

// shiftWindow moves the !top window totals to today's window, if the day
// changed since the last move, before the round folds in new lines: both
// statements change the totals, so they run one after the other.
func (p *plugin) shiftWindow(ctx actor.Context) {
	from := p.windowStart()
	if from.Equal(p.windowFrom) {
		p.rollupRound(ctx)
		return
	}
	p.kit.Exec(ctx, ShiftWindowSQL, []any{p.kit.Deps.Channel, from}, func(res *messages.SQLResponse) {
		if res.Err != nil {
			p.rollupDone(ctx, res.Err)
			return
		}
		p.windowFrom = from
		p.rollupRound(ctx)
	})
}

func (p *plugin) rollupRound(ctx actor.Context) {
	p.kit.Query(ctx, RollupSQL, []any{p.kit.Deps.Channel, int64(RollupChunk)}, func(res *messages.SQLResponse) {
		if res.Err == nil {
			rows := pluginkit.Rows(res)
			if len(rows) == 1 && rows[0].Int(0) < rows[0].Int(1) {
				// More to fold in: a first start on a long log. Whoever is
				// waiting gets the counts so far rather than waiting for
				// the whole history.
				p.backfilling = true
				p.serveWaiters(nil)
				p.rollupRound(ctx)
				return
			}
			p.backfilling = false
		}
		p.rollupDone(ctx, res.Err)
	})
}

func (p *plugin) serveWaiters(err error) {
	waiters := p.rollupWait
	p.rollupWait = nil
	for _, w := range waiters {
		w(err)
	}
}

func (p *plugin) rollupDone(ctx actor.Context, err error) {
	p.rolling = false
	p.lastRollup = p.kit.Deps.Clock.Now()
	p.rollupErr = ""
	if err != nil {
		p.rollupErr = err.Error()
		p.kit.Log.Warn("chat roll-up failed", slog.Any("error", err))
	}
	p.serveWaiters(err)
	every := RollupEvery
	if err != nil {
		every = retryAfter
	}
	if p.rollTimer == nil {
		p.rollTimer = p.kit.Deps.System.SendAfter(every, ctx.Self(), rollupTick{})
	}
	p.publish()
}

func (p *plugin) publish() {
	d := detail{LastRollup: p.lastRollup, RollupErr: p.rollupErr}
	if p.now != nil {
		d.NowPlaying = p.now.title
	}
	p.kit.SetDetail(d)
}
