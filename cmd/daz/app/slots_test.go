package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/cmd/daz/debugserver"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// daemon is one in-process daz with its own database.
type daemon struct {
	app  *app.App
	stop func() error
}

func startDaemon(t *testing.T, sb *sandbox.Server, channels []string, mutate func(*app.Options)) *daemon {
	t.Helper()
	opts := app.Options{
		DatabaseURL: app.Secret(pgtest.New(t)), DebugAddr: "127.0.0.1:0", DataDir: t.TempDir(), Version: "slots",
		Web:    app.WebOptions{Addr: "127.0.0.1:0"},
		Logger: actortest.Logger(t, slog.LevelWarn),
	}
	for _, name := range channels {
		opts.Channels = append(opts.Channels, app.ChannelOptions{Name: name, ServerURL: sb.URL(), Username: "dazbot", Password: "dazbot"})
	}
	if mutate != nil {
		mutate(&opts)
	}
	a, err := app.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx) }()
	select {
	case <-a.Started():
	case err := <-runErr:
		cancel()
		t.Fatalf("daemon did not start: %v", err)
	}
	d := &daemon{app: a}
	var stopped bool
	var stopErr error
	d.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			stopErr = <-runErr
		}
		return stopErr
	}
	t.Cleanup(func() { _ = d.stop() })
	return d
}

// states counts a daemon's channels by connection state.
func (d *daemon) states(channels []string) map[messages.ConnState][]string {
	out := map[messages.ConnState][]string{}
	for _, name := range channels {
		st, ok := d.app.ChannelState(name)
		if !ok {
			st.State = "starting"
		}
		out[st.State] = append(out[st.State], name)
	}
	return out
}

// connectsFrom is the sandbox's record of one client address.
func connectsFrom(sb *sandbox.Server, ip string) (accepted []time.Time, refused []sandbox.ConnectRecord) {
	for _, r := range sb.ConnectLog() {
		if r.IP != ip {
			continue
		}
		if r.Outcome == sandbox.ConnectAccepted {
			accepted = append(accepted, r.At)
		} else {
			refused = append(refused, r)
		}
	}
	return accepted, refused
}

// checkPaced: on the server's own clock, the connects of one address come
// at most burst at once, then at most one per interval after the first.
func checkPaced(t *testing.T, at []time.Time, burst int, interval time.Duration) {
	t.Helper()
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	for k := burst; k < len(at); k++ {
		if min := time.Duration(k-burst+1) * interval; at[k].Sub(at[0]) < min {
			t.Errorf("connect %d came %s after the first; the server allows it after %s", k+1, at[k].Sub(at[0]), min)
		}
	}
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url) //nolint:noctx // a loopback probe in a test
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// One daemon with 25 channels on a server that enforces CyTube's per-address
// limits: 10 online and 15 waiting for a slot, never kicked for too many
// connections nor refused for the connect rate, connects paced; a second
// daemon from another source address takes 10 more; a channel that stops
// hands its slot to a waiter; the daemon with waiters shuts down cleanly.
func TestOneDaemonKeepsWithinTheServersLimits(t *testing.T) {
	const (
		burst    = sandbox.CyTubeConnectBurst
		maxConns = sandbox.CyTubeMaxSocketsPerIP
		interval = 300 * time.Millisecond // CyTube's is 10 s; the rule is the same
		wait     = 60 * time.Second
	)
	names := make([]string, 35)
	for i := range names {
		names[i] = fmt.Sprintf("slot%02d", i)
	}
	first, second := names[:25], names[25:]
	sb, err := sandbox.New(sandbox.Options{
		Addr: "127.0.0.1:0", Channels: names, Logger: slog.New(slog.DiscardHandler),
		MaxSocketsPerIP: maxConns, ConnectBurst: burst, ConnectInterval: interval,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := sb.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sb.Close() }()
	limits := func(o *app.Options) {
		o.ServerLimits = app.ServerLimitOptions{MaxConnections: maxConns, ConnectBurst: burst, ConnectInterval: interval}
	}

	a := startDaemon(t, sb, first, limits)
	actortest.CheckFor(t, wait, "10 online and 15 waiting", func() bool {
		st := a.states(first)
		return len(st[messages.StateOnline]) == maxConns && len(st[messages.StateWaitingForSlot]) == len(first)-maxConns
	})
	if free := a.app.ServerGate().Free(sb.URL()); free != 0 || a.app.ServerGate().HasFreeSlot(sb.URL()) {
		t.Errorf("gate says %d free slots with 15 channels waiting", free)
	}

	// The waiting state is shown wherever the others are.
	var ready debugserver.Readiness
	if err := json.Unmarshal([]byte(fetch(t, "http://"+a.app.DebugAddr()+"/readyz")), &ready); err != nil {
		t.Fatal(err)
	}
	waitingOnReadyz := 0
	for _, c := range ready.Channels {
		if c.State == string(messages.StateWaitingForSlot) {
			waitingOnReadyz++
			if !strings.Contains(c.Detail, "connections to this server in use") {
				t.Errorf("/readyz detail of %s: %q", c.Channel, c.Detail)
			}
		}
	}
	if waitingOnReadyz != len(first)-maxConns || ready.Ready {
		t.Errorf("/readyz: %d waiting, ready %v", waitingOnReadyz, ready.Ready)
	}
	if tree := fetch(t, "http://"+a.app.DebugAddr()+"/debug/actors"); !strings.Contains(tree, string(messages.StateWaitingForSlot)) {
		t.Errorf("the actor tree does not show the waiting state")
	}
	if page := fetch(t, a.app.WebURL()+"/"); !strings.Contains(page, string(messages.StateWaitingForSlot)) {
		t.Errorf("the web overview does not show the waiting state")
	}

	// A second daemon on another source address has limits of its own.
	b := startDaemon(t, sb, second, func(o *app.Options) { limits(o); o.LocalAddr = "127.0.0.2" })
	actortest.CheckFor(t, wait, "the second daemon's 10 online", func() bool {
		return len(b.states(second)[messages.StateOnline]) == len(second)
	})

	// A channel that stops (a ban) hands its slot to one that waited.
	banned := a.states(first)[messages.StateOnline][0]
	if err := sb.Kick(banned, "dazbot", "You're banned!"); err != nil {
		t.Fatal(err)
	}
	actortest.CheckFor(t, wait, "a waiter online in the banned channel's slot", func() bool {
		st := a.states(first)
		return slices.Equal(st[messages.StateStopped], []string{banned}) &&
			len(st[messages.StateOnline]) == maxConns && len(st[messages.StateWaitingForSlot]) == len(first)-maxConns-1
	})

	for ip, wantAccepted := range map[string]int{"127.0.0.1": maxConns + 1, "127.0.0.2": len(second)} {
		accepted, refused := connectsFrom(sb, ip)
		if len(refused) != 0 {
			t.Errorf("the server refused or kicked %s: %+v", ip, refused)
		}
		if len(accepted) != wantAccepted {
			t.Errorf("%s connected %d sockets, want %d (no flapping)", ip, len(accepted), wantAccepted)
		}
		checkPaced(t, accepted, burst, interval)
	}
	if n := sb.ConnectionCount(); n != 2*maxConns {
		t.Errorf("the server has %d sockets, want %d", n, 2*maxConns)
	}

	// Shutting down with 14 channels waiting: no waiter holds it up.
	if err := a.stop(); err != nil {
		t.Errorf("shutdown with channels waiting: %v", err)
	}
	if err := b.stop(); err != nil {
		t.Errorf("second daemon's shutdown: %v", err)
	}
}
