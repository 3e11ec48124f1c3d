package eventfilter_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/eventfilter"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

// TestOperatorOverridesWinOverPluginDefaults: a value the operator changed
// in daz_eventfilter_cmds survives registration; a value still equal to
// the old default follows the plugin's new default.
func TestOperatorOverridesWinOverPluginDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t,
		// Operator raised !mod from its default 2 to 3.
		`INSERT INTO daz_eventfilter_cmds (name, plugin, min_rank, default_min_rank, cooldown_ms, default_cooldown_ms)
		 VALUES ('mod', 'probe', 3, 2, 0, 0)`,
		// !half was registered with default 1 and never touched: it follows the plugin's 1.5.
		`INSERT INTO daz_eventfilter_cmds (name, plugin, min_rank, default_min_rank, cooldown_ms, default_cooldown_ms)
		 VALUES ('half', 'probe', 1, 1, 0, 0)`,
		// A row from before the default columns existed counts as the operator's.
		`INSERT INTO daz_eventfilter_cmds (name, plugin, cooldown_ms) VALUES ('slow', 'probe', 1000)`,
	)
	e.waitTable(func(cs []messages.CommandInfo) bool {
		for _, c := range cs {
			if c.Name == "mod" && c.MinRank != 3 || c.Name == "half" && c.MinRank != 1.5 || c.Name == "slow" && c.Cooldown != time.Second {
				return false
			}
		}
		return true
	})
	var defRank float64
	var enabled bool
	if err := e.Pool.QueryRow(t.Context(), `SELECT default_min_rank, enabled FROM daz_eventfilter_cmds WHERE name = 'mod'`).
		Scan(&defRank, &enabled); err != nil {
		t.Fatal(err)
	}
	if defRank != 2 || !enabled {
		t.Fatalf("mod row: default_min_rank %v enabled %v", defRank, enabled)
	}
	// Every command the plugin declared is in the table with its metadata.
	var usage string
	var aliases []string
	if err := e.Pool.QueryRow(t.Context(), `SELECT usage, aliases FROM daz_eventfilter_cmds WHERE name = 'echo'`).
		Scan(&usage, &aliases); err != nil {
		t.Fatal(err)
	}
	if usage != "echo <text>" || !slices.Equal(aliases, []string{"e", "say"}) {
		t.Fatalf("echo row: usage %q aliases %v", usage, aliases)
	}
	e.Join(messages.User{Name: "Mod", Rank: 2})
	e.Chat("Mod", "!mod")
	if r := e.waitRoute("Mod", 1); r.Decision != messages.RouteBlockedRank {
		t.Fatalf("rank 2 on a command the operator raised to 3: %s", r.Decision)
	}
}

func TestReloadPicksUpOperatorChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Join(messages.User{Name: "alice", Rank: 1}, messages.User{Name: "boss", Rank: 3})
	e.Chat("alice", "!echo one")
	if r := e.waitRoute("alice", 1); r.Decision != messages.RouteRouted {
		t.Fatal(r.Decision)
	}
	if _, err := e.Pool.Exec(t.Context(), `UPDATE daz_eventfilter_cmds SET enabled = false WHERE name = 'echo'`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Pool.Exec(t.Context(), `INSERT INTO daz_eventfilter_ignored_users (channel, username) VALUES ('testchan', 'alice')`); err != nil {
		t.Fatal(err)
	}
	e.Chat("boss", "!reload")
	got := e.WaitSaid("Reloaded")
	if got.Msg != "Reloaded: 7 commands, 1 ignored users." {
		t.Fatalf("reload answer %q", got.Msg)
	}
	e.Chat("alice", "!echo two")
	if r := e.waitRoute("alice", 2); r.Reason != "ignored user" {
		t.Fatalf("after reload: %s %s", r.Decision, r.Reason)
	}
	e.Chat("boss", "!echo three")
	if r := e.waitRoute("boss", 2); r.Reason != "command disabled" {
		t.Fatalf("after reload: %s %s", r.Decision, r.Reason)
	}
	// The periodic reload brings it back without a command.
	if _, err := e.Pool.Exec(t.Context(), `UPDATE daz_eventfilter_cmds SET enabled = true WHERE name = 'echo'`); err != nil {
		t.Fatal(err)
	}
	e.fake.Advance(time.Minute)
	e.waitTable(func(cs []messages.CommandInfo) bool {
		for _, c := range cs {
			if c.Name == "echo" {
				return c.Enabled
			}
		}
		return false
	})
}

