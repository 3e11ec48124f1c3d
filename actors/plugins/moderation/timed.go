package moderation

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/messages"
)

// timed is a tempban or timed mute in force.
type timed struct {
	key    string
	target string
	verb   string // "ban" or "mute"
	reason string
	until  time.Time
	// liftTried is when lifting was last attempted (zero: not yet).
	liftTried time.Time
	// awaitJoin: the mute ran out while the user was away; CyTube keeps
	// the mute, so it is lifted when they come back.
	awaitJoin bool
}

// nextAt is when the action next needs attention.
func (t *timed) nextAt() time.Time {
	if !t.liftTried.IsZero() {
		return t.liftTried.Add(liftRetry)
	}
	return t.until
}

func (p *plugin) track(ctx actor.Context, t *timed) {
	// A newer timed action on the same user replaces the older one.
	for k, old := range p.active {
		if old.verb == t.verb && strings.EqualFold(old.target, t.target) {
			delete(p.active, k)
			p.updateLog(ctx, k, "lifted", "replaced by a newer "+t.verb, p.kit.Deps.Clock.Now())
		}
	}
	p.active[t.key] = t
	p.schedule(ctx)
}

// activeFor returns the timed action of verb in force on name, if any.
func (p *plugin) activeFor(verb, name string) *timed {
	for _, t := range p.active {
		if t.verb == verb && strings.EqualFold(t.target, name) {
			return t
		}
	}
	return nil
}

