// Package app assembles the daemon: the actor system and its tree (root
// "daz" → "sqlwriter" and "channels" → one subtree per channel), the
// migrations and the debug endpoint. cmd/daz fills Options from the
// configuration; tests embed the app with Options of their own.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/connection/servergate"
	"github.com/daz-bot/daz/actors/ownership"
	"github.com/daz-bot/daz/actors/plugins/web/hub"
	"github.com/daz-bot/daz/actors/sqlwriter"
	"github.com/daz-bot/daz/cmd/daz/debugserver"
	"github.com/daz-bot/daz/cmd/daz/metrics"
	"github.com/daz-bot/daz/cmd/daz/web"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations"
	"github.com/daz-bot/daz/supervision"
)

// RootID is the id of the top of the actor tree.
const RootID = "daz"

// ConfigError is an Options problem the operator must fix (exit status 2).
// Key names the configuration key when one is to blame.
type ConfigError struct {
	Key string
	Err error
}

func (e *ConfigError) Error() string {
	if e.Key == "" {
		return e.Err.Error()
	}
	return e.Key + ": " + e.Err.Error()
}
func (e *ConfigError) Unwrap() error { return e.Err }

// App is one running daemon.
type App struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics.Metrics
	sys     *actorkit.System
	debug   *debugserver.Server
	ready   chan struct{}

	startedAt     time.Time
	connCounters  *counterSet
	writerMetrics *sqlwriter.Metrics
	intake        *sqlwriter.Intake // the writer's back-pressure on the readers
	gate          *servergate.Gate  // every channel's per-server limits
	dialer        *websocket.Dialer // shared by every channel; bound to Options.LocalAddr if set
	retryPool     *pgxpool.Pool
	migrated      bool // at start-up; otherwise the writer applies them
	retryStore    supervision.RetryStore

	cluster *ownership.Counters
	// channelSet is what the group serves: the config's channels, then
	// daz_channels as the registry listener reads it. By lower-case name.
	channelMu  sync.RWMutex
	channelSet map[string]ChannelOptions
	duplicates atomic.Int64 // "Duplicate login" kicks: two sessions of the bot in one channel

	webHub  *hub.Hub
	web     *web.Server
	webPool *pgxpool.Pool
}

// New checks opts and fills in defaults. It starts nothing.
func New(opts Options) (*App, error) {
	if len(opts.Channels) == 0 {
		return nil, &ConfigError{Key: "cytube.channel", Err: errors.New("no channel configured")}
	}
	if !opts.DatabaseURL.IsSet() {
		return nil, &ConfigError{Key: "database.url", Err: errors.New("required")}
	}
	if opts.DebugAddr != "" && !debugserver.IsLoopback(opts.DebugAddr) && !opts.DebugToken.IsSet() {
		return nil, &ConfigError{Key: "debug.addr", Err: fmt.Errorf("%s: %w", opts.DebugAddr, debugserver.ErrTokenRequired)}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	dialer := sourceDialer(opts.LocalAddr)
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 15 * time.Second}
		if dialer != nil {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.DialContext = dialer.DialContext
			opts.HTTPClient.Transport = tr
		}
	}
	def := DefaultServerLimits()
	if opts.ServerLimits.MaxConnections == 0 {
		opts.ServerLimits.MaxConnections = def.MaxConnections
	}
	if opts.ServerLimits.ConnectBurst == 0 {
		opts.ServerLimits.ConnectBurst = def.ConnectBurst
	}
	if opts.ServerLimits.ConnectInterval == 0 {
		opts.ServerLimits.ConnectInterval = def.ConnectInterval
	}
	if opts.CommandPrefix == "" {
		opts.CommandPrefix = DefaultCommandPrefix
	}
	if opts.Retry == (RetryOptions{}) {
		opts.Retry = DefaultRetry()
	}
	if opts.Writer == (WriterOptions{}) {
		opts.Writer = DefaultWriter()
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.DataDir == "" {
		opts.DataDir = DefaultDataDir
	}
	if opts.Cluster.NodeName == "" {
		opts.Cluster.NodeName = DefaultNodeName()
	}
	if opts.Cluster.FailoverTimeout == 0 {
		opts.Cluster.FailoverTimeout = ownership.DefaultFailoverTimeout
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var err error
	a := &App{opts: opts, log: opts.Logger, metrics: metrics.New(), ready: make(chan struct{}), webHub: newWebHub(opts.Web)}
	a.writerMetrics = &sqlwriter.Metrics{OnBatch: a.metrics.BatchWritten}
	a.intake = sqlwriter.NewIntake(opts.Clock)
	if a.gate, err = newServerGate(opts); err != nil {
		return nil, err
	}
	// One dialer for every channel, so all sockets share its write buffers.
	a.dialer = connection.NewDialer()
	if dialer != nil {
		a.dialer.NetDialContext = dialer.DialContext
	}
	a.metrics.Registry.MustRegister(newWriterCollector(a.writerMetrics))
	a.connCounters = &counterSet{}
	a.channelSet = map[string]ChannelOptions{}
	for _, ch := range opts.Channels {
		a.connCounters.get(strings.ToLower(ch.Name))
		a.channelSet[strings.ToLower(ch.Name)] = ch
	}
	a.metrics.Registry.MustRegister(newConnectionCollector(a.connCounters))
	a.cluster = &ownership.Counters{}
	a.metrics.Registry.MustRegister(newClusterCollectors(a.cluster, &a.duplicates)...)
	return a, nil
}

// ServerGate is the daemon's per-server connection limits: how many more
// channels of a server it could connect (Free, HasFreeSlot).
func (a *App) ServerGate() *servergate.Gate { return a.gate }

// newServerGate makes the daemon's one gate from the limits and overrides.
func newServerGate(opts Options) (*servergate.Gate, error) {
	cfg := servergate.Config{Default: opts.ServerLimits.gate(), Servers: map[string]servergate.Limits{}, Clock: opts.Clock}
	for _, s := range opts.Servers {
		cfg.Servers[s.URL] = s.gate()
	}
	g, err := servergate.New(cfg)
	if err != nil {
		return nil, &ConfigError{Key: "cytube.servers", Err: err}
	}
	return g, nil
}

// sourceDialer dials from addr (an IP; Validate checked it), nil when no
// source address is configured.
func sourceDialer(addr string) *net.Dialer {
	if addr == "" {
		return nil
	}
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}, Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
}

