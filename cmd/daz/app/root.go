package app

import (
	"context"
	"log/slog"
	"sort"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/channel"
	"github.com/daz-bot/daz/actors/logmaint"
	"github.com/daz-bot/daz/actors/ownership"
	"github.com/daz-bot/daz/actors/sqlwriter"
	"github.com/daz-bot/daz/messages"
)

// OwnershipName is the ownership actor's name under the root.
const OwnershipName = "ownership"

// root is the top of the tree. Children, in spawn order: the shared
// sqlwriter, the chat log's partition maintainer "logmaint", "ownership"
// (the channel locks), then "channels". Shutdown stops the channels first,
// then the writer flushes, and only then does the ownership actor end its
// lock session, handing the channels over.
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
	own, err := ctx.SpawnNamed(ownership.Props(a.sys, ownership.Config{
		Node:        a.opts.Cluster.NodeName,
		DatabaseURL: a.opts.DatabaseURL.Reveal(),
		Timings:     ownership.TimingsFor(a.opts.Cluster.FailoverTimeout),
		Channels:    a.sys.PIDOf(RootID + "/channels"),
		FreeSlots:   a.gate.Free,
		Counters:    a.cluster,
		Clock:       a.opts.Clock,
		Logger:      a.log,
	}), OwnershipName)
	if err != nil {
		panic(err)
	}
	channelsProps := a.sys.Props("channels", func() actor.Actor {
		return &channels{app: a, sql: sql, owner: own, states: map[string]*channelRun{}}
	}, actorkit.WithSupervisor(guardian))
	if _, err := ctx.SpawnNamed(channelsProps, "channels"); err != nil {
		panic(err)
	}
	// Only now may the ownership actor tell "channels" what to run.
	ctx.Send(own, messages.DesiredChannels{Channels: a.desiredChannels()})
	ctx.Send(own, ownership.Start{})
}

// desiredChannels is the set of channels the group serves: the config's,
// then daz_channels' enabled rows (followRegistry).
func (a *App) desiredChannels() []messages.DesiredChannel {
	a.channelMu.RLock()
	defer a.channelMu.RUnlock()
	out := make([]messages.DesiredChannel, 0, len(a.channelSet))
	for name, ch := range a.channelSet {
		out = append(out, messages.DesiredChannel{Name: name, Server: ch.ServerURL})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (a *App) channelOptions(name string) (ChannelOptions, bool) {
	a.channelMu.RLock()
	defer a.channelMu.RUnlock()
	ch, ok := a.channelSet[strings.ToLower(name)]
	return ch, ok
}

// channels runs one subtree per channel this daemon owns, as the ownership
// actor says; a failing channel is restarted on its own and never delays
// another. Stopping a channel (handed over or fenced) runs the tree's
// leaf-first shutdown on a goroutine, so its connection closes first and its
// last events reach the writer, while this mailbox keeps moving.
type channels struct {
	app    *App
	sql    *actor.PID
	owner  *actor.PID
	states map[string]*channelRun
}

type channelRun struct {
	stopping bool
	again    bool // acquired again while stopping: start once stopped
	answer   bool // released: tell the ownership actor once stopped
}

// channelGone reports a channel subtree's shutdown finished.
type channelGone struct{ name string }

func (c *channels) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		// After a restart (which stopped every subtree) the ownership
		// actor must say again what to run; at the first start it
		// ignores this.
		ctx.Send(c.owner, messages.ChannelsRestarted{})
	case messages.ChannelAcquired:
		st, ok := c.states[m.Channel]
		switch {
		case !ok:
			c.start(ctx, m.Channel)
		case st.stopping:
			st.again, st.answer = true, false
		}
	case messages.ChannelReleased:
		st, ok := c.states[m.Channel]
		if !ok {
			ctx.Send(c.owner, messages.ChannelStopped(m))
			return
		}
		st.again, st.answer = false, true
		c.stop(ctx, m.Channel, st)
	case messages.Fenced:
		// Each stop is answered: the ownership actor opens no new lock
		// session until every fenced connection is closed.
		for _, name := range m.Channels {
			st, ok := c.states[name]
			if !ok {
				ctx.Send(c.owner, messages.ChannelStopped{Channel: name})
				continue
			}
			st.again, st.answer = false, true
			c.stop(ctx, name, st)
		}
	case channelGone:
		st, ok := c.states[m.name]
		if !ok {
			return
		}
		delete(c.states, m.name)
		if st.answer {
			ctx.Send(c.owner, messages.ChannelStopped{Channel: m.name})
		}
		if st.again {
			c.start(ctx, m.name)
		}
	}
}

func (c *channels) stop(ctx actor.Context, name string, st *channelRun) {
	if st.stopping {
		return
	}
	st.stopping = true
	a, self := c.app, ctx.Self()
	id := self.Id + "/" + name
	go func() {
		sctx, cancel := context.WithTimeout(context.Background(), a.opts.ShutdownTimeout/2)
		defer cancel()
		if err := a.sys.Shutdown(sctx, id); err != nil {
			a.log.Warn("channel did not stop cleanly", slog.String("channel", name), slog.Any("error", err))
		}
		a.sys.Send(self, channelGone{name: name})
	}()
}

func (c *channels) start(ctx actor.Context, name string) {
	a := c.app
	ch, ok := a.channelOptions(name)
	if !ok {
		a.log.Error("channel acquired but not configured", slog.String("channel", name))
		return
	}
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
		Counters:        a.connCounters.get(name),
		WebHub:          a.webHub,
		ServerGate:      a.gate,
		Dialer:          a.dialer,
		Clock:           a.opts.Clock,
		Logger:          a.log,
	})
	if err != nil {
		// New validated every setting, so this is a bug; the channel
		// stays "starting" (not ready) and the others run.
		a.log.Error("channel not started", slog.String("channel", name), slog.Any("error", err))
		return
	}
	if _, err := ctx.SpawnNamed(props, name); err != nil {
		a.log.Error("channel not started", slog.String("channel", name), slog.Any("error", err))
		return
	}
	c.states[name] = &channelRun{}
}
