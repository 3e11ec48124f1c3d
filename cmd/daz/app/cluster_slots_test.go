package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/cmd/daz/app"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// One group, one CyTube server pacing connects per address, 25 channels,
// 10 sockets per daemon and server: a lone daemon runs 10 and leaves 15
// waiting for a slot without ever being refused; a second daemon on another
// source address joins the group and the two end with 20 online, 5
// waiting, no socket refused, no channel run twice. The sandbox's own
// per-address cap is off here: a hand-over frees a slot that the daemon's
// next waiter takes at once, and the sandbox counts the closed socket until
// its reader goroutine runs, which on a loaded machine can come after the
// new connect (TestOneDaemonKeepsWithinTheServersLimits runs against the cap).
func TestGroupSharesChannelsBeyondOneAddressLimit(t *testing.T) {
	const channels, perAddress = 25, 10
	interval := 300 * time.Millisecond
	names := make([]string, channels)
	for i := range names {
		names[i] = fmt.Sprintf("lim%02d", i)
	}
	sb, err := sandbox.New(sandbox.Options{
		Addr: "127.0.0.1:0", Channels: names, Logger: slog.New(slog.DiscardHandler),
		ConnectBurst: sandbox.CyTubeConnectBurst, ConnectInterval: interval,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := sb.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = sb.Close() })
	dbURL := pgtest.New(t)
	if _, err := migrations.Up(context.Background(), dbURL); err != nil {
		t.Fatal(err)
	}
	g := &group{sb: sb, dbURL: dbURL, pool: pgtest.Pool(t, dbURL), channels: names}
	source := map[string]string{"node-a": "127.0.0.1", "node-b": "127.0.0.2"}
	g.mutate = func(node string, o *app.Options) {
		o.ServerLimits = app.ServerLimitOptions{MaxConnections: perAddress, ConnectBurst: sandbox.CyTubeConnectBurst, ConnectInterval: interval}
		o.LocalAddr = source[node]
	}

	states := func(d *member) map[messages.ConnState]int {
		out := map[messages.ConnState]int{}
		for _, name := range names {
			if st, ok := d.app.ChannelState(name); ok {
				if _, running := d.app.System().Tree().PID("daz/channels/" + name + "/connection"); running {
					out[st.State]++
				}
			}
		}
		return out
	}
	a := g.start(t, "node-a")
	daemons := []*member{a}
	stopWatch := watchDoubles(g, daemons)
	actortest.CheckFor(t, 60*time.Second, "a lone daemon: 10 online, 15 waiting for a slot", func() bool {
		st := states(a)
		return st[messages.StateOnline] == perAddress && st[messages.StateWaitingForSlot] == channels-perAddress
	})
	doubles := stopWatch()

	b := g.start(t, "node-b")
	daemons = append(daemons, b)
	stopWatch = watchDoubles(g, daemons)
	actortest.CheckFor(t, 120*time.Second, "two daemons: 20 online, 5 waiting, each within its share", func() bool {
		sa, sb := states(a), states(b)
		online := sa[messages.StateOnline] + sb[messages.StateOnline]
		waiting := sa[messages.StateWaitingForSlot] + sb[messages.StateWaitingForSlot]
		share := (channels + 1) / 2
		return online == 2*perAddress && waiting == channels-2*perAddress &&
			len(a.online(names))+sa[messages.StateWaitingForSlot] <= share+1 &&
			len(b.online(names))+sb[messages.StateWaitingForSlot] <= share+1
	})
	doubles = append(doubles, stopWatch()...)
	for _, c := range sb.ConnectLog() {
		if c.Outcome != sandbox.ConnectAccepted {
			t.Errorf("the sandbox refused a socket from %s: %s", c.IP, c.Outcome)
		}
	}
	noDuplicateLogins(t, g, daemons, doubles)
}
