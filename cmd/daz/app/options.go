package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/connection/servergate"
	"github.com/daz-bot/daz/actors/logmaint"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/sqlwriter"
	"github.com/daz-bot/daz/supervision"
)

// ChannelOptions configures one channel the bot joins.
type ChannelOptions struct {
	Name            string
	ServerURL       string
	Username        string
	Password        Secret // empty with a username: guest login
	ChannelPassword Secret // sent with joinChannel for password-protected channels
}

// RetryOptions is the connection's retry schedule.
type RetryOptions struct {
	Base     time.Duration
	MaxDelay time.Duration
	Attempts int
	Cooldown time.Duration
}

// WriterOptions tunes the chat-log writer.
type WriterOptions struct {
	BatchSize     int
	FlushInterval time.Duration
	MaxBuffered   int // events held in memory before spilling to DataDir
	// MaxBufferedBytes bounds the same memory in bytes (0: the writer's default).
	MaxBufferedBytes int64
}

// ServerLimitOptions are what one CyTube server lets one client address do
// (servergate.Limits): sockets held at once, then connects at once and one
// per interval after them.
type ServerLimitOptions struct {
	MaxConnections  int
	ConnectBurst    int
	ConnectInterval time.Duration
}

// ServerOptions overrides the limits of one server; zero fields keep
// Options.ServerLimits'.
type ServerOptions struct {
	URL string
	ServerLimitOptions
}

// DefaultServerLimits are CyTube's: 10 sockets per address, 5 connects at
// once, then one per 10 s.
func DefaultServerLimits() ServerLimitOptions {
	l := servergate.DefaultLimits()
	return ServerLimitOptions{MaxConnections: l.MaxConnections, ConnectBurst: l.Burst, ConnectInterval: l.Interval}
}

func (l ServerLimitOptions) gate() servergate.Limits {
	return servergate.Limits{MaxConnections: l.MaxConnections, Burst: l.ConnectBurst, Interval: l.ConnectInterval}
}

// validate names the first limit that cannot work by its key; an
// override's zero values mean "the default" (zeroOK).
func (l ServerLimitOptions) validate(maxKey, burstKey, intervalKey string, zeroOK bool) error {
	low := 1
	if zeroOK {
		low = 0
	}
	switch {
	case l.MaxConnections < low:
		return &ConfigError{Key: maxKey, Err: fmt.Errorf("must be at least %d, got %d", low, l.MaxConnections)}
	case l.ConnectBurst < low:
		return &ConfigError{Key: burstKey, Err: fmt.Errorf("must be at least %d, got %d", low, l.ConnectBurst)}
	case l.ConnectInterval < 0 || (!zeroOK && l.ConnectInterval == 0):
		return &ConfigError{Key: intervalKey, Err: fmt.Errorf("must be positive, got %s", l.ConnectInterval)}
	}
	return nil
}

// validateServers checks the default limits, each override and the source
// address.
func (o Options) validateServers() error {
	if err := o.ServerLimits.validate("cytube.max_connections_per_server", "cytube.connect_burst",
		"cytube.connect_interval", false); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, s := range o.Servers {
		prefix := fmt.Sprintf("cytube.servers[%d].", i)
		key, err := servergate.Key(s.URL)
		if err != nil {
			return &ConfigError{Key: prefix + "url", Err: err}
		}
		if seen[key] {
			return &ConfigError{Key: prefix + "url", Err: fmt.Errorf("%s is listed twice", key)}
		}
		seen[key] = true
		if err := s.validate(prefix+"max_connections", prefix+"connect_burst", prefix+"connect_interval", true); err != nil {
			return err
		}
	}
	if a := o.LocalAddr; a != "" && net.ParseIP(a) == nil {
		return &ConfigError{Key: "cytube.local_addr", Err: fmt.Errorf("%q is not an IP address", a)}
	}
	return nil
}

