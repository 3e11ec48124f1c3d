package ownership

import (
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// fakeChannels stands in for the app's channels actor: it records what it
// is told to run and answers a release at once.
type fakeChannels struct {
	owner   *actor.PID
	mu      sync.Mutex
	running map[string]bool
	fenced  int
}

func (f *fakeChannels) Receive(ctx actor.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch m := ctx.Message().(type) {
	case messages.ChannelAcquired:
		f.running[m.Channel] = true
	case messages.ChannelReleased:
		delete(f.running, m.Channel)
		ctx.Send(f.owner, messages.ChannelStopped(m))
	case messages.Fenced:
		f.fenced++
		for _, n := range m.Channels {
			delete(f.running, n)
			ctx.Send(f.owner, messages.ChannelStopped{Channel: n})
		}
	}
}

func (f *fakeChannels) count() (running, fenced int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.running), f.fenced
}

// Cut off the database, the actor fences every channel; back, it takes
// them again on a new session.
func TestActorFencesWhenItsSessionIsCutAndRecovers(t *testing.T) {
	dbURL := testpg.NewMigrated(t)
	proxy := pgtest.NewFaultProxy(t, dbURL)
	sys := actorkit.NewSystem(actortest.Logger(t, 0), nil)
	fake := &fakeChannels{running: map[string]bool{}, owner: sys.PIDOf("ownership")}
	chPID, err := sys.Root().SpawnNamed(sys.Props("channels", func() actor.Actor { return fake }), "channels")
	if err != nil {
		t.Fatal(err)
	}
	counters := &Counters{}
	pid, err := sys.Root().SpawnNamed(Props(sys, Config{
		Node: "solo", DatabaseURL: proxy.URL(t, dbURL), Timings: TimingsFor(3 * time.Second),
		Channels: chPID, Counters: counters,
	}), "ownership")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Root().Stop(pid) })
	sys.Send(pid, messages.DesiredChannels{Channels: []messages.DesiredChannel{{Name: "a"}, {Name: "b"}, {Name: "c"}}})
	sys.Send(pid, Start{})
	actortest.CheckFor(t, 20*time.Second, "three channels run", func() bool { n, _ := fake.count(); return n == 3 })

	proxy.Cut()
	actortest.CheckFor(t, 20*time.Second, "fenced", func() bool { n, f := fake.count(); return n == 0 && f == 1 })
	if counters.Fences.Load() != 1 || counters.Owned.Load() != 0 {
		t.Fatalf("fences %d, owned %d", counters.Fences.Load(), counters.Owned.Load())
	}
	proxy.Restore()
	actortest.CheckFor(t, 20*time.Second, "the three channels taken again", func() bool { n, _ := fake.count(); return n == 3 })

	// A channel no longer wanted is handed over: stopped, then unlocked.
	sys.Send(pid, messages.DesiredChannels{Channels: []messages.DesiredChannel{{Name: "a"}, {Name: "b"}}})
	actortest.CheckFor(t, 20*time.Second, "c released", func() bool {
		n, _ := fake.count()
		return n == 2 && counters.Releases.Load() == 1
	})
}
