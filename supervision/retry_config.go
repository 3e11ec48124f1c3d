package supervision

import (
	"fmt"
	"time"

	"github.com/daz-bot/daz/actors/clock"
)

// RetryConfig is the connection retry schedule (cytube.retry.*).
type RetryConfig struct {
	// Base is the first delay; attempt n of a round waits
	// min(MaxDelay, Base·2^(n-1)) minus up to Jitter of it.
	Base     time.Duration
	MaxDelay time.Duration
	// Attempts is the number of consecutive failed attempts after which the
	// round ends with a Cooldown; then a new round starts.
	Attempts int
	Cooldown time.Duration
	// Jitter is the fraction (0..1) of each delay taken off at random, so
	// many daemons restarted together do not reconnect in lockstep. The
	// schedule's delay stays the upper bound.
	Jitter float64
	// GuestLimitWait is the least wait after CyTube's guest-login throttle
	// ("one per IP address per 60 seconds").
	GuestLimitWait time.Duration
}

// DefaultRetryConfig is the documented schedule: 2 s doubling up to 5 min,
// ten attempts, then a 30 min cooldown.
func DefaultRetryConfig() RetryConfig {
	return RetryConfig{
		Base:           2 * time.Second,
		MaxDelay:       5 * time.Minute,
		Attempts:       10,
		Cooldown:       30 * time.Minute,
		Jitter:         0.2,
		GuestLimitWait: 65 * time.Second,
	}
}

// Validate reports a schedule that cannot work.
func (c RetryConfig) Validate() error {
	switch {
	case c.Base <= 0:
		return fmt.Errorf("retry base must be positive, got %s", c.Base)
	case c.MaxDelay < c.Base:
		return fmt.Errorf("retry max_delay %s is below base %s", c.MaxDelay, c.Base)
	case c.Attempts < 1:
		return fmt.Errorf("retry attempts must be at least 1, got %d", c.Attempts)
	case c.Cooldown <= 0:
		return fmt.Errorf("retry cooldown must be positive, got %s", c.Cooldown)
	case c.Jitter < 0 || c.Jitter >= 1:
		return fmt.Errorf("retry jitter must be in [0,1), got %v", c.Jitter)
	case c.GuestLimitWait < 0:
		return fmt.Errorf("guest limit wait must not be negative, got %s", c.GuestLimitWait)
	}
	return nil
}

// Backoff is the un-jittered delay after the n-th consecutive failure:
// min(MaxDelay, Base·2^(n-1)).
func (c RetryConfig) Backoff(n int) time.Duration {
	return clock.Backoff(c.Base, c.MaxDelay, n)
}