// Metrics exposes the app's collectors (tests read them).
func (a *App) Metrics() *metrics.Metrics { return a.metrics }

// System is the running actor system; valid once Started is closed.
func (a *App) System() *actorkit.System { return a.sys }

// Started is closed once the tree is spawned and the debug endpoint listens.
func (a *App) Started() <-chan struct{} { return a.ready }

// DebugAddr is the bound debug address; valid once Started is closed.
func (a *App) DebugAddr() string {
	if a.debug == nil {
		return ""
	}
	return a.debug.Addr()
}

// Run starts everything and blocks until ctx is cancelled, then shuts down
// gracefully: intake stops first, the tree drains leaf-first, and the chat
// log is flushed last. It returns an error only if start-up failed or the
// shutdown did not finish within Options.ShutdownTimeout.
func (a *App) Run(ctx context.Context) error {
	a.log.Info("daz starting", slog.String("version", a.opts.Version), slog.String("commit", a.opts.Commit),
		slog.Int("channels", len(a.opts.Channels)), slog.String("debug_addr", a.opts.DebugAddr))
	a.startedAt = a.opts.Clock.Now()
	if limit := a.opts.MemoryLimit; limit > 0 {
		// The writer's budget bounds what a burst keeps live; the limit
		// keeps the collector from letting the heap double on top of it.
		prev := debug.SetMemoryLimit(limit)
		defer debug.SetMemoryLimit(prev)
		a.log.Info("soft memory limit set", slog.Int64("bytes", limit))
	}
	if err := a.probeDatabase(ctx); err != nil {
		return err
	}
	a.migrated = a.migrate(ctx)
	if err := a.openRetryStore(); err != nil {
		return err
	}
	defer a.closeRetryStore()

	a.sys = actorkit.NewSystem(a.log, a.opts.Clock)
	tree := newTreeCollector(a.sys.Tree())
	a.metrics.Registry.MustRegister(tree)
	defer a.metrics.Registry.Unregister(tree)
	defer a.sys.SubscribeFunc(a.observe)()
	if _, err := a.sys.Root().SpawnNamed(a.rootProps(), RootID); err != nil {
		return fmt.Errorf("spawn actor tree: %w", err)
	}
	if a.opts.DebugAddr != "" {
		srv, err := debugserver.Listen(debugserver.Config{
			Addr: a.opts.DebugAddr, Token: a.opts.DebugToken.Reveal(),
			Reports: reports{a}, Registry: a.metrics.Registry, Logger: a.log,
		})
		if err != nil {
			_ = a.shutdownTree() // the listen error is the one to report
			return err
		}
		a.debug = srv
		go func() {
			if err := srv.Serve(); err != nil {
				a.log.Error("debug endpoint stopped", slog.Any("error", err))
			}
		}()
		a.log.Info("debug endpoint listening", slog.String("url", "http://"+srv.Addr()+"/debug/actors.html"))
	}
	if err := a.startWeb(); err != nil {
		if a.debug != nil {
			_ = a.debug.Shutdown(context.Background())
		}
		_ = a.shutdownTree() // the listen error is the one to report
		return err
	}
	stopFollowing := a.followGroup(ctx)
	close(a.ready)

	<-ctx.Done()
	stopFollowing()
	a.log.Info("daz shutting down", slog.String("timeout", a.opts.ShutdownTimeout.String()))
	a.sys.Send(a.sys.PIDOf(RootID+"/"+OwnershipName), messages.OwnershipDraining{})
	a.stopWeb()
	if a.debug != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = a.debug.Shutdown(sctx)
		cancel()
	}
	if err := a.shutdownTree(); err != nil {
		return err
	}
	a.log.Info("daz stopped")
	return nil
}

