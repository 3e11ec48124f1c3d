package actorkit

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/daz-bot/daz/actors/clock"
)

// RestartStrategy restarts a failed child, never escalates, and delays
// repeated restarts (doubling from 100 ms up to max) so a child failing on
// every start cannot spin a core. It suits the top of the tree, where there
// is nobody to escalate to.
type RestartStrategy struct {
	Clock  clock.Clock
	Logger *slog.Logger
	Max    time.Duration
}

var _ actor.SupervisorStrategy = RestartStrategy{}

// HandleFailure implements actor.SupervisorStrategy.
func (g RestartStrategy) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason any, _ any) {
	window := 10 * g.max()
	if rs.NumberOfFailures(window) == 0 {
		rs.Reset()
	}
	rs.Fail()
	delay := clock.Backoff(100*time.Millisecond, g.max(), rs.FailureCount())
	if g.Logger != nil {
		g.Logger.Warn("restarting failed actor", slog.String("actor", child.Id), slog.Any("reason", reason),
			slog.Int("attempt", rs.FailureCount()), slog.String("delay", delay.String()))
	}
	if rs.FailureCount() == 1 {
		sup.RestartChildren(child)
		return
	}
	clk := g.Clock
	if clk == nil {
		clk = clock.Real()
	}
	clk.AfterFunc(delay, func() { sup.RestartChildren(child) })
}

func (g RestartStrategy) max() time.Duration {
	if g.Max <= 0 {
		return 30 * time.Second
	}
	return g.Max
}

// PIDOf returns the PID of a local actor by id, for siblings to address
// each other. Only send to it once the actor is spawned: before that the
// message goes to dead letters, and while protoactor is still spawning it
// the send races the mailbox's wiring (spawn the receiver first).
func (s *System) PIDOf(id string) *actor.PID { return s.as.NewLocalPID(id) }
