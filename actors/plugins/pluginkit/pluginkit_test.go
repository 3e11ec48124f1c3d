package pluginkit_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/supervision"
)

func TestSafeChat(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"hello", "hello"},
		{"/kick alice", " /kick alice"},
		{"  /ban bob  ", " /ban bob"},
		{"line1\nline2\x00end", "line1 line2 end"},
		{"\n/mute x", " /mute x"},
		{"   ", ""},
		{"a / b", "a / b"},
	}
	for _, tt := range tests {
		if got := pluginkit.SafeChat(tt.in); got != tt.want {
			t.Errorf("SafeChat(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRowAccessors(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := pluginkit.Row{"text", int32(7), int64(8), 1.5, true, at, nil, "42"}
	if r.String(0) != "text" || r.Int(1) != 7 || r.Int(2) != 8 || r.Float(3) != 1.5 || !r.Bool(4) || !r.Time(5).Equal(at) {
		t.Fatalf("accessors on %v", r)
	}
	if r.String(6) != "" || r.Int(6) != 0 || !r.IsNull(6) || !r.Time(6).IsZero() || r.Bool(6) {
		t.Fatal("NULL is not read as the zero value")
	}
	if r.Int(7) != 42 || r.Float(1) != 7 || r.String(99) != "" || !r.IsNull(99) {
		t.Fatal("conversions or out-of-range columns")
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{12 * time.Second, "12s"},
		{7*time.Minute + 3*time.Second, "7m 3s"},
		{2*time.Hour + 5*time.Minute + 9*time.Second, "2h 5m"},
		{3*24*time.Hour + 4*time.Hour + 30*time.Minute, "3d 4h"},
		{48 * time.Hour, "2d"},
		{-90 * time.Second, "1m 30s"},
	}
	for _, tt := range tests {
		if got := pluginkit.FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

type boom struct{}
type count struct{}

// fragile panics on boom and counts everything else it is sent.
type fragile struct {
	kit     *pluginkit.Kit
	counted *atomic.Int64
}

func (f *fragile) Receive(ctx actor.Context) {
	if f.kit.Handle(ctx) {
		return
	}
	switch ctx.Message().(type) {
	case boom:
		panic("boom")
	case count:
		f.counted.Add(1)
	}
}

// TestPluginStrategyBacksOffThenDisables drives the supervisor on a fake
// clock: the first failure restarts at once, the next ones wait 100 ms, then
// 200 ms, and the fourth failure in the window disables the plugin. Messages
// that arrive while it waits are kept for the next incarnation.
func TestPluginStrategyBacksOffThenDisables(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	sys := actorkit.NewSystem(nil, fake)
	strategy := supervision.NewPluginStrategy(supervision.PluginStrategyConfig{
		Clock: fake, BaseDelay: 100 * time.Millisecond, MaxFailures: 4, Window: time.Minute, QuietPeriod: 10 * time.Minute,
	})
	var counted atomic.Int64
	deps := pluginkit.Deps{System: sys, Channel: "testchan", Supervision: strategy}
	specs := []pluginkit.Spec{{Name: "fragile", Props: pluginkit.Props(deps, func() actor.Actor {
		return &fragile{counted: &counted, kit: pluginkit.New(deps, "fragile", func() pluginkit.Registration {
			return pluginkit.Registration{Commands: []messages.CommandSpec{{Name: "x"}}}
		})}
	})}}
	if _, err := sys.Root().SpawnNamed(pluginkit.HostProps(sys, specs, strategy, nil), "plugins"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Shutdown(t.Context(), "plugins") })
	var pid *actor.PID
	actortest.CheckFor(t, time.Second, "plugin spawned", func() bool {
		var ok bool
		pid, ok = sys.Tree().PID("plugins/fragile")
		return ok
	})
	restarts := func() int { n, _ := sys.Tree().Find("plugins/fragile"); return n.Restarts }
	waitRestarts := func(n int) {
		t.Helper()
		actortest.CheckFor(t, 5*time.Second, "restarts", func() bool { return restarts() == n })
	}
	// settled waits until the supervisor scheduled its delayed restart.
	settled := func() {
		t.Helper()
		actortest.CheckFor(t, 5*time.Second, "restart scheduled", func() bool { return len(fake.Pending()) == 1 })
	}

	sys.Send(pid, boom{})
	waitRestarts(1)

	sys.Send(pid, boom{})
	settled()
	sys.Send(pid, count{}) // waits in the suspended mailbox
	fake.Advance(99 * time.Millisecond)
	if restarts() != 1 || counted.Load() != 0 {
		t.Fatalf("restarted %d times, counted %d before the 100 ms backoff ended", restarts(), counted.Load())
	}
	fake.Advance(time.Millisecond)
	waitRestarts(2)
	actortest.CheckFor(t, 5*time.Second, "queued message handled after the restart", func() bool { return counted.Load() == 1 })

	sys.Send(pid, boom{})
	settled()
	fake.Advance(199 * time.Millisecond)
	if restarts() != 2 {
		t.Fatalf("restarted before the 200 ms backoff ended")
	}
	fake.Advance(time.Millisecond)
	waitRestarts(3)

	sys.Send(pid, boom{})
	waitRestarts(4) // disabled: restarted at once, inert
	actortest.CheckFor(t, 5*time.Second, "shown disabled", func() bool {
		v, _ := sys.Tree().State("plugins/fragile")
		st, ok := v.(pluginkit.State)
		return ok && st.Status == pluginkit.StatusDisabled
	})
	sys.Send(pid, boom{})
	sys.Send(pid, count{})
	res, err := sys.Root().RequestFuture(pid, &messages.PluginRequest{Kind: pluginkit.StatusRequest}, time.Second).Result()
	if err != nil || res.(*messages.PluginResponse).Values["status"] != "disabled" {
		t.Fatalf("status %v %v", res, err)
	}
	if restarts() != 4 || counted.Load() != 1 {
		t.Fatalf("a disabled plugin still handles messages: restarts %d, counted %d", restarts(), counted.Load())
	}
	if list := strategy.DisabledPlugins(); len(list) != 1 || list[0].ActorID != "plugins/fragile" || list[0].Failures != 4 {
		t.Fatalf("disabled list %+v", list)
	}

	// After its quiet period the plugin gets another chance: restarted,
	// running, handling messages again.
	fake.Advance(10*time.Minute - time.Millisecond)
	if restarts() != 4 {
		t.Fatalf("re-enabled before the quiet period ended")
	}
	fake.Advance(time.Millisecond)
	waitRestarts(5)
	actortest.CheckFor(t, 5*time.Second, "shown running again", func() bool {
		v, _ := sys.Tree().State("plugins/fragile")
		st, ok := v.(pluginkit.State)
		return ok && st.Status == pluginkit.StatusRunning
	})
	sys.Send(pid, count{})
	actortest.CheckFor(t, 5*time.Second, "handles messages again", func() bool { return counted.Load() == 2 })
	if list := strategy.DisabledPlugins(); len(list) != 0 {
		t.Fatalf("still listed as disabled: %+v", list)
	}

	// Disabled a second time, it rests twice as long.
	sys.Send(pid, boom{})
	waitRestarts(6) // first failure of the new window: at once
	for want := 7; want <= 8; want++ {
		sys.Send(pid, boom{})
		settled()
		fake.Advance(time.Second)
		waitRestarts(want)
	}
	sys.Send(pid, boom{})
	waitRestarts(9) // the fourth failure disables it again
	actortest.CheckFor(t, 5*time.Second, "disabled again", func() bool { return len(strategy.DisabledPlugins()) == 1 })
	if until := strategy.DisabledPlugins()[0].Until.Sub(strategy.DisabledPlugins()[0].At); until != 20*time.Minute {
		t.Fatalf("second quiet period %v, want 20m", until)
	}
}

type addCommand struct{ name string }
type setDetail struct{ n int }

// growing declares the commands it has been told to add; it registers again
// after each, as a plugin whose commands change must.
type growing struct {
	kit   *pluginkit.Kit
	names []string
}

func (g *growing) Receive(ctx actor.Context) {
	if g.kit.Handle(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case addCommand:
		g.names = append(g.names, m.name)
		g.kit.Register(ctx)
	case setDetail:
		g.kit.SetDetail(m.n)
	}
}

// TestPluginStateShowsRegisteredCommands: the plugin's state on the tree
// lists the commands of its latest registration, through detail updates
// before and after the set changes.
func TestPluginStateShowsRegisteredCommands(t *testing.T) {
	t.Parallel()
	sys := actorkit.NewSystem(nil, nil)
	deps := pluginkit.Deps{System: sys, Channel: "testchan"}
	g := &growing{names: []string{"first"}}
	g.kit = pluginkit.New(deps, "growing", func() pluginkit.Registration {
		var reg pluginkit.Registration
		for _, n := range g.names {
			reg.Commands = append(reg.Commands, messages.CommandSpec{Name: n})
		}
		reg.Events = []string{"chatMsg"}
		return reg
	})
	pid, err := sys.Root().SpawnNamed(pluginkit.Props(deps, func() actor.Actor { return g }), "growing")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Shutdown(t.Context(), "growing") })
	steps := []struct {
		send       any
		wantDetail int
		want       []string
	}{
		{setDetail{1}, 1, []string{"first"}},
		{addCommand{"second"}, 1, []string{"first", "second"}},
		{setDetail{2}, 2, []string{"first", "second"}},
	}
	for _, st := range steps {
		sys.Send(pid, st.send)
		actortest.CheckFor(t, 5*time.Second, "state after "+fmt.Sprint(st.send), func() bool {
			info, _ := sys.Tree().Find("growing")
			s, ok := info.State.(pluginkit.State)
			return ok && s.Detail == st.wantDetail && slices.Equal(s.Commands, st.want) &&
				slices.Equal(s.Events, []string{"chatMsg"})
		})
	}
}

// TestSharedDeps: Kits made from Deps.Shared (or copies of it) share one
// defaulted Deps; Kits made from plain Deps each get their own.
func TestSharedDeps(t *testing.T) {
	t.Parallel()
	plain := pluginkit.Deps{Channel: "c"}
	shared := plain.Shared()
	copied := shared
	tests := []struct {
		name     string
		a, b     pluginkit.Deps
		wantSame bool
	}{
		{"shared", shared, shared, true},
		{"copy of shared", shared, copied, true},
		{"plain", plain, plain, false},
		{"plain and shared", plain, shared, false},
	}
	for _, tc := range tests {
		a := pluginkit.New(tc.a, "a", func() pluginkit.Registration { return pluginkit.Registration{} })
		b := pluginkit.New(tc.b, "b", func() pluginkit.Registration { return pluginkit.Registration{} })
		if same := a.Deps == b.Deps; same != tc.wantSame {
			t.Errorf("%s: kits share Deps: %v, want %v", tc.name, same, tc.wantSame)
		}
		for _, k := range []*pluginkit.Kit{a, b} {
			if k.Deps.Prefix != "!" || k.Deps.Clock == nil || k.Deps.Channel != "c" {
				t.Errorf("%s: defaults not filled: %+v", tc.name, *k.Deps)
			}
		}
	}
}
