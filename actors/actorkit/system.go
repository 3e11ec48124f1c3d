package actorkit

import (
	"context"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/daz-bot/daz/actors/clock"
)

// System is one actor system with daz's tree bookkeeping.
type System struct {
	as     *actor.ActorSystem
	bus    *bus
	tree   *Tree
	logger *slog.Logger
	clock  clock.Clock
}

// NewSystem starts an actor system whose own log lines go to logger (warnings
// and above only: protoactor logs every supervision step at info level, and
// daz logs those itself with more context).
func NewSystem(logger *slog.Logger, clk clock.Clock) *System {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if clk == nil {
		clk = clock.Real()
	}
	protoLogger := slog.New(minLevelHandler{min: slog.LevelWarn, next: logger.Handler()}).With("component", "protoactor")
	as := actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return protoLogger }),
		actor.WithDeadLetterThrottleCount(3),
	)
	shrinkRegistry(as)
	b := &bus{}
	// protoactor's own broadcasts (dead letters, supervision events) reach
	// daz's subscribers as before, through this one subscription.
	as.EventStream.Subscribe(b.publish)
	return &System{as: as, bus: b, tree: newTree(clk), logger: logger, clock: clk}
}

// Root is the context used to talk to actors from outside the tree.
func (s *System) Root() *actor.RootContext { return s.as.Root }

// Tree is the live actor tree for introspection.
func (s *System) Tree() *Tree { return s.tree }

// Logger is the system's logger.
func (s *System) Logger() *slog.Logger { return s.logger }

// Clock is the system's clock.
func (s *System) Clock() clock.Clock { return s.clock }

// Send delivers msg to pid from outside the tree.
func (s *System) Send(pid *actor.PID, msg any) { s.as.Root.Send(pid, msg) }

// Publish broadcasts msg on the actor system's EventStream, whose one
// subscriber is daz's bus. Subscribers made through this package only
// enqueue, so Publish never runs actor code on this goroutine.
func (s *System) Publish(msg any) { s.as.EventStream.Publish(msg) }

// SendAfter delivers msg to pid once d has passed on the system clock.
func (s *System) SendAfter(d time.Duration, pid *actor.PID, msg any) clock.Timer {
	return s.clock.AfterFunc(d, func() { s.as.Root.Send(pid, msg) })
}

// minLevelHandler drops records below min before they reach next.
type minLevelHandler struct {
	min  slog.Level
	next slog.Handler
}

func (h minLevelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.next.Enabled(ctx, l)
}

func (h minLevelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h minLevelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevelHandler{min: h.min, next: h.next.WithAttrs(attrs)}
}

func (h minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{min: h.min, next: h.next.WithGroup(name)}
}

// Ask sends msg to pid from outside the tree and waits up to timeout for the
// answer the actor gives with ctx.Respond.
func (s *System) Ask(pid *actor.PID, msg any, timeout time.Duration) (any, error) {
	return s.as.Root.RequestFuture(pid, msg, timeout).Result()
}