// Options is everything the daemon needs; cmd/daz fills it from koanf and
// tests fill it directly.
type Options struct {
	Channels      []ChannelOptions
	DatabaseURL   Secret
	DebugAddr     string
	DebugToken    Secret
	CommandPrefix string
	UserRateLimit int // commands one user may run per minute; 0: 10
	Retry         RetryOptions
	Writer        WriterOptions
	DataDir       string // spill files and the plugin text logs
	// MemoryLimit, when positive, is the soft memory limit Run sets for the
	// process (runtime/debug.SetMemoryLimit) and restores when it returns;
	// zero leaves the runtime's own setting (GOMEMLIMIT) alone. The daemon
	// derives it from the writer's budget: sqlwriter.SoftMemoryLimit.
	MemoryLimit     int64
	Web             WebOptions
	ShutdownTimeout time.Duration
	Cluster         ClusterOptions
	// LogRetention drops the chat log's months older than now − LogRetention
	// (actors/logmaint); zero keeps everything.
	LogRetention time.Duration

	// ServerLimits bound this daemon's sockets and connects to each CyTube
	// server (zero: CyTube's, DefaultServerLimits); Servers overrides them
	// per server. A channel past the limit waits for a slot.
	ServerLimits ServerLimitOptions
	Servers      []ServerOptions
	// LocalAddr, when set, is the source IP of every connection to CyTube
	// (discovery and websocket), so daemons on one host can present
	// different addresses to the server's per-address limits. It applies to
	// the HTTP client the app makes, not to an HTTPClient given here.
	LocalAddr string

	Version string
	Commit  string

	// Environ answers env: password references of daz_channels rows;
	// nil: the process environment.
	Environ []string

	Logger     *slog.Logger
	Clock      clock.Clock
	HTTPClient *http.Client

	// ExtraPlugins adds plugins next to the standard ones in every channel
	// (embedding programs add their own; tests add misbehaving ones).
	ExtraPlugins func(pluginkit.Deps) []pluginkit.Spec
}

// ClusterOptions place this daemon in a group sharing one database: each
// channel is run by exactly one daemon of the group (actors/ownership).
type ClusterOptions struct {
	// NodeName names this daemon in the group (node.name); empty:
	// DefaultNodeName(), the host name and process id.
	NodeName string
	// FailoverTimeout bounds how long a dead daemon's channels stay dark
	// (cluster.failover_timeout); every cluster schedule derives from it.
	// Zero: ownership.DefaultFailoverTimeout.
	FailoverTimeout time.Duration
}

