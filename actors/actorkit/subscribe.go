package actorkit

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
)

// Subscribe forwards every EventStream message for which accept returns true
// into the mailbox of the actor behind ctx. The handler runs on the
// publisher's goroutine, so it only filters and enqueues, behind a recover.
// The subscription is tied to the actor's tree node and dropped when the
// actor restarts or stops; call it from Started.
func (s *System) Subscribe(ctx actor.Context, accept func(msg any) bool) {
	self := ctx.Self()
	n := s.tree.get(self.Id)
	if n == nil {
		// Not spawned through this package: nothing would unsubscribe it.
		s.logger.Error("subscribe from an actor outside the tree", slog.String("actor", self.Id))
		return
	}
	root := s.as.Root
	sub := s.bus.subscribe(func(msg any) {
		defer func() {
			if r := recover(); r != nil {
				s.logger.Error("event stream filter panicked", slog.String("actor", self.Id), slog.Any("panic", r))
			}
		}()
		if accept(msg) {
			root.Send(self, msg)
		}
	})
	n.mu.Lock()
	n.subs = append(n.subs, sub)
	n.mu.Unlock()
}

// SubscribeFunc is for code outside the tree (tests, the debug endpoint).
// handler must be fast and must not block; it runs behind a recover.
func (s *System) SubscribeFunc(handler func(msg any)) (unsubscribe func()) {
	sub := s.bus.subscribe(func(msg any) {
		defer func() {
			if r := recover(); r != nil {
				s.logger.Error("event stream handler panicked", slog.Any("panic", r))
			}
		}()
		handler(msg)
	})
	return func() { s.bus.unsubscribe(sub) }
}

func (n *node) dropSubscriptions(s *System) {
	n.mu.Lock()
	subs := n.subs
	n.subs = nil
	n.mu.Unlock()
	for _, sub := range subs {
		s.bus.unsubscribe(sub)
	}
}
