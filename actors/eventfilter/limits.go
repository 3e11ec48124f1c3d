package eventfilter

import (
	"strings"
	"time"
)

// limits holds the time-based preconditions: per-user-per-command cooldowns,
// the per-user rate limit and the polite-refusal throttle.
type limits struct {
	lastRun     map[string]time.Time   // user\x00command -> last routed
	recent      map[string][]time.Time // user -> routed commands in the last minute
	lastRefusal map[string]time.Time   // user\x00command -> last refusal sent
	perMinute   map[string]int         // user -> override of the default rate
	ignored     map[string]bool        // lower-case user names
}

func newLimits() *limits {
	return &limits{
		lastRun:     map[string]time.Time{},
		recent:      map[string][]time.Time{},
		lastRefusal: map[string]time.Time{},
		perMinute:   map[string]int{},
		ignored:     map[string]bool{},
	}
}

func key(user, cmd string) string { return strings.ToLower(user) + "\x00" + cmd }

// rateKey is the refusal-throttle key of the rate limit: one answer per
// user, whichever command tipped them over.
const rateKey = "\x00rate"

// rateWindow is the span the per-user rate limit counts commands over.
const rateWindow = time.Minute

// cooling returns how long user must still wait before running cmd again;
// zero when they may.
func (l *limits) cooling(user, cmd string, cooldown time.Duration, now time.Time) time.Duration {
	if cooldown <= 0 {
		return 0
	}
	last, ok := l.lastRun[key(user, cmd)]
	if !ok || now.Sub(last) >= cooldown {
		return 0
	}
	return cooldown - now.Sub(last)
}

// overRate reports whether user already ran their allowance of commands in
// the last minute and, if so, how long until the oldest counted command
// leaves the window (zero for a user whose explicit limit is 0: they may
// run none).
func (l *limits) overRate(user string, def int, now time.Time) (time.Duration, bool) {
	lower := strings.ToLower(user)
	max, ok := l.perMinute[lower]
	if !ok {
		max = def
	}
	kept := l.recent[lower][:0]
	for _, t := range l.recent[lower] {
		if now.Sub(t) < rateWindow {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.recent, lower)
	} else {
		l.recent[lower] = kept
	}
	if len(kept) < max {
		return 0, false
	}
	if max <= 0 {
		return 0, true
	}
	return kept[len(kept)-max].Add(rateWindow).Sub(now), true
}

// recordRun counts a routed command. Running one again means the user is
// back under the rate limit, so the next time they exceed it they are told
// again.
func (l *limits) recordRun(user, cmd string, now time.Time) {
	l.lastRun[key(user, cmd)] = now
	lower := strings.ToLower(user)
	l.recent[lower] = append(l.recent[lower], now)
	delete(l.lastRefusal, key(user, rateKey))
}

// mayRefuse reports whether a refusal may be sent now and, if so, records it.
func (l *limits) mayRefuse(user, cmd string, gap time.Duration, now time.Time) bool {
	k := key(user, cmd)
	if last, ok := l.lastRefusal[k]; ok && now.Sub(last) < gap {
		return false
	}
	l.lastRefusal[k] = now
	return true
}

// prune forgets entries older than horizon so the maps do not grow with
// every user who ever typed a command.
func (l *limits) prune(now time.Time, horizon time.Duration) {
	for k, t := range l.lastRun {
		if now.Sub(t) > horizon {
			delete(l.lastRun, k)
		}
	}
	for k, t := range l.lastRefusal {
		if now.Sub(t) > horizon {
			delete(l.lastRefusal, k)
		}
	}
	for u, ts := range l.recent {
		if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > rateWindow {
			delete(l.recent, u)
		}
	}
}
