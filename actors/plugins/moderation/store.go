package moderation

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

const (
	// flushRetry is how soon a log write that met an outage is tried again.
	flushRetry = 5 * time.Second
	// maxQueuedRows bounds the log rows held through an outage.
	maxQueuedRows = 10000
)

// logRow is one row of daz_moderation_actions.
type logRow struct {
	key, moderator, target, action, reason, outcome, detail string
	until, at                                               time.Time
}

// logWrite is one statement of the log, applied in order.
type logWrite struct {
	query string
	args  []any
}

// newKey names a log row before the database has seen it, so a row queued
// through an outage is written once and can be updated meanwhile.
func newKey(channel string, now time.Time) string {
	return fmt.Sprintf("%s-%d-%s", channel, now.UnixNano(), rand.Text()[:10])
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (p *plugin) insertLog(ctx actor.Context, r logRow) {
	p.queueWrite(ctx, logWrite{query: `INSERT INTO daz_moderation_actions
(key, channel, moderator, target, action, reason, until, at, outcome, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (key) DO NOTHING`,
		args: []any{r.key, p.kit.Deps.Channel, r.moderator, r.target, r.action, r.reason, nullTime(r.until), r.at,
			r.outcome, r.detail}})
}

// updateLog records what became of an action: refused, or lifted at.
func (p *plugin) updateLog(ctx actor.Context, key, outcome, detail string, liftedAt time.Time) {
	p.queueWrite(ctx, logWrite{query: `UPDATE daz_moderation_actions SET outcome = $2, detail = $3, lifted_at = $4
WHERE key = $1`, args: []any{key, outcome, detail, nullTime(liftedAt)}})
}

func (p *plugin) queueWrite(ctx actor.Context, w logWrite) {
	if len(p.sh.writes) >= maxQueuedRows {
		p.kit.Log.Error("moderation log queue full; the oldest row is dropped", slog.Int("queued", len(p.sh.writes)))
		p.sh.writes = p.sh.writes[1:]
	}
	p.sh.writes = append(p.sh.writes, w)
	p.flush(ctx)
}

// flush writes the queued rows one at a time, in order; an outage leaves
// them queued and retries.
func (p *plugin) flush(ctx actor.Context) {
	if p.writing || p.flushTimer != nil || len(p.sh.writes) == 0 {
		p.publish()
		return
	}
	p.writing = true
	w := p.sh.writes[0]
	p.kit.Exec(ctx, w.query, w.args, func(res *messages.SQLResponse) {
		p.writing = false
		if res.Err != nil && errors.Is(res.Err, messages.ErrDatabaseUnavailable) {
			if !p.outage {
				p.outage = true
				p.kit.Log.Warn("moderation log unavailable; rows are queued", slog.Int("queued", len(p.sh.writes)),
					slog.Any("error", res.Err))
			}
			p.flushTimer = p.kit.Deps.System.SendAfter(flushRetry, ctx.Self(), flushTick{})
			p.publish()
			return
		}
		if res.Err != nil {
			p.kit.Log.Error("moderation log row dropped", slog.Any("error", res.Err))
		}
		if p.outage && res.Err == nil {
			p.outage = false
			p.kit.Log.Info("moderation log writes resumed", slog.Int("queued", len(p.sh.writes)))
		}
		p.sh.writes = p.sh.writes[1:]
		p.flush(ctx)
	})
}

// load reads the timed actions still in force, at start and until it
// succeeds; ones created meanwhile (during an outage) are kept.
func (p *plugin) load(ctx actor.Context) {
	if p.loaded {
		return
	}
	p.kit.Query(ctx, `SELECT key, target, action, reason, until FROM daz_moderation_actions
WHERE channel = $1 AND until IS NOT NULL AND outcome = 'done'`, []any{p.kit.Deps.Channel},
		func(res *messages.SQLResponse) {
			if res.Err != nil {
				p.kit.Log.Warn("reading the timed moderation actions failed; retrying",
					slog.String("delay", loadRetry.String()), slog.Any("error", res.Err))
				p.retryLoad(ctx)
				return
			}
			p.loaded = true
			for _, r := range pluginkit.Rows(res) {
				key := r.String(0)
				if _, ok := p.active[key]; ok {
					continue
				}
				verb := "ban"
				if r.String(2) == "mute" {
					verb = "mute"
				}
				p.active[key] = &timed{key: key, target: r.String(1), verb: verb, reason: r.String(3), until: r.Time(4)}
			}
			p.kit.Log.Info("timed moderation actions restored", slog.Int("active", len(p.active)))
			p.due(ctx)
		})
}

func (p *plugin) retryLoad(ctx actor.Context) {
	if p.loadTimer == nil {
		p.loadTimer = p.kit.Deps.System.SendAfter(loadRetry, ctx.Self(), loadTick{})
	}
	p.publish()
}

// modlog PMs the last actions, of one user or of everyone.
func (p *plugin) modlog(ctx actor.Context, cmd *messages.Command) {
	target := ""
	if len(cmd.Args) > 0 {
		target = cmd.Args[0]
	}
	p.kit.Query(ctx, `SELECT moderator, target, action, reason, until, at, outcome, detail
FROM daz_moderation_actions WHERE channel = $1 AND ($2 = '' OR lower(target) = lower($2))
ORDER BY at DESC, id DESC LIMIT $3`, []any{p.kit.Deps.Channel, target, modlogRows},
		func(res *messages.SQLResponse) {
			if res.Err != nil {
				p.kit.Refuse(ctx, cmd, "database unavailable: "+res.Err.Error(), fmt.Sprintf(
					"The moderation log is not reachable right now (%d rows wait to be written).", len(p.sh.writes)))
				return
			}
			rows := pluginkit.Rows(res)
			if len(rows) == 0 {
				who := ""
				if target != "" {
					who = " for " + target
				}
				p.kit.PM(ctx, cmd.User, "No moderation actions"+who+".")
				return
			}
			now := p.kit.Deps.Clock.Now()
			for i := len(rows) - 1; i >= 0; i-- {
				p.kit.PM(ctx, cmd.User, formatLogRow(now, rows[i]))
			}
		})
}

// formatLogRow renders one log row: "5m ago: mod tempban bob (spam) until
// 14:00 UTC — lifted".
func formatLogRow(now time.Time, r pluginkit.Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s %s", pluginkit.Ago(now, r.Time(5)), r.String(0), r.String(2), r.String(1))
	if reason := r.String(3); reason != "" {
		fmt.Fprintf(&b, " (%s)", reason)
	}
	if !r.IsNull(4) {
		fmt.Fprintf(&b, " until %s", r.Time(4).UTC().Format("2006-01-02 15:04 UTC"))
	}
	if outcome := r.String(6); outcome != "done" {
		b.WriteString(" — " + outcome)
		if d := r.String(7); d != "" {
			b.WriteString(": " + d)
		}
	}
	return b.String()
}
