package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jackc/pgx/v5"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations"
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
	actortest.CheckFor(t, 20*time.Second, "dead channel backing off", func() bool {
		st, ok := s.app.ChannelState("dead")
		return ok && st.State == messages.StateBackingOff
	})
	restartAt := clk.Now().Add(200 * time.Millisecond)
	actortest.CheckFor(t, 20*time.Second, "both crashers waiting for their restart", func() bool {
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

// A channel persisted as banned stays stopped across a restart: no
// connection is made, and /readyz answers 503 naming the channel and why.
func TestRestoredBanKeepsTheChannelStoppedAndNotReady(t *testing.T) {
	const reason = "banned: You're banned!"
	s := startStack(t, "banned", func(o *app.Options) {
		ctx := context.Background()
		if _, err := migrations.Up(ctx, o.DatabaseURL.Reveal()); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, o.DatabaseURL.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `INSERT INTO daz_core_retry_state (channel, last_error, stopped_reason)
			VALUES ('banned', $1, $1)`, reason); err != nil {
			t.Fatal(err)
		}
	})
	actortest.CheckFor(t, 20*time.Second, "the restored stop", func() bool {
		st, ok := s.app.ChannelState("banned")
		return ok && st.State == messages.StateStopped && st.Reason == reason
	})
	if _, running := s.app.System().Tree().PID("daz/channels/banned/connection"); running {
		t.Fatal("a connection was started for a channel persisted as banned")
	}
	res, err := http.Get("http://" + s.app.DebugAddr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"banned"`) ||
		!strings.Contains(string(body), "You're banned!") {
		t.Fatalf("/readyz = %d %s", res.StatusCode, body)
	}
}
