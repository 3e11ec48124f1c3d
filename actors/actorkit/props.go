package actorkit

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// StopPolicy says how shutdown stops an actor once its children are gone.
type StopPolicy int

const (
	// StopDrain poisons the actor: it handles everything already queued, then stops.
	StopDrain StopPolicy = iota
	// StopNow stops the actor without handling its queue; for actors whose
	// mailbox may be suspended (a connection waiting out a backoff) and whose
	// Stopping handler finishes their work anyway.
	StopNow
)

type propsConfig struct {
	supervisor actor.SupervisorStrategy
	stopPolicy StopPolicy
}

// Option tunes Props.
type Option func(*propsConfig)

// WithSupervisor sets the strategy that supervises the actor's children.
func WithSupervisor(s actor.SupervisorStrategy) Option {
	return func(c *propsConfig) { c.supervisor = s }
}

// WithStopPolicy sets how shutdown stops the actor.
func WithStopPolicy(p StopPolicy) Option {
	return func(c *propsConfig) { c.stopPolicy = p }
}

// Props builds the Props of an actor of the given kind ("connection",
// "sqlwriter", ...). Every actor in daz is spawned from Props made here.
func (s *System) Props(kind string, producer func() actor.Actor, opts ...Option) *actor.Props {
	cfg := propsConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	slot := &mailboxSlot{}
	popts := []actor.PropsOption{
		actor.WithMailbox(slot.produce),
		actor.WithSpawnFunc(s.spawner(kind, cfg.stopPolicy, slot)),
	}
	if cfg.supervisor != nil {
		popts = append(popts, actor.WithSupervisor(cfg.supervisor))
	}
	return actor.PropsFromProducer(func() actor.Actor { return &tracked{sys: s, inner: producer()} }, popts...)
}

// mailboxSlot hands the mailbox protoactor creates during a spawn to the
// tree node being spawned, so the debug endpoint can read its queue depth.
// protoactor makes the mailbox on the spawning goroutine, inside
// DefaultSpawner; the lock keeps two spawns of the same Props apart. (Cloning
// the Props per spawn with a capturing mailbox producer did the same and
// kept a second Props alive per actor.)
type mailboxSlot struct {
	mu sync.Mutex
	n  *node
}

// produce makes protoactor's lock-free unbounded mailbox: a linked queue
// that holds nothing but a stub node while empty. The ring-buffer Unbounded
// mailbox preallocated ten slots per actor and, after a burst, kept its ring
// at the burst's size for the actor's life; the linked queue is as fast
// when many goroutines send to one actor.
func (sl *mailboxSlot) produce() actor.Mailbox {
	mb := actor.UnboundedLockfree()()
	if n := sl.n; n != nil {
		n.mu.Lock()
		n.mailbox = mb
		n.mu.Unlock()
	}
	return mb
}

// spawner registers the node before the actor starts and captures its
// mailbox so the debug endpoint can read the queue depth.
func (s *System) spawner(kind string, policy StopPolicy, slot *mailboxSlot) actor.SpawnFunc {
	return func(as *actor.ActorSystem, id string, props *actor.Props, parent actor.SpawnerContext) (*actor.PID, error) {
		n := &node{id: id, kind: kind, stopPolicy: policy}
		if p := parent.Self(); p != nil {
			n.parent = p.Id
		}
		s.tree.add(n)
		slot.mu.Lock()
		slot.n = n
		pid, err := actor.DefaultSpawner(as, id, props, parent)
		slot.n = nil
		slot.mu.Unlock()
		if err != nil {
			s.tree.remove(id)
			return pid, fmt.Errorf("spawn %s %q: %w", kind, id, err)
		}
		n.mu.Lock()
		n.pid = pid
		n.mu.Unlock()
		return pid, nil
	}
}

// tracked wraps every actor spawned through Props: it keeps the actor's
// tree node current and logs a panic once, with its stack, before protoactor
// hands the failure to the supervisor. (A receiver middleware did this
// before; protoactor gives every actor with one a context-extras block and
// wraps every message in an envelope for it.)
type tracked struct {
	sys   *System
	inner actor.Actor
}

func (t *tracked) Receive(ctx actor.Context) {
	s, msg, id := t.sys, ctx.Message(), ctx.Self().Id
	switch msg.(type) {
	case *actor.Restarting:
		if n := s.tree.get(id); n != nil {
			n.mu.Lock()
			n.restarts++
			n.mu.Unlock()
			n.dropSubscriptions(s)
		}
	case *actor.Stopping:
		if n := s.tree.get(id); n != nil {
			n.dropSubscriptions(s)
		}
	case *actor.Started:
		if n := s.tree.get(id); n != nil {
			n.mu.Lock()
			n.started = s.clock.Now()
			n.suspended = false
			// The actor can run before SpawnNamed returns to the
			// spawner, so record its PID here too: anything it
			// does on Started must already find it in the tree.
			n.pid = ctx.Self()
			n.mu.Unlock()
		}
	}
	defer func() {
		if r := recover(); r != nil {
			s.recordPanic(id, r, msg)
			panic(r)
		}
	}()
	t.inner.Receive(ctx)
	if _, ok := msg.(*actor.Stopped); ok {
		s.tree.remove(id)
	}
}

func (s *System) recordPanic(id string, reason any, msg any) {
	now := s.clock.Now()
	if n := s.tree.get(id); n != nil {
		n.mu.Lock()
		n.lastFailure = fmt.Sprint(reason)
		n.lastFailureAt = now
		n.suspended = true // protoactor suspends the mailbox as the panic escalates
		n.mu.Unlock()
	}
	if _, expected := reason.(ExpectedFailure); expected {
		// A deliberate failure (a dropped connection) is logged by its actor
		// with context; a stack would only be noise.
		return
	}
	s.logger.Error("actor panicked",
		slog.String("actor", id),
		slog.String("message_type", fmt.Sprintf("%T", msg)),
		slog.Any("panic", reason),
		slog.String("stack", string(debug.Stack())))
}

// ExpectedFailure marks a failure an actor raises on purpose so that its
// supervisor applies its strategy (for example a connection attempt that
// failed). It is recorded on the tree but logged without a stack.
type ExpectedFailure interface {
	error
	ExpectedFailure()
}
