package outbound

import (
	"testing"
	"time"
)

// cytubeThrottle is CyTube's chat limiter written out from its source
// (utilities.js newRateLimiter): true means the message is dropped.
type cytubeThrottle struct {
	count    int
	lastTime time.Time
}

func (c *cytubeThrottle) throttle(now time.Time, l Limits) bool {
	cooldown := l.Cooldown
	if cooldown == 0 {
		cooldown = time.Duration(l.Burst / l.Sustained * float64(time.Second))
	}
	if c.lastTime.Before(now.Add(-cooldown)) {
		c.count = 1
		c.lastTime = now
		return false
	}
	if float64(c.count) < l.Burst {
		c.count++
		c.lastTime = now
		return false
	}
	if now.Sub(c.lastTime) < time.Duration(float64(time.Second)/l.Sustained) {
		return true
	}
	c.lastTime = now
	return false
}

// TestMirrorNeverTripsTheServer sends as fast as the mirror allows, under
// several arrival patterns, and checks the server accepts every message.
func TestMirrorNeverTripsTheServer(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	antiflood := Limits{Burst: 4, Sustained: 1, Cooldown: 4 * time.Second}
	tests := []struct {
		name   string
		limits Limits
		// gaps between requests to send (0 = all at once).
		gaps []time.Duration
	}{
		{"50 at once, moderator", ModeratorLimits, make([]time.Duration, 50)},
		{"20, pause 1s, 20", ModeratorLimits, append(append(make([]time.Duration, 20), time.Second), make([]time.Duration, 19)...)},
		{"20, pause 2.1s, 25", ModeratorLimits, append(append(make([]time.Duration, 20), 2100*time.Millisecond), make([]time.Duration, 24)...)},
		{"antiflood 10 at once", antiflood, make([]time.Duration, 10)},
		{"antiflood trickle", antiflood, []time.Duration{0, 500 * time.Millisecond, 500 * time.Millisecond, 3 * time.Second, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m mirror
			var server cytubeThrottle
			now := start
			margin, reset := 30*time.Millisecond, 500*time.Millisecond
			ready := start
			for i, gap := range tt.gaps {
				ready = ready.Add(gap)
				if now.Before(ready) {
					now = ready
				}
				if w := m.wait(now, tt.limits, margin, reset); w > 0 {
					now = now.Add(w)
				}
				m.take(now, tt.limits, reset)
				if server.throttle(now, tt.limits) {
					t.Fatalf("message %d sent at +%v was dropped by the server", i, now.Sub(start))
				}
			}
			// And it is not needlessly slow: at most margin over the
			// server's own minimum spacing after the burst.
			n := len(tt.gaps)
			if tt.name == "50 at once, moderator" {
				if got, want := now.Sub(start), time.Duration(n-20)*(100*time.Millisecond+margin); got > want {
					t.Fatalf("50 messages took %v, want at most %v", got, want)
				}
			}
		})
	}
}
