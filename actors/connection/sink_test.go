package connection_test

import (
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/messages"
)

// Sink is a test sink: an actor that keeps every *messages.Event it gets,
// in arrival order, where the test can read them.
type Sink struct {
	mu     sync.Mutex
	events []*messages.Event
}

// Props is the sink's actor.
func (s *Sink) Props(sys *actorkit.System) *actor.Props {
	return sys.Props("testsink", func() actor.Actor {
		return actor.ReceiveFunc(func(ctx actor.Context) {
			if ev, ok := ctx.Message().(*messages.Event); ok {
				s.mu.Lock()
				s.events = append(s.events, ev)
				s.mu.Unlock()
			}
		})
	})
}

// Events returns what the sink received so far.
func (s *Sink) Events() []*messages.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*messages.Event(nil), s.events...)
}

// Named returns the received events with the given name.
func (s *Sink) Named(name string) []*messages.Event {
	var out []*messages.Event
	for _, ev := range s.Events() {
		if ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

// Parent is a minimal stand-in for the channel actor: it spawns one child
// with the given name under Supervisor. Connection states are published on
// the EventStream (the rig subscribes there), not sent to the parent.
type Parent struct {
	ChildName  string
	Child      *actor.Props
	Supervisor actor.SupervisorStrategy
}

// Props is the parent's actor; kind "testchannel".
func (p Parent) Props(sys *actorkit.System) *actor.Props {
	var opts []actorkit.Option
	if p.Supervisor != nil {
		opts = append(opts, actorkit.WithSupervisor(p.Supervisor))
	}
	return sys.Props("testchannel", func() actor.Actor {
		return actor.ReceiveFunc(func(ctx actor.Context) {
			if _, ok := ctx.Message().(*actor.Started); ok {
				if _, err := ctx.SpawnNamed(p.Child, p.ChildName); err != nil {
					panic(err)
				}
			}
		})
	}, opts...)
}
