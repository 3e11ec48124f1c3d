package plugins_test

import (
	"context"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/actors/eventfilter"
	"github.com/daz-bot/daz/actors/outbound"
	"github.com/daz-bot/daz/actors/plugins/ping"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/messages"
)

// TestFirstCommandAfterJoinIsAnswered is the !ping benchmark's race made
// deterministic: the connection announced "online" before the outbound
// queue subscribed to hear it (as when the outbound queue restarts
// mid-socket, or starts while the state is being published), and the first
// !ping comes right after the burst's userlist. It must still get its pong.
func TestFirstCommandAfterJoinIsAnswered(t *testing.T) {
	t.Parallel()
	sys := actorkit.NewSystem(nil, nil)
	w := &wire{sys: sys, pong: make(chan time.Time, 4)}
	spawn := func(props *actor.Props, name string) *actor.PID {
		pid, err := sys.Root().SpawnNamed(props, name)
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	conn := spawn(sys.Props("wire", func() actor.Actor { return w }), "connection")
	// Published before the outbound queue exists: nobody hears it.
	sys.Publish(&messages.ConnectionState{Channel: benchChannel, State: messages.StateOnline, Username: "dazbot", Rank: 2})
	ob, err := outbound.Props(sys, outbound.Config{Channel: benchChannel, Connection: conn})
	if err != nil {
		t.Fatal(err)
	}
	out := spawn(ob, "outbound")
	w.outbound.Store(out)
	ef, err := eventfilter.Props(sys, eventfilter.Config{Channel: benchChannel, Outbound: out})
	if err != nil {
		t.Fatal(err)
	}
	filter := spawn(ef, "eventfilter")
	deps := pluginkit.Deps{System: sys, Channel: benchChannel, EventFilter: filter, Outbound: out}
	spawn(pluginkit.HostProps(sys, []pluginkit.Spec{{Name: ping.Name, Props: ping.Props(deps)}}, nil, filter), "plugins")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, id := range []string{"plugins", "eventfilter", "outbound", "connection"} {
			_ = sys.Shutdown(ctx, id)
		}
	})
	actortest.CheckFor(t, 5*time.Second, "ping registered", func() bool {
		res, err := sys.Ask(filter, &messages.ListCommands{}, time.Second)
		if err != nil {
			return false
		}
		for _, c := range res.(*messages.CommandList).Commands {
			if c.Name == "ping" {
				return true
			}
		}
		return false
	})
	now := time.Now()
	join := connection.NewJoinTracker("dazbot", 0) // as the connection's reader
	for i, ev := range []*messages.Event{
		{Name: "userlist", Body: &messages.UserList{Users: []messages.User{{Name: "dazbot", Rank: 2}, {Name: "alice"}}}},
		{Name: "chatMsg", Body: &messages.ChatMsg{Username: "alice", Text: "!ping", Time: now.UnixMilli()}},
	} {
		ev.Channel, ev.Seq, ev.Received = benchChannel, uint64(i+1), now
		join.Stamp(ev)
		sys.Send(filter, ev)
		sys.Send(out, ev)
	}
	select {
	case <-w.pong:
	case <-time.After(5 * time.Second):
		t.Fatal("the first !ping after the join got no pong")
	}
}