// shutdownTree stops the tree leaf-first. The channels get at most half of
// ShutdownTimeout: whatever state they are in, the SQL writer, which stops
// after them, keeps the other half to flush the chat log.
func (a *App) shutdownTree() error {
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.ShutdownTimeout)
	defer cancel()
	cctx, ccancel := context.WithTimeout(ctx, a.opts.ShutdownTimeout/2)
	chErr := a.sys.Shutdown(cctx, RootID+"/channels")
	ccancel()
	wErr := a.sys.Shutdown(ctx, RootID+"/sqlwriter")
	if err := errors.Join(chErr, wErr, a.sys.Shutdown(ctx, RootID)); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

// probeDatabase refuses to start on credentials or a database name the
// server rejects (exit 2, nothing taken); a database that is merely down is
// waited for by the ownership actor, which then takes nothing until it
// answers.
func (a *App) probeDatabase(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := ownership.Probe(pctx, a.opts.DatabaseURL.Reveal())
	var authErr *ownership.AuthError
	if errors.As(err, &authErr) {
		return &ConfigError{Key: "database.url", Err: errors.New(a.opts.DatabaseURL.Redact(err.Error()))}
	}
	if err != nil {
		a.log.Warn("database not reachable at start-up; no channel is taken until it is",
			slog.String("error", a.opts.DatabaseURL.Redact(err.Error())))
	}
	return nil
}

// migrate applies the migrations once, before the tree starts, and reports
// whether that worked. A database that is down at start-up does not stop the
// daemon: the SQL writer then starts with writes paused and applies them
// itself (prepareDatabase) when its probe finds the database back, so there
// is one loop waiting for PostgreSQL, on the injected clock.
func (a *App) migrate(ctx context.Context) bool {
	mctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := a.prepareDatabase(mctx); err != nil {
		a.log.Error("database migrations failed; events are buffered until the database is back",
			slog.String("error", err.Error()))
		return false
	}
	return true
}

// prepareDatabase applies the pending migrations.
func (a *App) prepareDatabase(ctx context.Context) error {
	applied, err := migrations.Up(ctx, a.opts.DatabaseURL.Reveal())
	for _, name := range applied {
		a.log.Info("migration applied", slog.String("migration", name))
	}
	if err != nil {
		return errors.New(a.opts.DatabaseURL.Redact(err.Error()))
	}
	return nil
}

// openRetryStore opens the small pool behind daz_core_retry_state. pgxpool
// connects lazily, so a database that is down now does not stop the daemon.
func (a *App) openRetryStore() error {
	cfg, err := pgxpool.ParseConfig(a.opts.DatabaseURL.Reveal())
	if err != nil {
		return &ConfigError{Key: "database.url", Err: errors.New(a.opts.DatabaseURL.Redact(err.Error()))}
	}
	cfg.MaxConns = 2
	// The store writes when a connection's state changes, minutes or days
	// apart: no backend held in between, and a few statements to cache.
	cfg.MaxConnIdleTime = time.Minute
	cfg.ConnConfig.StatementCacheCapacity = 16
	cfg.ConnConfig.DescriptionCacheCapacity = 16
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return fmt.Errorf("retry-state pool: %s", a.opts.DatabaseURL.Redact(err.Error()))
	}
	a.retryPool = pool
	a.retryStore = supervision.NewPgRetryStore(pool, a.log)
	return nil
}

func (a *App) closeRetryStore() {
	if s, ok := a.retryStore.(*supervision.PgRetryStore); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_ = s.Close(ctx)
		cancel()
	}
	if a.retryPool != nil {
		a.retryPool.Close()
	}
}
