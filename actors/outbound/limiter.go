package outbound

import (
	"math"
	"time"
)

// mirror predicts the server's flood limiter so we never trip it. CyTube's
// limiter is not a token bucket: it counts accepted messages up to the
// burst, then accepts one per 1/sustained second measured from the last
// accepted message, and only forgets the count after a full cooldown without
// any accepted message. A token bucket (golang.org/x/time/rate) would refill
// during a one-second pause and send a second burst the server rejects, so
// the rule is mirrored instead. Times are passed in, so a fake clock drives
// it in tests.
type mirror struct {
	count int
	last  time.Time // our send time of the last message we expect accepted
}

func (l Limits) burst() int { return max(1, int(math.Floor(l.Burst))) }

func (l Limits) interval() time.Duration {
	return time.Duration(float64(time.Second) / l.Sustained)
}

func (l Limits) cooldown() time.Duration {
	if l.Cooldown > 0 {
		return l.Cooldown
	}
	return time.Duration(l.Burst / l.Sustained * float64(time.Second))
}

// reset reports whether, at now, the server will have forgotten the count.
func (m *mirror) reset(now time.Time, l Limits, resetMargin time.Duration) bool {
	return m.last.IsZero() || now.Sub(m.last) > l.cooldown()+resetMargin
}

// wait is how long to hold a message so the server accepts it.
func (m *mirror) wait(now time.Time, l Limits, margin, resetMargin time.Duration) time.Duration {
	if m.reset(now, l, resetMargin) || m.count < l.burst() {
		return 0
	}
	return max(0, m.last.Add(l.interval()+margin).Sub(now))
}

// take records a message sent at now.
func (m *mirror) take(now time.Time, l Limits, resetMargin time.Duration) {
	switch {
	case m.reset(now, l, resetMargin):
		m.count = 1
	case m.count < l.burst():
		m.count++
	}
	m.last = now
}

// exhausted records the server telling us (with a cooldown) that the burst
// is used up.
func (m *mirror) exhausted(now time.Time, l Limits) {
	m.count = l.burst()
	m.last = now
}
