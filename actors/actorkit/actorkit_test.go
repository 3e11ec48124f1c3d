package actorkit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
)

type ping struct{ n int }
type boom struct{}
type announce struct{}

// recorder counts what it receives; the counts outlive restarts because they
// are owned by the test, not by the actor instance.
type recorder struct {
	sys      *System
	received *atomic.Int64
	heard    *atomic.Int64
}

func (r *recorder) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		r.sys.Subscribe(ctx, func(m any) bool { _, ok := m.(announce); return ok })
	case ping:
		r.received.Add(1)
	case announce:
		r.heard.Add(1)
	case boom:
		panic("boom on purpose")
	}
}

type parent struct {
	sys      *System
	children []*actor.PID
	kids     func(*System) []*actor.Props
}

func (p *parent) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); ok {
		for i, props := range p.kids(p.sys) {
			pid, err := ctx.SpawnNamed(props, string(rune('a'+i)))
			if err != nil {
				panic(err)
			}
			p.children = append(p.children, pid)
		}
	}
}

func TestRestartDoesNotDuplicateSubscriptionsAndIsRecorded(t *testing.T) {
	sys := NewSystem(nil, nil)
	var received, heard atomic.Int64
	pid, err := sys.Root().SpawnNamed(sys.Props("recorder", func() actor.Actor {
		return &recorder{sys: sys, received: &received, heard: &heard}
	}), "rec")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		sys.Send(pid, boom{})
	}
	actortest.CheckFor(t, 5*time.Second, "three restarts recorded", func() bool {
		info, ok := sys.Tree().Find("rec")
		return ok && info.Restarts == 3
	})
	sys.Send(pid, ping{})
	actortest.CheckFor(t, 5*time.Second, "ping after restarts", func() bool { return received.Load() == 1 })
	sys.Publish(announce{})
	sys.Send(pid, ping{}) // mailbox order: once this is counted, the announce has been handled
	actortest.CheckFor(t, 5*time.Second, "second ping", func() bool { return received.Load() == 2 })
	if got := heard.Load(); got != 1 {
		t.Fatalf("one publish was delivered %d times after 3 restarts; want 1", got)
	}
	info, _ := sys.Tree().Find("rec")
	if info.LastFailure != "boom on purpose" || info.LastFailureAt == nil || info.Kind != "recorder" {
		t.Fatalf("failure not recorded: %+v", info)
	}
}

func TestPanickingSubscriberFilterDoesNotHurtPublisher(t *testing.T) {
	sys := NewSystem(nil, nil)
	var got atomic.Int64
	unsub := sys.SubscribeFunc(func(any) { panic("bad subscriber") })
	defer unsub()
	unsub2 := sys.SubscribeFunc(func(any) { got.Add(1) })
	defer unsub2()
	sys.Publish(announce{}) // must not panic here
	if got.Load() != 1 {
		t.Fatalf("second subscriber got %d, want 1", got.Load())
	}
}

// slow handles pings slowly so a queue builds up before shutdown.
type slow struct {
	mu   *sync.Mutex
	seen *[]int
	gate chan struct{}
}

func (s *slow) Receive(ctx actor.Context) {
	if p, ok := ctx.Message().(ping); ok {
		<-s.gate
		s.mu.Lock()
		*s.seen = append(*s.seen, p.n)
		s.mu.Unlock()
	}
}

func TestShutdownDrainsChildrenLeafFirst(t *testing.T) {
	sys := NewSystem(nil, nil)
	var mu sync.Mutex
	var seen []int
	gate := make(chan struct{})
	var childPID *actor.PID
	pp := sys.Props("parent", func() actor.Actor {
		return &parent{sys: sys, kids: func(s *System) []*actor.Props {
			return []*actor.Props{s.Props("slow", func() actor.Actor { return &slow{mu: &mu, seen: &seen, gate: gate} })}
		}}
	})
	if _, err := sys.Root().SpawnNamed(pp, "p"); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, 5*time.Second, "child spawned", func() bool {
		info, ok := sys.Tree().Find("p")
		return ok && len(info.Children) == 1
	})
	childPID, _ = sys.Tree().PID("p/a")
	for i := 0; i < 100; i++ {
		sys.Send(childPID, ping{n: i})
	}
	actortest.CheckFor(t, 5*time.Second, "queue builds", func() bool {
		info, _ := sys.Tree().Find("p/a")
		return info.MailboxDepth >= 99
	})
	close(gate)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sys.Shutdown(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 100 {
		t.Fatalf("child handled %d of 100 queued messages before stopping", len(seen))
	}
	if _, ok := sys.Tree().Find("p"); ok {
		t.Fatal("parent still in the tree after shutdown")
	}
}

type expectedErr struct{}

func (expectedErr) Error() string    { return "expected" }
func (expectedErr) ExpectedFailure() {}

func TestExpectedFailureIsAnError(t *testing.T) {
	var e ExpectedFailure = expectedErr{}
	if !errors.As(e, new(ExpectedFailure)) {
		t.Fatal("expected failure not recognised")
	}
}
