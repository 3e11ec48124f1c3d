// Package outbound is the per-channel outbound queue: every chat line, PM and
// moderation event daz sends to a channel goes through it. It paces sends to
// stay inside the server's flood limiter for our rank, resends what the
// server dropped with a cooldown, holds chat while we are muted, splits long
// lines the way the server would cut them, and only sends while the
// connection is online. Nothing queued is dropped unless the queue overflows.
package outbound

import (
	"errors"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/clock"
)

// Limits are one flood-limiter setting of the server, as CyTube's
// chat_antiflood_params: a burst of messages, then Sustained per second; the
// burst is granted again after Cooldown without an accepted message
// (Burst/Sustained seconds when zero).
type Limits struct {
	Burst     float64
	Sustained float64
	Cooldown  time.Duration
}

// ModeratorLimits is the limiter CyTube applies to every chat line and PM
// (and to all chat from rank 2 up): 20 at once, then 10 per second.
var ModeratorLimits = Limits{Burst: 20, Sustained: 10}

// MaxMessageChars is where CyTube cuts a chat line or PM, counted in
// UTF-16 code units of the text before HTML escaping.
const MaxMessageChars = 320

// Config is one channel's outbound queue.
type Config struct {
	Channel    string
	Connection *actor.PID
	Clock      clock.Clock
	Logger     *slog.Logger

	// Limits is the server's base limiter; ModeratorLimits when zero.
	// Benchmarks raise it to measure latency without pacing.
	Limits Limits
	// Margin is added to every wait so network jitter cannot make two of
	// our messages look closer together to the server than we spaced them.
	Margin time.Duration // default 30 ms
	// ResetMargin is the extra idle time we wait before assuming the server
	// granted the full burst again (a misjudged reset costs a whole burst).
	ResetMargin time.Duration // default 500 ms
	// AckTimeout is how long a sent message may go without an echo, a
	// cooldown or an error before it counts as delivered.
	AckTimeout time.Duration // default 5 s
	// WriteTimeout bounds the connection's answer to one send.
	WriteTimeout time.Duration // default 5 s
	MaxChars     int           // default MaxMessageChars
	// MaxQueue bounds the queue while we cannot send (offline for hours);
	// beyond it the oldest item is dropped and counted.
	MaxQueue int // default 10 000
}

func (c Config) withDefaults() (Config, error) {
	if c.Channel == "" {
		return c, errors.New("outbound: Channel is required")
	}
	if c.Connection == nil {
		return c, errors.New("outbound: Connection is required")
	}
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Limits.Burst < 1 || c.Limits.Sustained <= 0 {
		c.Limits = ModeratorLimits
	}
	if c.Margin <= 0 {
		c.Margin = 30 * time.Millisecond
	}
	if c.ResetMargin <= 0 {
		c.ResetMargin = 500 * time.Millisecond
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 5 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 5 * time.Second
	}
	if c.MaxChars <= 0 {
		c.MaxChars = MaxMessageChars
	}
	if c.MaxQueue <= 0 {
		c.MaxQueue = 10_000
	}
	return c, nil
}
