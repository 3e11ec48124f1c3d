package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/eventfilter"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// Fifty channels starting together: every plugin's start-up SQL waits its
// turn at the writer instead of being refused as "overloaded", so every
// channel's commands are saved and nothing is answered "database
// unavailable" while the database is up.
func TestFiftyChannelsStartCleanly(t *testing.T) {
	const n = 50
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("many%02d", i)
	}
	sb, err := sandbox.New(sandbox.Options{Addr: "127.0.0.1:0", Channels: names, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := sb.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sb.Close() }()
	logs := &actortest.LogBuffer{}
	opts := app.Options{
		DatabaseURL: app.Secret(pgtest.New(t)), DebugAddr: "127.0.0.1:0", DataDir: t.TempDir(), Version: "many",
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		// The sandbox here has no per-address limits; neither does the daemon.
		ServerLimits: app.ServerLimitOptions{MaxConnections: n, ConnectBurst: n, ConnectInterval: time.Second},
	}
	for _, name := range names {
		opts.Channels = append(opts.Channels, app.ChannelOptions{Name: name, ServerURL: sb.URL(), Username: "dazbot", Password: "dazbot"})
	}
	a, err := app.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx) }()
	<-a.Started()
	defer func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	actortest.CheckFor(t, 90*time.Second, "all 50 channels online", func() bool {
		for _, name := range names {
			if st, ok := a.ChannelState(name); !ok || st.State != messages.StateOnline {
				return false
			}
		}
		return true
	})
	var lastBad string
	defer func() {
		if t.Failed() {
			t.Logf("last channel not settled: %s\n%s", lastBad, grepLines(logs.String(), "failed"))
		}
	}()
	actortest.CheckFor(t, 60*time.Second, "every channel's commands saved", func() bool {
		for _, name := range names {
			v, ok := a.System().Tree().State("daz/channels/" + name + "/eventfilter")
			st, isState := v.(eventfilter.State)
			if !ok || !isState || st.Commands == 0 || st.Pending != 0 || st.SQLErrors != 0 {
				lastBad = fmt.Sprintf("%s: %+v", name, v)
				return false
			}
		}
		return true
	})
	for _, bad := range []string{"overloaded", messages.ErrDatabaseUnavailable.Error()} {
		if strings.Contains(logs.String(), bad) {
			t.Errorf("start-up logged %q:\n%s", bad, grepLines(logs.String(), bad))
		}
	}
}

func grepLines(text, needle string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, needle) && len(out) < 5 {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
