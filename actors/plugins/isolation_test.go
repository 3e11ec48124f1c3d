package plugins_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/plugins/ping"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

// bomb is a plugin that panics on every chat line it is shown.
type bomb struct{ kit *pluginkit.Kit }

func (b *bomb) Receive(ctx actor.Context) {
	if b.kit.Handle(ctx) {
		return
	}
	if _, ok := ctx.Message().(*messages.PluginNotify); ok {
		panic("bomb plugin: cannot handle chat")
	}
}

// TestPanickingPluginIsIsolated: while 1 000 chat lines arrive and one
// plugin panics on each, !ping is answered, the bad plugin is restarted with
// backoff, then disabled and shown as such, and every line is logged.
func TestPanickingPluginIsIsolated(t *testing.T) {
	t.Parallel()
	h := plugintest.Start(t, plugintest.Options{LogEvents: true}, func(d pluginkit.Deps) []pluginkit.Spec {
		return []pluginkit.Spec{
			{Name: "bomb", Props: pluginkit.Props(d, func() actor.Actor {
				return &bomb{kit: pluginkit.New(d, "bomb", func() pluginkit.Registration {
					return pluginkit.Registration{
						Commands: []messages.CommandSpec{{Name: "boom"}},
						Events:   []string{"chatMsg"},
					}
				})}
			})},
			{Name: ping.Name, Props: ping.Props(d)},
		}
	})
	h.WaitRegistered("ping", "boom")
	h.Join(messages.User{Name: "alice", Rank: 1})
	for i := range 1000 {
		h.Chat(fmt.Sprintf("user%d", i%40), fmt.Sprintf("line %d", i))
		if i == 500 {
			h.Chat("alice", "!ping")
		}
	}
	h.WaitSaid("pong")

	h.WaitPluginState("bomb", func(st pluginkit.State) bool { return st.Status == pluginkit.StatusDisabled })
	st, _ := h.PluginState("bomb")
	if !strings.Contains(st.Reason, "5 failures") || !strings.Contains(st.Reason, "bomb plugin: cannot handle chat") {
		t.Fatalf("disabled reason %q", st.Reason)
	}
	info, ok := h.Sys.Tree().Find("plugins/bomb")
	if !ok || info.Restarts != 5 || info.LastFailure != "bomb plugin: cannot handle chat" {
		t.Fatalf("tree node %+v", info)
	}
	// Its commands are withdrawn: typing one is answered with why nothing
	// happens, once; the healthy plugin still answers.
	actortest.CheckFor(t, plugintest.Wait, "!boom withdrawn", func() bool {
		n := len(h.Routes())
		h.Chat("bob", "!boom")
		actortest.CheckFor(t, plugintest.Wait, "decision", func() bool { return len(h.Routes()) > n })
		r := h.Routes()[len(h.Routes())-1]
		return r.Decision == messages.RouteIgnored && strings.HasPrefix(r.Reason, "plugin unavailable: disabled")
	})
	h.WaitSaid("Sorry bob, !boom is unavailable right now.")
	h.Chat("bob", "!ping")
	actortest.CheckFor(t, plugintest.Wait, "second pong", func() bool {
		n := 0
		for _, s := range h.Said() {
			if s.Msg == "pong" {
				n++
			}
		}
		return n == 2
	})
	actortest.CheckFor(t, plugintest.Wait, "every line logged", func() bool {
		var n int
		err := h.Pool.QueryRow(t.Context(), `SELECT count(*) FROM daz_core_chat_log WHERE event_type = 'chatMsg' AND message LIKE 'line %'`).Scan(&n)
		return err == nil && n == 1000
	})
}

// quitter is a plugin that stops itself for good when told to.
type quitter struct{ kit *pluginkit.Kit }

func (q *quitter) Receive(ctx actor.Context) {
	if q.kit.Handle(ctx) {
		return
	}
	if c, ok := ctx.Message().(*messages.Command); ok && c.Name == "quit" {
		ctx.Stop(ctx.Self())
	}
}

// TestStoppedPluginCommandsAreRefused: once a plugin has stopped for good,
// its command is still known and answered with why nothing happens, and the
// other plugins carry on.
func TestStoppedPluginCommandsAreRefused(t *testing.T) {
	t.Parallel()
	h := plugintest.Start(t, plugintest.Options{}, func(d pluginkit.Deps) []pluginkit.Spec {
		return []pluginkit.Spec{
			{Name: "quitter", Props: pluginkit.Props(d, func() actor.Actor {
				return &quitter{kit: pluginkit.New(d, "quitter", func() pluginkit.Registration {
					return pluginkit.Registration{Commands: []messages.CommandSpec{{Name: "quit"}}}
				})}
			})},
			{Name: ping.Name, Props: ping.Props(d)},
		}
	})
	h.WaitRegistered("ping", "quit")
	h.Join(messages.User{Name: "alice", Rank: 1}, messages.User{Name: "bob", Rank: 1})
	h.Chat("alice", "!quit")
	actortest.CheckFor(t, plugintest.Wait, "quitter gone from the tree", func() bool {
		_, alive := h.Sys.Tree().Find("plugins/quitter")
		return !alive
	})
	actortest.CheckFor(t, plugintest.Wait, "!quit refused as stopped", func() bool {
		n := len(h.Routes())
		h.Chat("bob", "!quit")
		actortest.CheckFor(t, plugintest.Wait, "decision", func() bool { return len(h.Routes()) > n })
		r := h.Routes()[len(h.Routes())-1]
		return r.Decision == messages.RouteIgnored && r.Reason == "plugin unavailable: plugin stopped"
	})
	h.WaitSaid("Sorry bob, !quit is unavailable right now.")
	h.Chat("bob", "!ping")
	h.WaitSaid("pong")
}
