package eventfilter_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

// arrivals records, in order, what reaches a bare plugin actor.
type arrivals struct {
	mu  sync.Mutex
	got []string
}

func (a *arrivals) Receive(ctx actor.Context) {
	var what string
	switch m := ctx.Message().(type) {
	case *messages.PluginNotify:
		what = "event " + m.Event.Name
	case *messages.Command:
		what = "command " + m.Name
	default:
		return
	}
	a.mu.Lock()
	a.got = append(a.got, what)
	a.mu.Unlock()
}

func (a *arrivals) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.got...)
}

// TestRegistrationSubscribesAtOnce: one RegisterPlugin makes the commands
// routable and the events flow from the same moment, so a plugin whose
// command is routed has seen every event sent after it registered. (With
// commands and subscription in two messages, a userlist sent between them
// was lost to a plugin that then refused "alice is not here".)
func TestRegistrationSubscribesAtOnce(t *testing.T) {
	t.Parallel()
	h := plugintest.Start(t, plugintest.Options{}, func(pluginkit.Deps) []pluginkit.Spec { return nil })
	rec := &arrivals{}
	pid, err := h.Sys.Root().SpawnNamed(h.Sys.Props("probe", func() actor.Actor { return rec }), "bare")
	if err != nil {
		t.Fatal(err)
	}
	h.Sys.Send(h.Filter(), &messages.RegisterPlugin{Plugin: "bare", Owner: pid,
		Commands: []messages.CommandSpec{{Name: "hello"}}, Events: []string{"userlist", "addUser"}})
	// No wait for the registration: the EventFilter handles its mailbox
	// in order.
	h.Join(messages.User{Name: "alice", Rank: 1})
	h.AddUser("bob", 0)
	h.Chat("alice", "!hello")
	want := []string{"event userlist", "event addUser", "command hello"}
	actortest.CheckFor(t, plugintest.Wait, "the events and the command", func() bool { return len(rec.list()) >= len(want) })
	if got := rec.list(); !slices.Equal(got, want) {
		t.Fatalf("the plugin got %q, want %q", got, want)
	}
}
