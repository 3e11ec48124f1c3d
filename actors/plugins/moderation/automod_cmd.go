package moderation

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// maxRules bounds a channel's rule set.
const maxRules = 500

// loadRules reads the channel's automod rules; a rule that no longer
// compiles is logged and skipped.
func (p *plugin) loadRules(ctx actor.Context) {
	p.kit.Query(ctx, `SELECT id, kind, pattern, action, duration_ms, below_rank, dry_run
FROM daz_moderation_rules WHERE channel = $1 ORDER BY id`, []any{p.kit.Deps.Channel},
		func(res *messages.SQLResponse) {
			if res.Err != nil {
				p.kit.Log.Warn("reading the automod rules failed; retrying",
					slog.String("delay", loadRetry.String()), slog.Any("error", res.Err))
				p.retryLoad(ctx)
				return
			}
			var rules []*Rule
			for _, row := range pluginkit.Rows(res) {
				r, err := ruleFromRow(row)
				if err != nil {
					p.kit.Log.Warn("stored automod rule skipped", slog.Int64("rule", row.Int(0)), slog.Any("error", err))
					continue
				}
				rules = append(rules, r)
			}
			p.auto.setRules(rules)
			p.auto.loaded = true
			p.publish()
		})
}

func ruleFromRow(row pluginkit.Row) (*Rule, error) {
	r := &Rule{ID: row.Int(0), Kind: row.String(1), Pattern: row.String(2), Action: row.String(3),
		Duration: time.Duration(row.Int(4)) * time.Millisecond, BelowRank: row.Float(5), DryRun: row.Bool(6)}
	if err := r.compile(); err != nil {
		return nil, err
	}
	return r, nil
}

// onChat runs the automod rules on a live chat line.
func (p *plugin) onChat(ctx actor.Context, ev *messages.Event, b *messages.ChatMsg) {
	if len(p.auto.rules) == 0 || b.Username == serverName || p.roster.isBot(b.Username) {
		return
	}
	rank := 0.0
	if m, ok := p.roster.lookup(b.Username); ok {
		rank = m.Rank
	}
	if rank >= p.roster.botRank {
		return // staff at or above our rank is never the rules' business
	}
	h := p.auto.check(b.Username, rank, b.Text)
	if h == nil {
		return
	}
	p.enforce(ctx, b.Username, h)
}

// enforce carries out (or, in dry-run, only logs) what a rule decided.
func (p *plugin) enforce(ctx actor.Context, user string, h *hit) {
	by := fmt.Sprintf("rule #%d", h.rule.ID)
	reason := fmt.Sprintf("automod rule #%d (%s)", h.rule.ID, h.rule.Kind)
	now := p.kit.Deps.Clock.Now()
	if h.rule.DryRun {
		var until time.Time
		if h.dur > 0 {
			until = now.Add(h.dur)
		}
		p.kit.Log.Info("automod dry-run: would act", slog.String("user", user), slog.Int64("rule", h.rule.ID),
			slog.String("action", h.action), slog.String("duration", h.dur.String()))
		p.insertLog(ctx, logRow{key: newKey(p.kit.Deps.Channel, now), moderator: by, target: user, action: h.action,
			reason: reason, until: until, at: now, outcome: "dry-run"})
		return
	}
	if h.action == "warn" {
		p.kit.PM(ctx, user, fmt.Sprintf("%s, please mind the channel's rules: that line tripped %s.", user, reason))
		p.insertLog(ctx, logRow{key: newKey(p.kit.Deps.Channel, now), moderator: by, target: user, action: "warn",
			reason: reason, at: now, outcome: "done"})
		return
	}
	if perm := perms[h.action]; !p.roster.may(perm) {
		p.kit.Log.Info("automod cannot act: our rank is too low", slog.String("user", user),
			slog.String("action", h.action), slog.String("need", formatRank(p.roster.need(perm))))
		p.insertLog(ctx, logRow{key: newKey(p.kit.Deps.Channel, now), moderator: by, target: user, action: h.action,
			reason: reason, at: now, outcome: "refused",
			detail: fmt.Sprintf("I need rank %s to %s here", formatRank(p.roster.need(perm)), perm)})
		return
	}
	if h.action == "mute" {
		if m, ok := p.roster.lookup(user); ok && m.Muted && p.activeFor("mute", user) == nil {
			return // muted by someone already, for good
		}
	}
	p.apply(ctx, action{by: by, verb: h.action, target: user, reason: reason, dur: h.dur})
}

