package servergate

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/clock"
)

const srv = "https://cytu.be"

// readyLog records which tickets were told they may connect, in order.
type readyLog struct {
	mu    sync.Mutex
	names []string
}

func (l *readyLog) cb(name string) func() {
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.names = append(l.names, name)
	}
}

func (l *readyLog) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.names)
}

func newGate(t *testing.T, def Limits, servers map[string]Limits) (*Gate, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	g, err := New(Config{Default: def, Servers: servers, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return g, clk
}

// unpaced limits leave only the slot cap to test.
func unpaced(maxConns int) Limits {
	return Limits{MaxConnections: maxConns, Burst: 1000, Interval: time.Millisecond}
}

func TestKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://cytu.be", "https://cytu.be"},
		{"https://CyTu.be:443/r/chan?x=1", "https://cytu.be"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:80/", "http://127.0.0.1"},
		{"https://cytu.be:8443", "https://cytu.be:8443"},
		{"http://[::1]:8080", "http://[::1]:8080"},
	} {
		got, err := Key(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Key(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "cytu.be", "://x", "https://"} {
		if k, err := Key(bad); err == nil {
			t.Errorf("Key(%q) = %q, want an error", bad, k)
		}
	}
}

func TestNewRefusesImpossibleLimits(t *testing.T) {
	for name, cfg := range map[string]Config{
		"negative max":      {Default: Limits{MaxConnections: -1}},
		"negative burst":    {Default: Limits{Burst: -1}},
		"negative interval": {Default: Limits{Interval: -time.Second}},
		"override max":      {Servers: map[string]Limits{srv: {MaxConnections: -2}}},
		"override url":      {Servers: map[string]Limits{"not a url": {}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	g, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Limits(srv); got != DefaultLimits() {
		t.Errorf("zero config: limits %+v, want CyTube's %+v", got, DefaultLimits())
	}
}

// Slots go to waiters in the order they asked, one per released slot.
func TestWaitersGetSlotsInOrder(t *testing.T) {
	g, _ := newGate(t, unpaced(2), nil)
	log := &readyLog{}
	var held []*Ticket
	for i := range 2 {
		tk, ok := g.Acquire(srv, log.cb(fmt.Sprint("h", i)))
		if !ok {
			t.Fatalf("ticket %d: no slot with the gate empty", i)
		}
		held = append(held, tk)
	}
	if g.HasFreeSlot(srv) || g.Free(srv) != 0 {
		t.Fatalf("full gate: free %d", g.Free(srv))
	}
	waiters := map[string]*Ticket{}
	for _, name := range []string{"w1", "w2", "w3"} {
		tk, ok := g.Acquire(srv, log.cb(name))
		if ok {
			t.Fatalf("%s got a slot past the cap", name)
		}
		waiters[name] = tk
	}
	if u := g.Usage(srv); u != (Usage{Max: 2, Held: 2, Waiting: 3}) {
		t.Fatalf("usage %+v", u)
	}
	held[1].Release()
	held[0].Release()
	if got := log.got(); !slices.Equal(got, []string{"w1", "w2"}) {
		t.Fatalf("woken %v, want w1 then w2", got)
	}
	waiters["w1"].Release()
	if got := log.got(); !slices.Equal(got, []string{"w1", "w2", "w3"}) {
		t.Fatalf("woken %v, want w3 last", got)
	}
	if u := g.Usage(srv); u != (Usage{Max: 2, Held: 2}) {
		t.Fatalf("usage %+v", u)
	}
}

// Every way a ticket ends gives its slot or its place back exactly once.
func TestReleaseOnEveryPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		// end ends the ticket under test, which waits at the given stage.
		stage string
	}{
		{"granted socket closed", "granted"},
		{"queued channel stopped", "queued"},
		{"pacing channel stopped", "pacing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, clk := newGate(t, Limits{MaxConnections: 2, Burst: 1, Interval: time.Second}, nil)
			log := &readyLog{}
			first, ok := g.Acquire(srv, log.cb("first"))
			if !ok {
				t.Fatal("first ticket not granted")
			}
			var subject *Ticket
			switch tc.stage {
			case "granted":
				subject = first
			case "pacing":
				subject, ok = g.Acquire(srv, log.cb("subject"))
				if ok || subject.Until().IsZero() {
					t.Fatalf("second ticket should wait for the pacer: granted %v, until %v", ok, subject.Until())
				}
			case "queued":
				second, _ := g.Acquire(srv, log.cb("second"))
				t.Cleanup(second.Release)
				subject, ok = g.Acquire(srv, log.cb("subject"))
				if ok || !subject.Until().IsZero() {
					t.Fatalf("third ticket should queue for a slot: granted %v, until %v", ok, subject.Until())
				}
			}
			before := g.Usage(srv)
			subject.Release()
			subject.Release() // twice: a stop after a failure, say
			after := g.Usage(srv)
			switch tc.stage {
			case "queued":
				if after.Waiting != before.Waiting-1 || after.Held != before.Held {
					t.Fatalf("usage %+v → %+v, want one waiter less", before, after)
				}
			default:
				if after.Held != before.Held-1 {
					t.Fatalf("usage %+v → %+v, want one slot less", before, after)
				}
			}
			clk.Advance(time.Hour)
			if slices.Contains(log.got(), "subject") {
				t.Fatalf("a released ticket was told to connect: %v", log.got())
			}
		})
	}
}

// A waiter that gives up before its connect gives the pacer's turn back:
// the next one does not wait for a connect that never happened.
func TestCancelledPacingGivesTheTurnBack(t *testing.T) {
	g, clk := newGate(t, Limits{MaxConnections: 10, Burst: 1, Interval: time.Second}, nil)
	log := &readyLog{}
	if _, ok := g.Acquire(srv, log.cb("a")); !ok {
		t.Fatal("a not granted")
	}
	b, _ := g.Acquire(srv, log.cb("b"))
	step := time.Second + Guard(time.Second)
	if want := clk.Now().Add(step); !b.Until().Equal(want) {
		t.Fatalf("b until %v, want %v", b.Until(), want)
	}
	b.Release()
	c, _ := g.Acquire(srv, log.cb("c"))
	if want := clk.Now().Add(step); !c.Until().Equal(want) {
		t.Fatalf("c until %v, want b's turn %v", c.Until(), want)
	}
}

// The pacer: Burst connects at once, then one per Interval plus the guard,
// on the injected clock.
func TestPacerBurstThenInterval(t *testing.T) {
	const burst, interval = 5, 10 * time.Second
	g, clk := newGate(t, Limits{MaxConnections: 100, Burst: burst, Interval: interval}, nil)
	start := clk.Now()
	var mu sync.Mutex
	var at []time.Duration
	for i := range 8 {
		_, ok := g.Acquire(srv, func() {
			mu.Lock()
			defer mu.Unlock()
			at = append(at, clk.Now().Sub(start))
		})
		if ok != (i < burst) {
			t.Fatalf("ticket %d: granted %v", i, ok)
		}
	}
	clk.Advance(time.Hour)
	step := interval + Guard(interval)
	want := []time.Duration{step, 2 * step, 3 * step}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(at, want) {
		t.Fatalf("paced connects at %v, want %v", at, want)
	}
}

// Each server has its own slots and its own pacer; an override applies to
// its server only, whatever the form of its URL.
func TestServersAreIndependent(t *testing.T) {
	const other = "http://127.0.0.1:8080"
	g, _ := newGate(t, unpaced(1), map[string]Limits{"http://127.0.0.1:8080/socketconfig": {MaxConnections: 3}})
	if _, ok := g.Acquire(srv, func() {}); !ok {
		t.Fatal("first cytu.be ticket not granted")
	}
	if _, ok := g.Acquire("https://CYTU.BE:443/r/x", func() {}); ok {
		t.Fatal("the same server under another spelling got a second slot")
	}
	for i := range 3 {
		if _, ok := g.Acquire(other, func() {}); !ok {
			t.Fatalf("ticket %d of the overridden server not granted", i)
		}
	}
	if g.HasFreeSlot(other) || !g.HasFreeSlot("https://third.example") {
		t.Fatalf("free: other %d, third %d", g.Free(other), g.Free("https://third.example"))
	}
	if l := g.Limits(other); l.MaxConnections != 3 || l.Burst != 1000 {
		t.Fatalf("override %+v: want max 3 and the default's burst", l)
	}
}

// Many goroutines acquiring and releasing never exceed the cap and leave
// nothing held.
func TestConcurrentUseKeepsTheCap(t *testing.T) {
	g, err := New(Config{Default: unpaced(3)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	inUse, peak := 0, 0
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := make(chan struct{})
			tk, ok := g.Acquire(srv, func() { close(done) })
			if !ok {
				<-done
			}
			mu.Lock()
			inUse++
			peak = max(peak, inUse)
			mu.Unlock()
			mu.Lock()
			inUse--
			mu.Unlock()
			tk.Release()
		}()
	}
	wg.Wait()
	if peak > 3 {
		t.Fatalf("%d slots in use at once, cap 3", peak)
	}
	if u := g.Usage(srv); u.Held != 0 || u.Waiting != 0 {
		t.Fatalf("after every release: %+v", u)
	}
}

// The connect requests themselves are paced the same way, so a socket whose
// discovery and dial were quick does not reach the server before the one
// paced ahead of it.
func TestConnectDelaySpacesTheConnectRequests(t *testing.T) {
	const interval = time.Second
	g, clk := newGate(t, Limits{MaxConnections: 10, Burst: 2, Interval: interval}, nil)
	step := interval + Guard(interval)
	tk, _ := g.Acquire(srv, func() {})
	var got []time.Duration
	for range 4 {
		got = append(got, tk.ConnectDelay())
	}
	if want := []time.Duration{0, 0, step, 2 * step}; !slices.Equal(got, want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	clk.Advance(10 * step)
	if d := tk.ConnectDelay(); d != 0 {
		t.Fatalf("after a long pause: delay %v", d)
	}
}
