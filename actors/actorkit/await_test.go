package actorkit

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
)

type question struct{}

// answerer replies to a question only when released, so the asker's
// callback can be made to arrive after the asker restarted.
type answerer struct{ release chan struct{} }

func (a *answerer) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(question); ok {
		sender := ctx.Sender()
		go func() {
			<-a.release
			ctx.Send(sender, "answer")
		}()
	}
}

type askThenPanic struct{}
type askThenRestart struct{}

type asker struct {
	sys      *System
	target   *actor.PID
	answered *atomic.Int64
	handled  *atomic.Int64
}

func (a *asker) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case askThenPanic:
		a.sys.Request(ctx, a.target, question{}, 5*time.Second, func(any, error) {
			panic("callback exploded")
		})
	case askThenRestart:
		a.sys.Request(ctx, a.target, question{}, 5*time.Second, func(any, error) { a.answered.Add(1) })
	case boom:
		panic("restart me")
	case ping:
		a.handled.Add(1)
	}
}

func TestRequestCallbackPanicIsRecordedAndLogged(t *testing.T) {
	var logs syncBuffer
	sys := NewSystem(nil, nil)
	sys.logger = sysLogger(&logs)
	release := make(chan struct{})
	close(release)
	target, _ := sys.Root().SpawnNamed(sys.Props("answerer", func() actor.Actor { return &answerer{release: release} }), "answerer")
	var answered, handled atomic.Int64
	pid, _ := sys.Root().SpawnNamed(sys.Props("asker", func() actor.Actor {
		return &asker{sys: sys, target: target, answered: &answered, handled: &handled}
	}), "asker")
	sys.Send(pid, askThenPanic{})
	actortest.CheckFor(t, 5*time.Second, "the callback's panic on the tree", func() bool {
		info, ok := sys.Tree().Find("asker")
		return ok && info.LastFailure == "callback exploded" && info.Restarts == 1
	})
	found := false
	for _, rec := range logs.lines() {
		if rec["actor"] == "asker" && strings.Contains(rec["stack"].(string), "goroutine") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no stack logged for the callback's panic: %v", logs.lines())
	}
}

func TestRequestAnswerForEarlierIncarnationIsDropped(t *testing.T) {
	sys := NewSystem(nil, nil)
	release := make(chan struct{})
	target, _ := sys.Root().SpawnNamed(sys.Props("answerer", func() actor.Actor { return &answerer{release: release} }), "answerer")
	var answered, handled atomic.Int64
	pid, _ := sys.Root().SpawnNamed(sys.Props("asker", func() actor.Actor {
		return &asker{sys: sys, target: target, answered: &answered, handled: &handled}
	}), "asker")
	sys.Send(pid, askThenRestart{})
	sys.Send(pid, boom{})
	actortest.CheckFor(t, 5*time.Second, "asker restarted", func() bool {
		info, ok := sys.Tree().Find("asker")
		return ok && info.Restarts == 1
	})
	close(release)
	sys.Send(pid, askThenRestart{}) // asked by the new incarnation: must be answered
	actortest.CheckFor(t, 5*time.Second, "the new incarnation's answer", func() bool { return answered.Load() == 1 })
	sys.Send(pid, ping{})
	actortest.CheckFor(t, 5*time.Second, "asker idle", func() bool { return handled.Load() == 1 })
	if got := answered.Load(); got != 1 {
		t.Fatalf("%d callbacks ran; the one from before the restart must be dropped", got)
	}
}
