package eventfilter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/messages"
)

func (f *filter) ask(ctx actor.Context, kind messages.SQLKind, query string, args []any, then func(*messages.SQLResponse)) {
	f.sqlID++
	req := newSQL(f.sqlID, kind, query, args...)
	req.Patience = f.cfg.SQLTimeout
	if f.cfg.SQL == nil {
		then(&messages.SQLResponse{ID: req.ID, Err: fmt.Errorf("no SQL writer configured: %w", messages.ErrDatabaseUnavailable)})
		return
	}
	f.sys.Request(ctx, f.cfg.SQL, req, f.cfg.SQLTimeout, func(res any, err error) {
		then(messages.SQLResponseOf(req.ID, res, err))
	})
}

// saveDirty upserts, in one statement, every command registered since the
// last successful save. The rows that come back carry the values in force,
// so an operator's override applies from the first routing on. A command
// that could not be saved stays dirty and is retried on the next reload
// tick.
//
// One round at a time keeps start-up light: the plugins of a channel
// register one after another while the first round (the EventFilter's own
// command) is on its way, and the round after it saves them all at once.
// Sending a round per registration meant nine upserts per channel, and
// fifty channels starting together queued hundreds of them at the SQL
// writer, each with its waiting request.
func (f *filter) saveDirty(ctx actor.Context) {
	if f.saving || len(f.dirty) == 0 {
		return
	}
	batch := make([]*command, 0, len(f.dirty))
	for _, c := range f.dirty {
		batch = append(batch, c)
	}
	// Every channel's EventFilter upserts the same rows: taking their locks
	// in one order (by name) is what keeps concurrent rounds from
	// deadlocking each other.
	slices.SortFunc(batch, func(a, b *command) int { return strings.Compare(a.spec.Name, b.spec.Name) })
	args, err := upsertArgs(batch)
	if err != nil {
		f.log.Error("cannot encode commands for daz_eventfilter_cmds", slog.Any("error", err))
		return
	}
	f.saving = true
	f.ask(ctx, messages.SQLQuery, upsertCommandsSQL, args, func(res *messages.SQLResponse) {
		f.saving = false
		if res.Err != nil {
			f.stats.SQLErrors++
			lvl := slog.LevelWarn
			if errors.Is(res.Err, messages.ErrDatabaseUnavailable) {
				lvl = slog.LevelInfo // the writer reports the outage itself
			}
			f.log.Log(context.Background(), lvl, "saving commands to daz_eventfilter_cmds failed; retrying on the next reload",
				slog.Int("failed", len(batch)), slog.Any("error", res.Err))
			return
		}
		for _, c := range batch {
			// A command declared again meanwhile is a new one: it stays
			// dirty for the next round.
			if f.dirty[c.spec.Name] == c {
				delete(f.dirty, c.spec.Name)
			}
		}
		if len(f.dirty) == 0 {
			// A map keeps its table after its last delete; an idle
			// EventFilter need not keep start-up's whole command set.
			f.dirty = map[string]*command{}
		}
		for _, row := range messages.RowsOf(res) {
			n, o := overrideOf(row)
			f.reg.applyOne(n, o)
		}
		f.publishState(ctx)
		f.saveDirty(ctx) // what was declared while this round was on its way
	})
}

// reload re-reads the operator's tables. done, if set, runs once all three
// reads have answered, with the first error.
func (f *filter) reload(ctx actor.Context, done func(error)) {
	pending := 3
	var firstErr error
	finish := func(err error) {
		if err != nil {
			f.stats.SQLErrors++
			if firstErr == nil {
				firstErr = err
			}
		}
		pending--
		if pending > 0 {
			return
		}
		f.lastReload = f.cfg.Clock.Now()
		f.reloadErr = ""
		if firstErr != nil {
			f.reloadErr = firstErr.Error()
			lvl := slog.LevelWarn
			if errors.Is(firstErr, messages.ErrDatabaseUnavailable) {
				lvl = slog.LevelInfo // the writer reports the outage itself
			}
			f.log.Log(context.Background(), lvl, "reloading filter tables failed; keeping the previous values", slog.Any("error", firstErr))
		}
		f.publishState(ctx)
		if done != nil {
			done(firstErr)
		}
	}
	f.ask(ctx, messages.SQLQuery, loadCommandsSQL, nil, func(res *messages.SQLResponse) {
		if res.Err == nil {
			rows := map[string]override{}
			for _, r := range messages.RowsOf(res) {
				name, o := overrideOf(r)
				rows[name] = o
			}
			f.reg.applyOverrides(rows)
		}
		finish(res.Err)
	})
	f.ask(ctx, messages.SQLQuery, loadIgnoredSQL, []any{f.cfg.Channel}, func(res *messages.SQLResponse) {
		if res.Err == nil {
			ignored := map[string]bool{}
			for _, r := range messages.RowsOf(res) {
				ignored[strings.ToLower(r.String(0))] = true
			}
			f.lim.ignored = ignored
		}
		finish(res.Err)
	})
	f.ask(ctx, messages.SQLQuery, loadUserLimitsSQL, []any{f.cfg.Channel}, func(res *messages.SQLResponse) {
		if res.Err == nil {
			limits := map[string]int{}
			for _, r := range messages.RowsOf(res) {
				limits[strings.ToLower(r.String(0))] = int(r.Int(1))
			}
			f.lim.perMinute = limits
		}
		finish(res.Err)
	})
}