// automodCommand runs !automod add|del|list|test|dryrun.
func (p *plugin) automodCommand(ctx actor.Context, cmd *messages.Command) {
	prefix := p.kit.Deps.Prefix
	usage := "Usage: " + prefix + "automod add <kind> <pattern> <action> [duration] | del <id> | list | test <text> | dryrun <id> on|off"
	if len(cmd.Args) == 0 {
		p.kit.Reply(ctx, cmd, usage)
		return
	}
	args := cmd.Args[1:]
	switch strings.ToLower(cmd.Args[0]) {
	case "add":
		if len(args) < 3 || len(args) > 4 {
			p.kit.Reply(ctx, cmd, "Usage: "+prefix+"automod add <word|regex|link|caps|repeat|flood> <pattern> <warn|mute|kick|tempban> [duration], e.g. "+prefix+"automod add word grapefruit mute 5m")
			return
		}
		p.addRule(ctx, cmd, args)
	case "del":
		id, ok := p.ruleID(ctx, cmd, args)
		if !ok {
			return
		}
		p.kit.Exec(ctx, `DELETE FROM daz_moderation_rules WHERE channel = $1 AND id = $2`,
			[]any{p.kit.Deps.Channel, id}, func(res *messages.SQLResponse) {
				p.ruleChanged(ctx, cmd, res, id, fmt.Sprintf("Rule #%d deleted.", id), func() {
					p.auto.setRules(slices.DeleteFunc(slices.Clone(p.auto.rules), func(r *Rule) bool { return r.ID == id }))
				})
			})
	case "dryrun":
		id, ok := p.ruleID(ctx, cmd, args)
		if !ok {
			return
		}
		if len(args) != 2 || (args[1] != "on" && args[1] != "off") {
			p.kit.Reply(ctx, cmd, "Usage: "+prefix+"automod dryrun <id> on|off")
			return
		}
		on := args[1] == "on"
		p.kit.Exec(ctx, `UPDATE daz_moderation_rules SET dry_run = $3 WHERE channel = $1 AND id = $2`,
			[]any{p.kit.Deps.Channel, id, on}, func(res *messages.SQLResponse) {
				p.ruleChanged(ctx, cmd, res, id, fmt.Sprintf("Rule #%d dry-run %s.", id, args[1]), func() {
					for _, r := range p.auto.rules {
						if r.ID == id {
							r.DryRun = on
						}
					}
				})
			})
	case "list":
		if len(p.auto.rules) == 0 {
			p.kit.Reply(ctx, cmd, "No automod rules.")
			return
		}
		for _, r := range p.auto.rules {
			p.kit.PM(ctx, cmd.User, r.String())
		}
	case "test":
		text := strings.TrimSpace(strings.TrimPrefix(cmd.ArgText, cmd.Args[0]))
		if text == "" {
			p.kit.Reply(ctx, cmd, "Usage: "+prefix+"automod test <text>")
			return
		}
		tripped := p.auto.test(text)
		if len(tripped) == 0 {
			p.kit.Reply(ctx, cmd, "No rule would trip on that (repeat and flood rules need a history).")
			return
		}
		parts := make([]string, len(tripped))
		for i, r := range tripped {
			parts[i] = r.String()
		}
		p.kit.Reply(ctx, cmd, "Would trip: "+strings.Join(parts, "; "))
	default:
		p.kit.Reply(ctx, cmd, usage)
	}
}

func (p *plugin) ruleID(ctx actor.Context, cmd *messages.Command, args []string) (int64, bool) {
	if len(args) < 1 {
		p.kit.Reply(ctx, cmd, "Which rule? Give its number from "+p.kit.Deps.Prefix+"automod list.")
		return 0, false
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
	if err != nil || id <= 0 {
		p.kit.Reply(ctx, cmd, fmt.Sprintf("%q is not a rule number.", args[0]))
		return 0, false
	}
	return id, true
}

func (p *plugin) addRule(ctx actor.Context, cmd *messages.Command, args []string) {
	dur := ""
	if len(args) == 4 {
		dur = args[3]
	}
	r, err := ParseRule(args[0], args[1], args[2], dur)
	if err != nil {
		p.refuse(ctx, cmd, "invalid rule: "+err.Error(), "Rule refused: "+err.Error()+".")
		return
	}
	if len(p.auto.rules) >= maxRules {
		p.refuse(ctx, cmd, "too many rules", fmt.Sprintf("Rule refused: a channel has at most %d rules.", maxRules))
		return
	}
	p.kit.Query(ctx, `INSERT INTO daz_moderation_rules (channel, kind, pattern, action, duration_ms, below_rank, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		[]any{p.kit.Deps.Channel, r.Kind, r.Pattern, r.Action, r.Duration.Milliseconds(), r.BelowRank, cmd.User},
		func(res *messages.SQLResponse) {
			if res.Err != nil || len(res.Rows) != 1 {
				p.kit.Refuse(ctx, cmd, fmt.Sprintf("database unavailable: %v", res.Err),
					"The database is not reachable right now; no rule was added.")
				return
			}
			r.ID = pluginkit.Rows(res)[0].Int(0)
			p.auto.setRules(append(p.auto.rules, r))
			p.publish()
			p.kit.Log.Info("automod rule added", slog.String("user", cmd.User), slog.String("rule", r.String()))
			p.kit.Reply(ctx, cmd, "Added rule "+r.String()+".")
		})
}

// ruleChanged answers a del or dryrun and applies it to the rules in
// memory at once, so the next line and command see it.
func (p *plugin) ruleChanged(ctx actor.Context, cmd *messages.Command, res *messages.SQLResponse, id int64, ok string, apply func()) {
	switch {
	case res.Err != nil:
		p.kit.Refuse(ctx, cmd, "database unavailable: "+res.Err.Error(),
			"The database is not reachable right now; the rules are unchanged.")
	case res.RowsAffected == 0:
		p.kit.Reply(ctx, cmd, fmt.Sprintf("There is no rule #%d.", id))
	default:
		p.kit.Log.Info("automod rules changed", slog.String("user", cmd.User), slog.String("change", ok))
		apply()
		p.publish()
		p.kit.Reply(ctx, cmd, ok)
	}
}
