package actorkit

import (
	"context"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
)

// neverRestart leaves a failed child suspended, as a supervisor does while
// a restart delay runs.
type neverRestart struct{}

func (neverRestart) HandleFailure(*actor.ActorSystem, actor.Supervisor, *actor.PID, *actor.RestartStatistics, any, any) {
}

type hold struct{ release chan struct{} }

// slowThenBoom blocks on hold, panics on boom.
type slowThenBoom struct{}

func (slowThenBoom) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case hold:
		<-m.release
	case boom:
		panic("boom while draining")
	}
}

// A draining stop of an actor that is suspended — before the stop or while
// it drains — ends at once instead of waiting for a PoisonPill that a
// suspended mailbox never runs.
func TestShutdownOfSuspendedActorIsQuick(t *testing.T) {
	for _, whileDraining := range []bool{false, true} {
		name := map[bool]string{false: "suspended before", true: "suspended while draining"}[whileDraining]
		t.Run(name, func(t *testing.T) {
			sys := NewSystem(nil, nil)
			parentProps := sys.Props("parent", func() actor.Actor {
				return &parent{sys: sys, kids: func(s *System) []*actor.Props {
					return []*actor.Props{s.Props("child", func() actor.Actor { return slowThenBoom{} })}
				}}
			}, WithSupervisor(neverRestart{}))
			if _, err := sys.Root().SpawnNamed(parentProps, "p"); err != nil {
				t.Fatal(err)
			}
			var child *actor.PID
			actortest.CheckFor(t, 5*time.Second, "child spawned", func() bool {
				pid, ok := sys.Tree().PID("p/a")
				child = pid
				return ok
			})
			release := make(chan struct{})
			if whileDraining {
				sys.Send(child, hold{release: release})
				sys.Send(child, boom{})
				time.AfterFunc(50*time.Millisecond, func() { close(release) })
			} else {
				close(release)
				sys.Send(child, boom{})
				actortest.CheckFor(t, 5*time.Second, "child suspended", func() bool { return sys.Tree().get("p/a").isSuspended() })
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			if err := sys.Shutdown(ctx, "p"); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			t.Logf("stopped in %s", time.Since(start))
		})
	}
}
