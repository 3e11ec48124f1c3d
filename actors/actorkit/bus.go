package actorkit

import (
	"sync"
	"sync/atomic"
)

// bus fans published messages out to daz's subscribers. protoactor's
// EventStream copies its whole subscriber list on every Publish, and daz has
// a dozen subscribers per channel (each plugin waits for its EventFilter's
// ready signal), so at 50 channels every publish allocated a 5 KB slice and
// a join storm of publishes turned into megabytes of garbage that set the
// idle heap's high-water mark. Here a publish reads the current list without
// copying it: the list is only ever appended to in place, and removals build
// a new one, so a snapshot taken under the lock stays valid after it.
type bus struct {
	mu   sync.Mutex
	subs []*subscriber
	dead int // unsubscribed entries still in subs
}

type subscriber struct {
	handle func(msg any)
	off    atomic.Bool
}

func (b *bus) subscribe(handle func(msg any)) *subscriber {
	sub := &subscriber{handle: handle}
	b.mu.Lock()
	b.subs = append(b.subs, sub)
	b.mu.Unlock()
	return sub
}

// unsubscribe stops deliveries to sub at once. The entry itself is dropped
// when half the list is dead, so a shutdown that unsubscribes everyone
// rebuilds the list a logarithmic number of times, not once per entry.
func (b *bus) unsubscribe(sub *subscriber) {
	if sub == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if sub.off.Swap(true) {
		return
	}
	b.dead++
	if b.dead*2 < len(b.subs) {
		return
	}
	live := make([]*subscriber, 0, len(b.subs)-b.dead)
	for _, s := range b.subs {
		if !s.off.Load() {
			live = append(live, s)
		}
	}
	b.subs, b.dead = live, 0
}

// publish calls every live subscriber, in subscription order, on the
// caller's goroutine.
func (b *bus) publish(msg any) {
	b.mu.Lock()
	subs := b.subs
	b.mu.Unlock()
	for _, s := range subs {
		if !s.off.Load() {
			s.handle(msg)
		}
	}
}
