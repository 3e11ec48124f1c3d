package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a manually advanced clock for tests. Callbacks whose deadline is
// reached by Advance or Set run synchronously, in deadline order, on the
// caller's goroutine and outside the clock's lock.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	seq    int
	timers []*fakeTimer
}

type fakeTimer struct {
	clock *Fake
	at    time.Time
	seq   int
	f     func()
	done  bool
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f at Now()+d. A non-positive d still waits for the next
// Advance or Set, so tests control every callback.
func (c *Fake) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{clock: c, at: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	t.clock.removeLocked(t)
	return true
}

func (c *Fake) removeLocked(t *fakeTimer) {
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return
		}
	}
}

// Advance moves the clock forward by d, running every callback that falls due.
func (c *Fake) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t (never backwards), running every callback due by
// t. The clock steps through each deadline so a callback sees its own time.
func (c *Fake) Set(t time.Time) {
	for {
		c.mu.Lock()
		due := c.nextDueLocked(t)
		if due == nil {
			if t.After(c.now) {
				c.now = t
			}
			c.mu.Unlock()
			return
		}
		if due.at.After(c.now) {
			c.now = due.at
		}
		due.done = true
		c.removeLocked(due)
		c.mu.Unlock()
		due.f()
	}
}

func (c *Fake) nextDueLocked(by time.Time) *fakeTimer {
	sort.Slice(c.timers, func(i, j int) bool {
		if c.timers[i].at.Equal(c.timers[j].at) {
			return c.timers[i].seq < c.timers[j].seq
		}
		return c.timers[i].at.Before(c.timers[j].at)
	})
	if len(c.timers) > 0 && !c.timers[0].at.After(by) {
		return c.timers[0]
	}
	return nil
}

// Pending returns the deadlines of the callbacks not yet run, earliest first.
func (c *Fake) Pending() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextDueLocked(time.Time{}) // sorts
	out := make([]time.Time, len(c.timers))
	for i, t := range c.timers {
		out[i] = t.at
	}
	return out
}
