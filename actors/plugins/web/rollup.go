package web

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// The hourly roll-up behind the web's charts (migration 00022). It runs
// through the SQL writer like every plugin write.
const (
	RollupEvery = 30 * time.Second
	RollupChunk = 50_000
	rollupRetry = 2 * time.Minute
)

// RollupStateSQL makes sure the channel has a roll-up position.
const RollupStateSQL = `INSERT INTO daz_web_rollup_state (channel) VALUES ($1) ON CONFLICT (channel) DO NOTHING`

// RollupSQL folds the next $2 ids of the chat log into the channel's hourly
// counts ([server] notices are not counted) and returns how far it got and
// the newest id, so the caller knows whether to go on.
const RollupSQL = `WITH bounds AS (
    SELECT s.last_id AS lo,
           least((SELECT coalesce(max(id), 0) FROM daz_core_chat_log), s.last_id + $2) AS hi
    FROM daz_web_rollup_state s
    WHERE s.channel = $1
), fresh AS (
    SELECT date_trunc('hour', l.timestamp AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour, count(*) AS n
    FROM daz_core_chat_log l, bounds b
    WHERE l.id > b.lo AND l.id <= b.hi AND l.channel = $1 AND l.event_type = 'chatMsg'
      AND l.username IS DISTINCT FROM '[server]'
    GROUP BY 1
), merged AS (
    INSERT INTO daz_web_chat_hourly AS h (channel, hour, messages)
    SELECT $1, hour, n FROM fresh
    ON CONFLICT (channel, hour) DO UPDATE SET messages = h.messages + EXCLUDED.messages
)
UPDATE daz_web_rollup_state s SET last_id = b.hi, updated_at = now()
FROM bounds b
WHERE s.channel = $1 AND b.hi > s.last_id
RETURNING b.hi, (SELECT coalesce(max(id), 0) FROM daz_core_chat_log)`

type rollupTick struct{}

// rollup runs rounds until the hourly counts have caught up, then waits
// RollupEvery (longer after an error) for the next.
func (p *plugin) rollup(ctx actor.Context) {
	if p.rolling {
		return
	}
	p.rolling = true
	if p.prepared {
		p.rollupRound(ctx)
		return
	}
	p.kit.Exec(ctx, RollupStateSQL, []any{p.kit.Deps.Channel}, func(res *messages.SQLResponse) {
		if res.Err != nil {
			p.rollupDone(ctx, res.Err)
			return
		}
		p.prepared = true
		p.rollupRound(ctx)
	})
}

func (p *plugin) rollupRound(ctx actor.Context) {
	p.kit.Query(ctx, RollupSQL, []any{p.kit.Deps.Channel, int64(RollupChunk)}, func(res *messages.SQLResponse) {
		if res.Err == nil {
			if rows := pluginkit.Rows(res); len(rows) == 1 && rows[0].Int(0) < rows[0].Int(1) {
				p.rollupRound(ctx) // a long history: go on at once
				return
			}
		}
		p.rollupDone(ctx, res.Err)
	})
}

func (p *plugin) rollupDone(ctx actor.Context, err error) {
	p.rolling = false
	every := RollupEvery
	if err != nil {
		every = rollupRetry
		p.kit.Log.Warn("hourly roll-up failed", slog.Any("error", err))
	}
	if p.rollTimer == nil && p.kit.Deps.System != nil {
		p.rollTimer = p.kit.Deps.System.SendAfter(every, ctx.Self(), rollupTick{})
	}
}
