package actorkit

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Request asks pid with msg and runs then inside the asking actor once the
// answer (or a timeout) arrives, without blocking its mailbox.
//
// It replaces direct use of ctx.ReenterAfter, which protoactor runs as a
// system message: its callbacks bypass receiver middleware (a panic there
// would be neither logged with its stack nor recorded on the tree), and a
// callback scheduled before a restart would run against the dead instance's
// state. Here a panic is recorded and logged like any other before
// supervision takes over, and an answer meant for an earlier incarnation is
// dropped.
func (s *System) Request(ctx actor.Context, pid *actor.PID, msg any, timeout time.Duration, then func(res any, err error)) {
	id := ctx.Self().Id
	n := s.tree.get(id)
	incarnation := n.incarnation()
	f := ctx.RequestFuture(pid, msg, timeout)
	ctx.ReenterAfter(f, func(res any, err error) {
		if n.incarnation() != incarnation {
			s.logger.Debug("answer for an earlier incarnation dropped", slog.String("actor", id))
			return
		}
		defer func() {
			if r := recover(); r != nil {
				s.recordPanic(id, r, msg)
				panic(r)
			}
		}()
		then(res, err)
	})
}

// incarnation counts the node's restarts; nil-safe for actors spawned
// outside this package.
func (n *node) incarnation() int {
	if n == nil {
		return 0
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.restarts
}
