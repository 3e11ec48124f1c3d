package app_test

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/app"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/internal/testutil"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// crashAtStart fails in every Started: after its second failure the plugin
// strategy waits before restarting it, with its mailbox suspended.
func crashAtStart(d pluginkit.Deps) []pluginkit.Spec {
	return []pluginkit.Spec{{Name: "crasher", Props: pluginkit.Props(d, func() actor.Actor { return crasher{} })}}
}

type crasher struct{}

func (crasher) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); ok {
		panic("crasher fails at start")
	}
}

// Stopping is quick and clean whatever the actors are doing: one channel
// online, one backing off (its connection suspended by the strategy), and
// in both a plugin waiting for its restart delay. The clock is a fake that
// never moves, so every wait is still pending when the stop comes.
func TestStopWhileBackingOffAndRestartPending(t *testing.T) {
	clk := clock.NewFake(time.Now())
	s := startStack(t, "live", func(o *app.Options) {
		o.Clock = clk
		o.ExtraPlugins = crashAtStart
		o.Channels = append(o.Channels, app.ChannelOptions{Name: "dead", ServerURL: "http://127.0.0.1:1"})
	})
	s.waitOnline(t, "live")
	testutil.CheckFor(t, 20*time.Second, "dead channel backing off", func() bool {
		st, ok := s.app.ChannelState("dead")
		return ok && st.State == messages.StateBackingOff
	})
	restartAt := clk.Now().Add(200 * time.Millisecond)
	testutil.CheckFor(t, 20*time.Second, "both crashers waiting for their restart", func() bool {
		n := 0
		for _, p := range clk.Pending() {
			if p.Equal(restartAt) {
				n++
			}
		}
		return n >= 2
	})
	start := time.Now()
	err := s.stop()
	took := time.Since(start)
	t.Logf("stopped in %s", took)
	if err != nil {
		t.Fatalf("Run returned %v after the stop, want nil", err)
	}
}
