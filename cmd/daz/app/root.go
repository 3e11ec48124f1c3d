package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/channel"
	"github.com/daz-bot/daz/actors/logmaint"
	"github.com/daz-bot/daz/actors/sqlwriter"
)

// root is the top of the tree. Children, in spawn order: the shared
// sqlwriter, the chat log's partition maintainer "logmaint", then "channels". Shutdown stops siblings in reverse spawn order,
// so every channel (and its intake) stops before the writer flushes.
type root struct{ app *App }

func (a *App) rootProps() *actor.Props {
	guardian := actorkit.RestartStrategy{Clock: a.opts.Clock, Logger: a.log}
	return a.sys.Props("root", func() actor.Actor { return &root{app: a} }, actorkit.WithSupervisor(guardian))
}

func (r *root) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); !ok {
		return
	}
	a := r.app
	var prepare func(context.Context) error
	if !a.migrated {
		prepare = a.prepareDatabase
	}
	sql, err := ctx.SpawnNamed(sqlwriter.Props(a.sys, sqlwriter.Config{
		Prepare:           prepare,
		DatabaseURL:       a.opts.DatabaseURL.Reveal(),
		BatchSize:         a.opts.Writer.BatchSize,
		FlushInterval:     a.opts.Writer.FlushInterval,
		MaxBufferedEvents: a.opts.Writer.MaxBuffered,
		MaxBufferedBytes:  a.opts.Writer.MaxBufferedBytes,
		DataDir:           a.opts.DataDir,
		Metrics:           a.writerMetrics,
		Intake:            a.intake,
		Clock:             a.opts.Clock,
		Logger:            a.log,
	}), "sqlwriter")
	if err != nil {
		panic(err)
	}
	// After the writer, which brings the schema up when the database was
	// away at start (and publishes that it is back, which retries a round).
	if _, err := ctx.SpawnNamed(logmaint.Props(a.sys, logmaint.Config{
		DatabaseURL: a.opts.DatabaseURL.Reveal(),
		Retention:   a.opts.LogRetention,
		Clock:       a.opts.Clock,
		Logger:      a.log,
	}), "logmaint"); err != nil {
		panic(err)
	}
	guardian := actorkit.RestartStrategy{Clock: a.opts.Clock, Logger: a.log}
	channelsProps := a.sys.Props("channels", func() actor.Actor { return &channels{app: a, sql: sql} },
		actorkit.WithSupervisor(guardian))
	if _, err := ctx.SpawnNamed(channelsProps, "channels"); err != nil {
		panic(err)
	}
}

// channels holds one subtree per configured channel; a failing channel is
// restarted on its own and never delays another.
type channels struct {
	app *App
	sql *actor.PID
}

func (c *channels) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); !ok {
		return
	}
	a := c.app
	for _, ch := range a.opts.Channels {
		name := strings.ToLower(ch.Name)
		props, err := channel.Props(a.sys, channel.Config{
			Channel:         name,
			ServerURL:       ch.ServerURL,
			Username:        ch.Username,
			Password:        ch.Password.Reveal(),
			ChannelPassword: ch.ChannelPassword.Reveal(),
			SQL:             c.sql,
			Intake:          a.intake,
			Prefix:          a.opts.CommandPrefix,
			UserRateLimit:   a.opts.UserRateLimit,
			Retry:           a.opts.Retry.toSupervision(),
			RetryStore:      a.retryStore,
			StartedAt:       a.startedAt,
			DataDir:         a.opts.DataDir,
			Version:         a.opts.Version,
			HTTPClient:      a.opts.HTTPClient,
			ExtraPlugins:    a.opts.ExtraPlugins,
			Counters:        a.connCounters[name],
			WebHub:          a.webHub,
			ServerGate:      a.gate,
			Dialer:          a.dialer,
			Clock:           a.opts.Clock,
			Logger:          a.log,
		})
		if err != nil {
			// New validated every setting, so this is a bug; panicking in
			// Started would only restart this actor forever. The channel
			// stays "starting" (not ready) and the others run.
			a.log.Error("channel not started", slog.String("channel", name), slog.Any("error", err))
			continue
		}
		if _, err := ctx.SpawnNamed(props, name); err != nil {
			a.log.Error("channel not started", slog.String("channel", name), slog.Any("error", err))
		}
	}
}