// nodeNamePattern keeps node names printable and short enough that
// "daz:" + name fits PostgreSQL's 63-byte application_name unchanged.
var nodeNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,59}$`)

// DefaultNodeName is the host name and process id, cut to a valid name.
func DefaultNodeName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "daz"
	}
	host = strings.Map(func(r rune) rune {
		if r < 128 && (r == '.' || r == '_' || r == '-' || (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z')) {
			return r
		}
		return '-'
	}, host)
	pid := "-" + strconv.Itoa(os.Getpid())
	if len(host)+len(pid) > 59 {
		host = host[:59-len(pid)]
	}
	return host + pid
}

func (c ClusterOptions) validate() error {
	if !nodeNamePattern.MatchString(c.NodeName) {
		return &ConfigError{Key: "node.name", Err: fmt.Errorf("%q is not 1-59 of A-Z, a-z, 0-9, '.', '_' and '-'", c.NodeName)}
	}
	if c.FailoverTimeout < time.Second {
		return &ConfigError{Key: "cluster.failover_timeout", Err: fmt.Errorf("must be at least 1s, got %s", c.FailoverTimeout)}
	}
	return nil
}

// Defaults of the settings the app itself owns; the retry schedule's come
// from supervision and the writer's from sqlwriter, so each default is
// written down once (cmd/daz derives its key table from these).
const (
	DefaultCommandPrefix   = "!"
	DefaultDataDir         = "./data"
	DefaultShutdownTimeout = 20 * time.Second
)

// DefaultRetry is supervision's schedule: 10 attempts from 2 s, doubling to
// at most 5 min, then a 30 min cooldown.
func DefaultRetry() RetryOptions {
	c := supervision.DefaultRetryConfig()
	return RetryOptions{Base: c.Base, MaxDelay: c.MaxDelay, Attempts: c.Attempts, Cooldown: c.Cooldown}
}

// DefaultWriter is sqlwriter's own default batching.
func DefaultWriter() WriterOptions {
	return WriterOptions{
		BatchSize: sqlwriter.DefaultBatchSize, FlushInterval: sqlwriter.DefaultFlushInterval,
		MaxBuffered: sqlwriter.DefaultMaxBufferedEvents, MaxBufferedBytes: sqlwriter.DefaultMaxBufferedBytes,
	}
}

// validate names the first retry setting that cannot work.
func (r RetryOptions) validate() error {
	switch {
	case r.Base <= 0:
		return &ConfigError{Key: "cytube.retry.base", Err: fmt.Errorf("must be positive, got %s", r.Base)}
	case r.MaxDelay <= 0:
		return &ConfigError{Key: "cytube.retry.max_delay", Err: fmt.Errorf("must be positive, got %s", r.MaxDelay)}
	case r.MaxDelay < r.Base:
		return &ConfigError{Key: "cytube.retry.max_delay",
			Err: fmt.Errorf("%s is below cytube.retry.base %s", r.MaxDelay, r.Base)}
	case r.Attempts < 1:
		return &ConfigError{Key: "cytube.retry.attempts", Err: fmt.Errorf("must be at least 1, got %d", r.Attempts)}
	case r.Cooldown <= 0:
		return &ConfigError{Key: "cytube.retry.cooldown", Err: fmt.Errorf("must be positive, got %s", r.Cooldown)}
	}
	// Whatever the schedule checks beyond the keys above.
	if err := r.toSupervision().Validate(); err != nil {
		return &ConfigError{Key: "cytube.retry", Err: err}
	}
	return nil
}

// validate names the first writer setting that cannot work.
func (w WriterOptions) validate() error {
	switch {
	case w.BatchSize < 1:
		return &ConfigError{Key: "writer.batch_size", Err: fmt.Errorf("must be at least 1, got %d", w.BatchSize)}
	case w.FlushInterval <= 0:
		return &ConfigError{Key: "writer.flush_interval", Err: fmt.Errorf("must be positive, got %s", w.FlushInterval)}
	case w.MaxBuffered < 1:
		return &ConfigError{Key: "writer.max_buffered", Err: fmt.Errorf("must be at least 1, got %d", w.MaxBuffered)}
	case w.MaxBufferedBytes < 1:
		return &ConfigError{Key: "writer.max_buffered_bytes", Err: fmt.Errorf("must be at least 1, got %d", w.MaxBufferedBytes)}
	}
	return nil
}

func (r RetryOptions) toSupervision() supervision.RetryConfig {
	c := supervision.DefaultRetryConfig()
	c.Base, c.MaxDelay, c.Attempts, c.Cooldown = r.Base, r.MaxDelay, r.Attempts, r.Cooldown
	return c
}

// Validate checks every setting and combination, naming the key at fault
// in a *ConfigError. New calls it after filling in defaults, before any
// actor exists: an actor that met a bad value in Started could only panic
// and be restarted forever. cmd/daz calls it too, so the CLI exits 2.
func (o Options) Validate() error {
	if err := o.Retry.validate(); err != nil {
		return err
	}
	if err := o.Writer.validate(); err != nil {
		return err
	}
	if strings.ContainsAny(o.CommandPrefix, " \t\r\n") {
		return &ConfigError{Key: "commands.prefix", Err: errors.New("must contain no whitespace")}
	}
	if o.UserRateLimit < 0 {
		return &ConfigError{Key: "commands.user_rate_limit", Err: fmt.Errorf("must not be negative, got %d", o.UserRateLimit)}
	}
	if o.ShutdownTimeout <= 0 {
		return &ConfigError{Key: "shutdown.timeout", Err: fmt.Errorf("must be positive, got %s", o.ShutdownTimeout)}
	}
	if err := o.validateServers(); err != nil {
		return err
	}
	if err := o.Cluster.validate(); err != nil {
		return err
	}
	if o.LogRetention != 0 && o.LogRetention < logmaint.MinRetention {
		return &ConfigError{Key: "log.retention", Err: fmt.Errorf("%s is shorter than a month (31d), the unit the log is dropped in; empty keeps everything", o.LogRetention)}
	}
	if err := validateChannels(o.Channels); err != nil {
		return err
	}
	if _, err := pgxpool.ParseConfig(o.DatabaseURL.Reveal()); err != nil {
		return &ConfigError{Key: "database.url", Err: errors.New(o.DatabaseURL.Redact(err.Error()))}
	}
	return nil
}

// validateChannels checks each channel as its connection will.
func validateChannels(chs []ChannelOptions) error {
	seen := map[string]bool{}
	for _, ch := range chs {
		lower := strings.ToLower(ch.Name)
		if seen[lower] {
			return &ConfigError{Key: "cytube.channels", Err: fmt.Errorf("channel %q is listed twice", ch.Name)}
		}
		seen[lower] = true
		if err := (connection.Config{Channel: ch.Name, ServerURL: ch.ServerURL}).Validate(); err != nil {
			return &ConfigError{Key: "cytube.server_url", Err: fmt.Errorf("channel %q: %w", ch.Name, err)}
		}
	}
	return nil
}
