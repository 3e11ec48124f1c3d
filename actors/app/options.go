package app

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
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

// Options is everything the daemon needs; cmd/daz fills it from koanf and
// tests fill it directly.
type Options struct {
	Channels        []ChannelOptions
	DatabaseURL     Secret
	DebugAddr       string
	DebugToken      Secret
	CommandPrefix   string
	Retry           RetryOptions
	Writer          WriterOptions
	DataDir         string // spill files and the plugin text logs
	ShutdownTimeout time.Duration

	Version string
	Commit  string

	Logger     *slog.Logger
	Clock      clock.Clock
	HTTPClient *http.Client

	// ExtraPlugins adds plugins next to the standard ones in every channel
	// (embedding programs add their own; tests add misbehaving ones).
	ExtraPlugins func(pluginkit.Deps) []pluginkit.Spec
}

// DefaultRetry is the schedule from the design: 10 attempts from 2 s,
// doubling to at most 5 min, then a 30 min cooldown.
func DefaultRetry() RetryOptions {
	return RetryOptions{Base: 2 * time.Second, MaxDelay: 5 * time.Minute, Attempts: 10, Cooldown: 30 * time.Minute}
}

// DefaultWriter batches up to 500 events or 100 ms.
func DefaultWriter() WriterOptions {
	return WriterOptions{BatchSize: 500, FlushInterval: 100 * time.Millisecond, MaxBuffered: 100_000, MaxBufferedBytes: 32 << 20}
}

func (r RetryOptions) toSupervision() supervision.RetryConfig {
	c := supervision.DefaultRetryConfig()
	c.Base, c.MaxDelay, c.Attempts, c.Cooldown = r.Base, r.MaxDelay, r.Attempts, r.Cooldown
	return c
}
