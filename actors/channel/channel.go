// Package channel is one channel's subtree: the actor that owns a channel's
// connection, outbound queue, EventFilter and plugins, and whose supervisor
// strategy (supervision.ConnectionStrategy) owns the connection's retry
// schedule, cooldown and kick policy.
package channel

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/gorilla/websocket"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/connection/servergate"
	"github.com/daz-bot/daz/actors/eventfilter"
	"github.com/daz-bot/daz/actors/outbound"
	"github.com/daz-bot/daz/actors/plugins"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/web/hub"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
)

// Config is one channel's wiring.
type Config struct {
	Channel         string // lower case
	ServerURL       string
	Username        string
	Password        string
	ChannelPassword string

	SQL *actor.PID // the shared SQL writer
	// Intake is the SQL writer's back-pressure gauge the connection's
	// reader waits on (sqlwriter.Intake); nil: the reader never waits.
	Intake     connection.Intake
	Prefix     string
	Retry      supervision.RetryConfig
	RetryStore supervision.RetryStore // nil: retry state is not persisted
	DataDir    string
	Version    string
	StartedAt  time.Time
	HTTPClient *http.Client
	Clock      clock.Clock
	Logger     *slog.Logger

	// Counters, when set, receives the connection's frame and event counts
	// (the metrics endpoint reads them); a private one is used otherwise.
	Counters *connection.Counters

	// UserRateLimit is how many commands one user may run per minute; the
	// EventFilter's default (10) when zero.
	UserRateLimit int

	// ExtraPlugins are spawned next to the standard ones (tests add a
	// misbehaving plugin this way).
	ExtraPlugins func(pluginkit.Deps) []pluginkit.Spec

	// heard, set by this package's tests, sees every ConnectionState the
	// channel actor receives.
	heard func(*messages.ConnectionState)
	// WebHub, when set, receives the channel's live events for the web
	// server (through the web plugin).
	WebHub *hub.Hub

	// ServerGate is the daemon's per-server connection limits, shared by
	// every channel (nil: no limits); Dialer opens the websocket (nil: the
	// connection's default), bound to the daemon's source address.
	ServerGate *servergate.Gate
	Dialer     *websocket.Dialer
}

// Child names, in spawn order. A child may only be sent to once it exists:
// protoactor registers a PID before its mailbox is wired, so a message racing
// a spawn touches a half-built mailbox. Hence the EventFilter and the outbound
// queue come before the plugins (which register with the EventFilter as they
// start) and the connection last (it feeds all of them). Shutdown stops them
// in reverse: the connection first (intake ends and every frame read reaches
// its sinks), then the plugins, the outbound queue and the EventFilter.
const (
	EventFilterName = "eventfilter"
	OutboundName    = "outbound"
	PluginsName     = "plugins"
	ConnectionName  = "connection"
)

// retryLoaded carries the persisted retry state back to the actor.
type retryLoaded struct {
	state supervision.RetryState
	err   error
}

type channelActor struct {
	sys      *actorkit.System
	cfg      Config
	strategy *supervision.ConnectionStrategy
	plugins  *supervision.PluginStrategy
	counters *connection.Counters
}

// Props builds a channel subtree. Its supervisor strategy is created here,
// once, so the retry count survives restarts of the channel actor itself.
func Props(sys *actorkit.System, cfg Config) (*actor.Props, error) {
	props, _, err := newProps(sys, cfg)
	return props, err
}

// newProps is Props that also returns the channel's connection strategy.
func newProps(sys *actorkit.System, cfg Config) (*actor.Props, *supervision.ConnectionStrategy, error) {
	if cfg.Clock == nil {
		cfg.Clock = sys.Clock()
	}
	if cfg.Logger == nil {
		cfg.Logger = sys.Logger()
	}
	if cfg.StartedAt.IsZero() {
		cfg.StartedAt = cfg.Clock.Now()
	}
	strategy, err := supervision.NewConnectionStrategy(supervision.ConnectionStrategyConfig{
		Channel: cfg.Channel, Retry: cfg.Retry, System: sys, Clock: cfg.Clock, Logger: cfg.Logger,
		Store: cfg.RetryStore, ChildName: ConnectionName,
		Credentials: supervision.CredentialsFingerprint(cfg.ServerURL, cfg.Username, cfg.Password, cfg.ChannelPassword),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("channel %s: %w", cfg.Channel, err)
	}
	pluginStrategy := supervision.NewPluginStrategy(supervision.PluginStrategyConfig{
		Clock: cfg.Clock, Logger: cfg.Logger,
	})
	counters := cfg.Counters
	if counters == nil {
		counters = &connection.Counters{}
	}
	return sys.Props("channel", func() actor.Actor {
		return &channelActor{sys: sys, cfg: cfg, strategy: strategy, plugins: pluginStrategy, counters: counters}
	}, actorkit.WithSupervisor(strategy)), strategy, nil
}

func (c *channelActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		// The strategy publishes backing off / cooling down / stopped while
		// the connection is suspended or gone; the channel keeps the latest
		// state so the debug endpoint and /readyz always have one.
		channel := c.cfg.Channel
		c.sys.Subscribe(ctx, func(m any) bool {
			st, ok := m.(*messages.ConnectionState)
			return ok && st.Channel == channel
		})
		c.startChildren(ctx)
		c.loadRetryState(ctx)
	case retryLoaded:
		c.onRetryLoaded(ctx, msg)
	case *messages.ConnectionState:
		c.onConnectionState(ctx, msg)
	case *actor.Stopping:
		c.strategy.Close()
		c.plugins.Close()
		// Shutdown is leaf-first, so the connection is gone by now and these
		// counts are final: every event counted here was handed to the
		// writer, which stops after all channels.
		c.cfg.Logger.Info("channel stopped", slog.String("channel", c.cfg.Channel),
			slog.Int64("events_read", c.counters.Events.Load()), slog.Int64("frames_read", c.counters.Frames.Load()),
			slog.Int64("unknown_events", c.counters.UnknownEvents.Load()), slog.Int64("decode_errors", c.counters.DecodeErrors.Load()))
	}
}

