// Package remind implements !remind 10m text: reminders are stored in
// daz_remind_reminders and delivered when due, also if the daemon restarted
// in between (late ones are delivered at start, marked as late).
package remind

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// Name is the plugin's name in the registry and on the tree.
const Name = "remind"

// Limits on reminders.
const (
	MaxDelay        = 365 * 24 * time.Hour
	MaxMessageChars = 300
	MaxPending      = 10 // per user
)

// Delivery schedule.
const (
	retryDelay = 10 * time.Second
	lateAfter  = time.Minute // a reminder delivered this much after due says so
)

// Props returns the remind plugin of one channel.
func Props(deps pluginkit.Deps) *actor.Props {
	return pluginkit.Props(deps, func() actor.Actor {
		p := &plugin{}
		p.kit = pluginkit.New(deps, Name, declare)
		return p
	})
}

func declare() pluginkit.Registration {
	return pluginkit.Registration{Commands: []messages.CommandSpec{{
		Name: "remind", Aliases: []string{"remindme"}, Cooldown: 3 * time.Second, PMAllowed: true,
		Description: "remind you of something later (units: s m h d w, e.g. 1h30m)",
		Usage:       "remind <when> <text>",
	}}}
}

// due tells the plugin to deliver what is due; scheduled by the timer.
type due struct{}

type plugin struct {
	kit     *pluginkit.Kit
	timer   clock.Timer
	timerAt time.Time
	busy    bool // a delivery round is running
	again   bool // something became due during it
}

type detail struct {
	NextDue time.Time `json:"next_due,omitzero"`
}

func (p *plugin) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.deliver(ctx)
	case *actor.Stopping, *actor.Restarting:
		p.stopTimer()
	case due:
		p.timer = nil
		p.deliver(ctx)
	case *messages.Command:
		if m.Name == "remind" {
			p.remind(ctx, m)
		}
	}
}

// ParseDelay reads "10m", "1h30m", "2d", "1w2d", "90s" or a bare number of
// minutes.
func ParseDelay(s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, errors.New("empty delay")
	}
	if n, err := strconv.Atoi(s); err == nil {
		s = strconv.Itoa(n) + "m"
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("bad delay %q", s)
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil || n > 1_000_000 {
			return 0, fmt.Errorf("bad number in delay %q", s)
		}
		var unit time.Duration
		switch s[i] {
		case 's':
			unit = time.Second
		case 'm':
			unit = time.Minute
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("unknown unit %q", s[i])
		}
		total += time.Duration(n) * unit
		if total > MaxDelay {
			return 0, fmt.Errorf("delay over %v", MaxDelay)
		}
		s = s[i+1:]
	}
	if total <= 0 {
		return 0, errors.New("delay must be positive")
	}
	return total, nil
}

func (p *plugin) remind(ctx actor.Context, cmd *messages.Command) {
	prefix := p.kit.Deps.Prefix
	usage := "Usage: " + prefix + "remind <when> <text>, e.g. " + prefix + "remind 1h30m check the oven"
	if len(cmd.Args) < 2 {
		p.kit.Reply(ctx, cmd, usage)
		return
	}
	delay, err := ParseDelay(cmd.Args[0])
	if err != nil {
		p.kit.Reply(ctx, cmd, usage+" (at most a year).")
		return
	}
	text := strings.TrimSpace(strings.TrimPrefix(cmd.ArgText, cmd.Args[0]))
	if len([]rune(text)) > MaxMessageChars {
		p.kit.Reply(ctx, cmd, fmt.Sprintf("That reminder is too long (at most %d characters).", MaxMessageChars))
		return
	}
	now := p.kit.Deps.Clock.Now()
	at := now.Add(delay)
	p.kit.Query(ctx, `INSERT INTO daz_remind_reminders (channel, username, message, due_at, created_at, private)
SELECT $1, $2, $3, $4, $5, $6
WHERE (SELECT count(*) FROM daz_remind_reminders
       WHERE channel = $1 AND lower(username) = lower($2) AND delivered_at IS NULL) < $7
RETURNING id`,
		[]any{p.kit.Deps.Channel, cmd.User, text, at, now, cmd.PM, MaxPending}, func(res *messages.SQLResponse) {
			switch {
			case res.Err != nil:
				p.kit.Log.Warn("storing a reminder failed", slog.Any("error", res.Err))
				p.kit.Refuse(ctx, cmd, "database unavailable: "+res.Err.Error(), "The database is not reachable right now; no reminder was set.")
			case len(res.Rows) == 0:
				p.kit.Reply(ctx, cmd, fmt.Sprintf("You already have %d reminders waiting.", MaxPending))
			default:
				p.kit.Reply(ctx, cmd, fmt.Sprintf("OK %s, I'll remind you in %s.", cmd.User, pluginkit.FormatDuration(delay)))
				p.schedule(ctx, at)
			}
		})
}

