// Package eventfilter is the per-channel EventFilter actor: it sees every
// decoded server event of its channel, keeps the user ranks, recognises
// !commands in chat and PMs, checks each command's preconditions against the
// declarative command table the plugins registered (enabled, ignored user,
// rank, per-user rate limit and per-command cooldown, PM allowed) and only
// then hands a messages.Command to the owning plugin. It also forwards the
// events plugins subscribed to and routes plugin-to-plugin requests.
package eventfilter

import (
	"errors"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/clock"
)

// Config is one channel's EventFilter.
type Config struct {
	Channel string
	Prefix  string // "!" when empty
	// Our own lines and the join backlog are recognised by the flags the
	// connection stamps on each event (Event.Own, Event.Backlog).
	Outbound *actor.PID // polite refusals and !reload answers go here
	SQL      *actor.PID // registry and filter tables
	Clock    clock.Clock
	Logger   *slog.Logger

	// ReloadEvery re-reads operator overrides and ignored users.
	ReloadEvery time.Duration // default 1 min
	// UserRateLimit is how many commands one user may run per minute unless
	// daz_eventfilter_user_limits says otherwise.
	UserRateLimit int // default 10
	// RefusalCooldown is the shortest gap between two polite refusals of
	// the same command to the same user (the command's cooldown if longer).
	RefusalCooldown time.Duration // default 30 s
	SQLTimeout      time.Duration // default 10 s
}

const (
	defaultReloadEvery = time.Minute
	// DefaultUserRateLimit is commands.user_rate_limit unless configured.
	DefaultUserRateLimit   = 10
	defaultRefusalCooldown = 30 * time.Second
	defaultSQLTimeout      = 10 * time.Second
)

func (c Config) withDefaults() (Config, error) {
	if c.Channel == "" {
		return c, errors.New("eventfilter: Channel is required")
	}
	if c.Prefix == "" {
		c.Prefix = "!"
	}
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ReloadEvery <= 0 {
		c.ReloadEvery = defaultReloadEvery
	}
	if c.UserRateLimit <= 0 {
		c.UserRateLimit = DefaultUserRateLimit
	}
	if c.RefusalCooldown <= 0 {
		c.RefusalCooldown = defaultRefusalCooldown
	}
	if c.SQLTimeout <= 0 {
		c.SQLTimeout = defaultSQLTimeout
	}
	return c, nil
}