func (c *channelActor) childPID(ctx actor.Context, name string) *actor.PID {
	return c.sys.PIDOf(ctx.Self().Id + "/" + name)
}

func (c *channelActor) startChildren(ctx actor.Context) {
	log := c.cfg.Logger
	outboundPID := c.childPID(ctx, OutboundName)
	filterPID := c.childPID(ctx, EventFilterName)
	deps := pluginkit.Deps{
		System: c.sys, Channel: c.cfg.Channel, Prefix: c.cfg.Prefix,
		EventFilter: filterPID, Outbound: outboundPID, SQL: c.cfg.SQL,
		Clock: c.cfg.Clock, Logger: log, Version: c.cfg.Version, StartedAt: c.cfg.StartedAt,
		LogDir: filepath.Join(c.cfg.DataDir, "logs"), Supervision: c.plugins, Web: c.cfg.WebHub,
		StateNodes: []string{ctx.Self().Id + "/" + ConnectionName, ctx.Self().Id},
	}
	specs := plugins.All(deps)
	if c.cfg.ExtraPlugins != nil {
		specs = append(specs, c.cfg.ExtraPlugins(deps)...)
	}
	c.spawn(ctx, must(eventfilter.Props(c.sys, eventfilter.Config{
		Channel: c.cfg.Channel, Prefix: c.cfg.Prefix, Outbound: outboundPID, SQL: c.cfg.SQL,
		UserRateLimit: c.cfg.UserRateLimit, Clock: c.cfg.Clock, Logger: log,
	})), EventFilterName)
	c.spawn(ctx, must(outbound.Props(c.sys, outbound.Config{
		Channel: c.cfg.Channel, Connection: c.childPID(ctx, ConnectionName),
		Clock: c.cfg.Clock, Logger: log,
	})), OutboundName)
	c.spawn(ctx, pluginkit.HostProps(c.sys, specs, c.plugins, filterPID), PluginsName)
}

// must unwraps a child's Props; a configuration error there is a wiring bug
// that no restart can fix, so it fails the channel loudly.
func must(props *actor.Props, err error) *actor.Props {
	if err != nil {
		panic(err)
	}
	return props
}

func (c *channelActor) spawn(ctx actor.Context, props *actor.Props, name string) {
	if _, err := ctx.SpawnNamed(props, name); err != nil {
		panic(fmt.Errorf("channel %s: spawn %s: %w", c.cfg.Channel, name, err))
	}
}

// loadRetryState reads the persisted schedule off the actor's goroutine; the
// connection starts only once it is known, so a restart mid-cooldown waits.
func (c *channelActor) loadRetryState(ctx actor.Context) {
	if c.cfg.RetryStore == nil {
		ctx.Send(ctx.Self(), retryLoaded{})
		return
	}
	self, store, channel := ctx.Self(), c.cfg.RetryStore, c.cfg.Channel
	go func() {
		lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := store.Load(lctx, channel)
		c.sys.Send(self, retryLoaded{state: st, err: err})
	}()
}

func (c *channelActor) onRetryLoaded(ctx actor.Context, msg retryLoaded) {
	if _, running := c.sys.Tree().PID(ctx.Self().Id + "/" + ConnectionName); running {
		return // a late duplicate after a restart of this actor
	}
	if msg.err != nil {
		c.cfg.Logger.Warn("retry state unavailable; starting a fresh schedule",
			slog.String("channel", c.cfg.Channel), slog.Any("error", msg.err))
	} else if msg.state.Channel != "" {
		c.strategy.Restore(msg.state)
	}
	if reason := c.strategy.Stopped(); reason != "" {
		// Persisted as stopped and nothing since says to try again: no
		// connection, and the debug endpoint and /readyz say why. Published
		// once; this actor records it when it hears it, like every state.
		st := c.strategy.Status()
		c.sys.Publish(&st)
		return
	}
	c.spawn(ctx, connection.Props(c.sys, connection.Config{
		Channel: c.cfg.Channel, ServerURL: c.cfg.ServerURL, Username: c.cfg.Username,
		Password: c.cfg.Password, ChannelPassword: c.cfg.ChannelPassword,
		Sinks:      []*actor.PID{c.cfg.SQL, c.childPID(ctx, EventFilterName), c.childPID(ctx, OutboundName)},
		Intake:     c.cfg.Intake,
		HTTPClient: c.cfg.HTTPClient, Clock: c.cfg.Clock, Logger: c.cfg.Logger,
		Attempts: c.strategy, Counters: c.counters,
		ServerGate: c.cfg.ServerGate, Dialer: c.cfg.Dialer,
	}), ConnectionName)
}

// onConnectionState keeps the latest state on the channel's node, where
// /readyz finds it once the connection's own node is gone (stopped). Each
// state reaches the channel once, from the EventStream; the login is
// confirmed to the strategy by the connection itself, not here.
func (c *channelActor) onConnectionState(ctx actor.Context, st *messages.ConnectionState) {
	if c.cfg.heard != nil {
		c.cfg.heard(st)
	}
	c.sys.Tree().SetState(ctx.Self().Id, *st)
}