// deliver sends every reminder that is due, marking it delivered in the same
// statement that reads it, then schedules the next one.
func (p *plugin) deliver(ctx actor.Context) {
	if p.busy {
		p.again = true
		return
	}
	p.busy = true
	now := p.kit.Deps.Clock.Now()
	p.kit.Query(ctx, `UPDATE daz_remind_reminders SET delivered_at = $2
WHERE channel = $1 AND delivered_at IS NULL AND due_at <= $2
RETURNING username, message, due_at, created_at, private`,
		[]any{p.kit.Deps.Channel, now}, func(res *messages.SQLResponse) {
			if res.Err != nil {
				p.busy = false
				p.kit.Log.Warn("delivering reminders failed; retrying", slog.Any("error", res.Err))
				p.schedule(ctx, now.Add(retryDelay))
				return
			}
			for _, r := range pluginkit.Rows(res) {
				p.send(ctx, now, r)
			}
			p.next(ctx)
		})
}

func (p *plugin) send(ctx actor.Context, now time.Time, r pluginkit.Row) {
	user, text, dueAt, created := r.String(0), r.String(1), r.Time(2), r.Time(3)
	msg := fmt.Sprintf("%s, reminder from %s: %s", user, pluginkit.Ago(now, created), text)
	if late := now.Sub(dueAt); late >= lateAfter {
		msg += fmt.Sprintf(" (late by %s)", pluginkit.FormatDuration(late))
	}
	if r.Bool(4) {
		p.kit.PM(ctx, user, msg)
		return
	}
	p.kit.Say(ctx, msg)
}

// next schedules the timer for the earliest reminder still waiting.
func (p *plugin) next(ctx actor.Context) {
	p.kit.Query(ctx, `SELECT min(due_at) FROM daz_remind_reminders WHERE channel = $1 AND delivered_at IS NULL`,
		[]any{p.kit.Deps.Channel}, func(res *messages.SQLResponse) {
			p.busy = false
			if res.Err != nil {
				p.kit.Log.Warn("reading the next reminder failed; retrying", slog.Any("error", res.Err))
				p.schedule(ctx, p.kit.Deps.Clock.Now().Add(retryDelay))
				return
			}
			if p.again {
				p.again = false
				ctx.Send(ctx.Self(), due{})
				return
			}
			if rows := pluginkit.Rows(res); len(rows) == 1 && !rows[0].IsNull(0) {
				p.schedule(ctx, rows[0].Time(0))
			}
		})
}

// schedule makes sure the timer fires no later than at.
func (p *plugin) schedule(ctx actor.Context, at time.Time) {
	if p.timer != nil && !p.timerAt.After(at) {
		return
	}
	p.stopTimer()
	p.kit.SetDetail(detail{NextDue: at})
	d := at.Sub(p.kit.Deps.Clock.Now())
	if d <= 0 {
		ctx.Send(ctx.Self(), due{})
		return
	}
	p.timerAt = at
	p.timer = p.kit.Deps.System.SendAfter(d, ctx.Self(), due{})
}

func (p *plugin) stopTimer() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}