// schedule sets the one timer to the earliest action needing attention.
func (p *plugin) schedule(ctx actor.Context) {
	var next time.Time
	for _, t := range p.active {
		if t.awaitJoin {
			continue
		}
		if at := t.nextAt(); next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if p.timer == nil || !p.timerAt.Equal(next) {
		if p.timer != nil {
			p.timer.Stop()
			p.timer = nil
		}
		p.timerAt = next
		if !next.IsZero() {
			d := max(next.Sub(p.kit.Deps.Clock.Now()), 0)
			p.timer = p.kit.Deps.System.SendAfter(d, ctx.Self(), dueTick{})
		}
	}
	// Published even when the timer stays: the caller may have changed
	// something else the tree shows (the start-up read finishing after a
	// tempban was already tracked left "loaded" false for good).
	p.publish()
}

// due lifts every action whose time is up.
func (p *plugin) due(ctx actor.Context) {
	now := p.kit.Deps.Clock.Now()
	askBanlist := false
	for _, t := range p.active {
		if t.awaitJoin || now.Before(t.nextAt()) {
			continue
		}
		late := now.Sub(t.until)
		if t.liftTried.IsZero() && late >= time.Minute {
			p.kit.Log.Info("lifting late: daz was away when it ran out", slog.String("user", t.target),
				slog.String("action", t.verb), slog.String("late", late.Round(time.Second).String()))
		}
		switch t.verb {
		case "mute":
			p.liftMute(ctx, t, "ran out")
		case "ban":
			t.liftTried = now
			askBanlist = true
			p.unbans[strings.ToLower(t.target)] = unbanReq{at: now}
		}
	}
	if askBanlist {
		p.requestBanlist(ctx)
	}
	p.schedule(ctx)
}

func (p *plugin) liftMute(ctx actor.Context, t *timed, how string) {
	if _, here := p.roster.lookup(t.target); !here {
		t.awaitJoin = true
		return
	}
	p.chat(ctx, "/unmute "+t.target)
	p.setMuted(t.target, false)
	p.lifted(ctx, t, how)
}

// lifted ends a timed action and records it.
func (p *plugin) lifted(ctx actor.Context, t *timed, how string) {
	delete(p.active, t.key)
	p.kit.Log.Info("timed moderation lifted", slog.String("user", t.target), slog.String("action", t.verb),
		slog.String("how", how))
	p.updateLog(ctx, t.key, "lifted", how, p.kit.Deps.Clock.Now())
}

func (p *plugin) requestBanlist(ctx actor.Context) {
	now := p.kit.Deps.Clock.Now()
	if !p.banlistAt.IsZero() && now.Sub(p.banlistAt) < time.Second {
		return // one request answers every unban waiting
	}
	p.banlistAt = now
	p.sendEvent(ctx, "requestBanlist", nil)
}

// onBanlist unbans whatever is waiting for its ban id.
func (p *plugin) onBanlist(ctx actor.Context, b *messages.Banlist) {
	if len(p.unbans) == 0 {
		return
	}
	ids := map[string]messages.BanEntry{}
	for _, e := range b.Bans {
		if e.IP == "*" || e.IP == "" {
			ids[strings.ToLower(e.Name)] = e
		}
	}
	for name, req := range p.unbans {
		e, banned := ids[name]
		if banned {
			p.sendEvent(ctx, "unban", map[string]any{"id": e.ID, "name": e.Name})
			continue // confirmed by banlistRemove
		}
		delete(p.unbans, name)
		if t := p.activeFor("ban", name); t != nil {
			p.lifted(ctx, t, "no longer on the banlist")
		}
		if req.asker != "" {
			p.kit.PM(ctx, req.asker, fmt.Sprintf("%s is not banned.", name))
		}
	}
	p.schedule(ctx)
}

func (p *plugin) onBanlistRemove(ctx actor.Context, b *messages.BanlistRemove) {
	name := strings.ToLower(b.Name)
	req, ours := p.unbans[name]
	delete(p.unbans, name)
	t := p.activeFor("ban", b.Name)
	switch {
	case t != nil && (ours || !p.kit.Deps.Clock.Now().Before(t.until)):
		how := "ran out"
		if req.asker != "" {
			how = "unbanned by " + req.asker
		}
		p.lifted(ctx, t, how)
		p.schedule(ctx)
	case t != nil:
		// Someone lifted it early; it is applied again if they come back
		// before their time is up.
		p.kit.Log.Info("a timed ban was lifted early by someone else", slog.String("user", b.Name))
	}
	if req.asker != "" {
		p.kit.PM(ctx, req.asker, fmt.Sprintf("Unbanned %s.", b.Name))
	}
}

// onJoin re-applies a timed ban or mute to a user who comes back while it
// lasts, and lifts a mute that ran out while they were away.
func (p *plugin) onJoin(ctx actor.Context, u messages.User) {
	now := p.kit.Deps.Clock.Now()
	if t := p.activeFor("mute", u.Name); t != nil {
		switch {
		case t.awaitJoin:
			t.awaitJoin = false
			p.liftMute(ctx, t, "ran out while away")
		case !u.Meta.Muted && !u.Meta.SMuted:
			p.reapply(ctx, t, now)
		}
	}
	if t := p.activeFor("ban", u.Name); t != nil && now.Before(t.until) {
		// CyTube announces a banned user's login, then kicks them; only if
		// they are still here a moment later was the ban lost.
		p.kit.Deps.System.SendAfter(banCheckDelay, ctx.Self(), banCheck{name: u.Name})
	}
	p.auto.forget(u.Name)
}

// banCheckDelay is how long after a banned user's join daz looks whether
// the server turned them away.
const banCheckDelay = 3 * time.Second

// banCheck asks whether name, under a timed ban, is still here.
type banCheck struct{ name string }

func (p *plugin) onBanCheck(ctx actor.Context, name string) {
	now := p.kit.Deps.Clock.Now()
	t := p.activeFor("ban", name)
	if _, here := p.roster.lookup(name); here && t != nil && now.Before(t.until) {
		p.reapply(ctx, t, now)
	}
}

// onUnmuted re-mutes a user whose timed mute someone lifted by mistake.
func (p *plugin) onUnmuted(ctx actor.Context, name string) {
	if t := p.activeFor("mute", name); t != nil && !t.awaitJoin && p.kit.Deps.Clock.Now().Before(t.until) {
		p.reapply(ctx, t, p.kit.Deps.Clock.Now())
	}
}

func (p *plugin) reapply(ctx actor.Context, t *timed, now time.Time) {
	k := t.verb + "/" + strings.ToLower(t.target)
	if last, ok := p.reapplied[k]; ok && now.Sub(last) < reapplyEvery {
		return
	}
	p.reapplied[k] = now
	p.kit.Log.Info("timed moderation applied again", slog.String("user", t.target), slog.String("action", t.verb),
		slog.Time("until", t.until))
	switch t.verb {
	case "mute":
		p.chat(ctx, "/mute "+t.target)
		p.setMuted(t.target, true)
	case "ban":
		p.chat(ctx, "/ban "+t.target+reasonSuffix(t.reason))
	}
}

// unban runs !unban: look the ban id up, then unban it.
func (p *plugin) unban(ctx actor.Context, cmd *messages.Command) {
	if len(cmd.Args) < 1 {
		p.kit.Reply(ctx, cmd, "Usage: "+p.kit.Deps.Prefix+"unban <user>")
		return
	}
	if !p.checkRights(ctx, cmd) {
		return
	}
	name := cmd.Args[0]
	now := p.kit.Deps.Clock.Now()
	p.unbans[strings.ToLower(name)] = unbanReq{asker: cmd.User, at: now}
	p.insertLog(ctx, logRow{key: newKey(p.kit.Deps.Channel, now), moderator: cmd.User, target: name,
		action: "unban", at: now, outcome: "done"})
	p.banlistAt = time.Time{} // a moderator's request is never coalesced away
	p.requestBanlist(ctx)
}

// unmute runs !unmute, ending a timed mute too.
func (p *plugin) unmute(ctx actor.Context, cmd *messages.Command) {
	if len(cmd.Args) < 1 {
		p.kit.Reply(ctx, cmd, "Usage: "+p.kit.Deps.Prefix+"unmute <user>")
		return
	}
	if !p.checkRights(ctx, cmd) {
		return
	}
	m, ok := p.checkTarget(ctx, cmd, cmd.Args[0])
	if !ok {
		return
	}
	now := p.kit.Deps.Clock.Now()
	if t := p.activeFor("mute", m.Name); t != nil {
		p.lifted(ctx, t, "unmuted by "+cmd.User)
		p.schedule(ctx)
	}
	key := newKey(p.kit.Deps.Channel, now)
	p.chat(ctx, "/unmute "+m.Name)
	p.setMuted(m.Name, false)
	p.pending = append(p.pending, sent{key: key, verb: "unmute", target: m.Name, asker: cmd.User, at: now})
	p.insertLog(ctx, logRow{key: key, moderator: cmd.User, target: m.Name, action: "unmute", at: now, outcome: "done"})
	p.kit.Reply(ctx, cmd, fmt.Sprintf("Unmuted %s.", m.Name))
}