// notifyProbe subscribes to events and answers plugin requests.
type notifyProbe struct {
	kit  *pluginkit.Kit
	mu   *sync.Mutex
	seen *[]string
}

func (p *notifyProbe) Receive(ctx actor.Context) {
	if p.kit.Handle(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case *messages.PluginNotify:
		p.mu.Lock()
		switch b := m.Event.Body.(type) {
		case *messages.ChatMsg:
			*p.seen = append(*p.seen, "chat:"+b.Text)
		case *messages.AddUser:
			*p.seen = append(*p.seen, "join:"+b.Name)
		default:
			*p.seen = append(*p.seen, "other:"+m.Event.Name)
		}
		p.mu.Unlock()
	case *messages.PluginRequest:
		ctx.Respond(&messages.PluginResponse{Kind: m.Kind, Values: map[string]string{"echo": m.Args["say"]}})
	}
}

func TestNotifyAndPluginRequests(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	h := plugintest.Start(t, plugintest.Options{}, func(d pluginkit.Deps) []pluginkit.Spec {
		return []pluginkit.Spec{{Name: "watcher", Props: pluginkit.Props(d, func() actor.Actor {
			return &notifyProbe{mu: &mu, seen: &seen, kit: pluginkit.New(d, "watcher", func() pluginkit.Registration {
				return pluginkit.Registration{Events: []string{"chatMsg", "addUser"}}
			})}
		})}}
	})
	// The plugin is known once a request reaches it.
	var res any
	actortest.CheckFor(t, plugintest.Wait, "request routed to the plugin", func() bool {
		var err error
		res, err = h.Sys.Root().RequestFuture(h.Filter(),
			&messages.PluginRequest{Plugin: "watcher", Kind: "echo", Args: map[string]string{"say": "hi"}}, time.Second).Result()
		return err == nil && res.(*messages.PluginResponse).Err == nil
	})
	if v := res.(*messages.PluginResponse).Values["echo"]; v != "hi" {
		t.Fatalf("response %+v", res)
	}
	res, err := h.Sys.Root().RequestFuture(h.Filter(), &messages.PluginRequest{Plugin: "nobody", Kind: "x"}, time.Second).Result()
	if err != nil || res.(*messages.PluginResponse).Err == nil {
		t.Fatalf("request to an unknown plugin: %v %+v", err, res)
	}

	h.NewSocket()
	h.Send("setPermissions", &messages.SetPermissions{})
	h.Send("chatMsg", &messages.ChatMsg{Username: "old", Text: "replayed", Time: 1})
	h.Join()
	h.AddUser("alice", 1)
	h.Send("setAFK", &messages.SetAFK{Name: "alice"})
	h.Chat("alice", "live")
	want := []string{"join:alice", "chat:live"}
	actortest.CheckFor(t, plugintest.Wait, "notifications", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) >= len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, want) {
		t.Fatalf("notified %v, want %v (no backlog, only subscribed events)", seen, want)
	}
}

// TestPluginsRegisterAgainWhenTheEventFilterRestarts: a new EventFilter
// starts with an empty table and announces itself; plugins declare again.
func TestPluginsRegisterAgainWhenTheEventFilterRestarts(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(start)
	h := plugintest.Start(t, plugintest.Options{Fake: fake, DatabaseURL: testpg.NewMigrated(t)}, func(d pluginkit.Deps) []pluginkit.Spec {
		got := &commandLog{}
		return []pluginkit.Spec{{Name: "probe", Props: pluginkit.Props(d, func() actor.Actor {
			return &probe{got: got, kit: pluginkit.New(d, "probe", func() pluginkit.Registration {
				return pluginkit.Registration{Commands: probeCommands()}
			})}
		})}}
	})
	h.WaitRegistered("echo")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := h.Sys.Shutdown(ctx, "eventfilter"); err != nil {
		t.Fatal(err)
	}
	props, err := eventfilter.Props(h.Sys, eventfilter.Config{Channel: plugintest.Channel, Clock: fake, SQL: h.Deps.SQL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Sys.Root().SpawnNamed(props, "eventfilter"); err != nil {
		t.Fatal(err)
	}
	h.WaitRegistered("echo", "mod", "reload")
}
