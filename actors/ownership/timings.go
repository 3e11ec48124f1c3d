package ownership

import (
	"math"
	"time"
)

// DefaultFailoverTimeout is how long the channels of a daemon that died may
// stay dark before other daemons have them online (cluster.failover_timeout).
const DefaultFailoverTimeout = 30 * time.Second

// Timings are every schedule of the ownership actor, derived from one
// failover timeout F so they keep the order the safety argument needs
// (see doc.go): Tick < FenceAfter < Quarantine, and the server's keepalive
// ends a silent session well inside F.
type Timings struct {
	Failover time.Duration
	// Tick is the round interval: confirm the session, read the locks,
	// balance. F/10.
	Tick time.Duration
	// FenceAfter is how long the daemon keeps its channels without a
	// confirmed lock session. F/5.
	FenceAfter time.Duration
	// Quarantine is how long a channel freed by a daemon that vanished
	// (no session, recent heartbeat) stays untouched, counted from that
	// daemon's last heartbeat: by then it has fenced. FenceAfter + 2 Tick.
	Quarantine time.Duration
	// OrphanGrace: a channel free for this long is taken by any daemon,
	// even above its share, so none is left behind. F/2.
	OrphanGrace time.Duration
	// ReleaseAfter: a daemon above its share for this long hands one
	// channel over (then the next). F, at most 30 s.
	ReleaseAfter time.Duration
}

// TimingsFor derives the schedules from the failover timeout.
func TimingsFor(failover time.Duration) Timings {
	if failover <= 0 {
		failover = DefaultFailoverTimeout
	}
	t := Timings{
		Failover:    failover,
		Tick:        failover / 10,
		FenceAfter:  failover / 5,
		OrphanGrace: failover / 2,
	}
	t.Quarantine = t.FenceAfter + 2*t.Tick
	t.ReleaseAfter = min(failover, 30*time.Second)
	return t
}

type keepalive struct{ idle, interval, count int }

// keepalive is the server-side TCP keepalive of the lock session, in whole
// seconds as PostgreSQL takes them: idle F/6, then 3 probes F/30 apart, so
// a session whose daemon's network is gone ends after about F/4.
func (t Timings) keepalive() keepalive {
	sec := func(d time.Duration) int { return max(1, int(math.Round(d.Seconds()))) }
	return keepalive{idle: sec(t.Failover / 6), interval: sec(t.Failover / 30), count: 3}
}
