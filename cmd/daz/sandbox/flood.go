package sandbox

import (
	"golang.org/x/time/rate"
)

// Every socket's chat lines and PMs share one limiter: a burst of 20, then 10
// per second. Over the limit the line is dropped and the sender gets
// cooldown 100 (1000 / sustained), as recorded in flood.jsonl.
const (
	modBurst     = 20
	modSustained = 10
)

// bucket is a token bucket read against the server's clock, so tests can
// drive it with recorded timestamps.
type bucket struct {
	limiter   *rate.Limiter
	burst     float64
	sustained float64
}

func newBucket(burst, sustained float64) *bucket {
	return &bucket{
		limiter:   rate.NewLimiter(rate.Limit(sustained), int(burst)),
		burst:     burst,
		sustained: sustained,
	}
}

// cooldownMS is what CyTube reports in the cooldown event.
func (b *bucket) cooldownMS() float64 { return 1000 / b.sustained }

// allowMessage spends one token of the socket's limiters for a chat line
// (antifloodApplies) or a PM. With the channel's chat_antiflood on, users
// below rank 2 also pass the channel's own, stricter bucket. On refusal the
// sender gets cooldown. Callers hold Server.mu.
func (c *conn) allowMessage(antifloodApplies bool) bool {
	now := c.srv.now()
	opts := c.ch.opts
	if antifloodApplies && opts.ChatAntiflood && c.rank() < rankModerator {
		p := opts.ChatAntifloodParams
		if c.antiflood == nil || c.antiflood.burst != p.Burst || c.antiflood.sustained != p.Sustained {
			c.antiflood = newBucket(p.Burst, p.Sustained)
		}
		if !c.antiflood.limiter.AllowN(now, 1) {
			c.emit("cooldown", c.antiflood.cooldownMS())
			return false
		}
	}
	if !c.limiter.limiter.AllowN(now, 1) {
		c.emit("cooldown", c.limiter.cooldownMS())
		return false
	}
	return true
}
