package actorkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Shutdown stops the actor with the given id and its whole subtree,
// leaf-first: children are stopped in reverse spawn order, each after its own
// children, and a parent only once all of them are gone. Poisoning the parent
// directly would stop the children with their queues unread.
//
// Each actor gets the rest of ctx's deadline to drain; one that does not
// finish in time is stopped without draining and an error is returned. An
// actor that failed and waits for a delayed restart has a suspended mailbox
// that would never reach a PoisonPill: it is stopped at once (what it had
// queued dies with the failure that suspended it).
func (s *System) Shutdown(ctx context.Context, id string) error {
	n := s.tree.get(id)
	if n == nil {
		return nil
	}
	var firstErr error
	kids := s.tree.children(id)
	for i := len(kids) - 1; i >= 0; i-- {
		if err := s.Shutdown(ctx, kids[i].id); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	pid := n.getPID()
	if pid == nil {
		return firstErr
	}
	root := s.as.Root
	var err error
	if n.stopPolicy == StopNow || n.isSuspended() {
		err = waitFuture(ctx, root.StopFuture(pid).Wait)
	} else if err = waitDrain(ctx, n, root.PoisonFuture(pid).Wait); errors.Is(err, errSuspended) {
		// It failed while draining; the PoisonPill will not run now.
		err = waitFuture(ctx, root.StopFuture(pid).Wait)
	} else if err != nil {
		s.logger.Warn("actor did not drain before the shutdown deadline; stopping it",
			slog.String("actor", id), slog.Any("error", err))
		root.Stop(pid)
	}
	if err != nil && firstErr == nil {
		firstErr = fmt.Errorf("stop %s: %w", id, err)
	}
	return firstErr
}

var errSuspended = errors.New("actor suspended while draining")

// waitDrain is waitFuture for a PoisonFuture, which never completes if the
// actor fails meanwhile and its supervisor delays the restart.
func waitDrain(ctx context.Context, n *node, wait func() error) error {
	done := make(chan error, 1)
	go func() { done <- wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if n.isSuspended() {
				return errSuspended
			}
		}
	}
}

// waitFuture waits for a protoactor future (which has its own fixed timeout)
// or for ctx, whichever ends first.
func waitFuture(ctx context.Context, wait func() error) error {
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
