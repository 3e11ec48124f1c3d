package plugins_test

import (
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

var allCommands = []string{"ping", "help", "uptime", "about", "addcmd", "delcmd", "cmds",
	"seen", "stats", "top", "quote", "np", "history", "tell", "remind", "reload"}

func TestAllPluginsRegisterWithoutConflicts(t *testing.T) {
	t.Parallel()
	h := plugintest.Start(t, plugintest.Options{}, plugins.All)
	h.WaitRegistered(allCommands...)
	seen := map[string]bool{}
	for _, s := range plugins.All(h.Deps) {
		if seen[s.Name] {
			t.Fatalf("two plugins named %s", s.Name)
		}
		seen[s.Name] = true
		h.WaitPluginState(s.Name, func(st pluginkit.State) bool { return st.Status == pluginkit.StatusRunning })
	}
	// Every declared command is routed to the plugin that declared it.
	for _, s := range plugins.All(h.Deps) {
		st, _ := h.PluginState(s.Name)
		for _, c := range st.Commands {
			res, err := h.Sys.Root().RequestFuture(h.Filter(), &messages.ListCommands{}, time.Second).Result()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, info := range res.(*messages.CommandList).Commands {
				if info.Name == c {
					found = info.Plugin == s.Name
				}
			}
			if !found {
				t.Errorf("!%s of %s is not routed to it", c, s.Name)
			}
		}
	}
}

func TestHelpShowsWhatEachUserMayRun(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	h := plugintest.Start(t, plugintest.Options{Fake: fake}, plugins.All)
	h.WaitRegistered(allCommands...)
	h.Join(messages.User{Name: "alice", Rank: 1}, messages.User{Name: "Mod", Rank: 2})
	ask := func(user, text string, pm bool) plugintest.Said {
		n := len(h.Said())
		fake.Advance(6 * time.Second)
		if pm {
			h.PM(user, text)
		} else {
			h.Chat(user, text)
		}
		return h.WaitCount(n + 1)[n]
	}
	got := ask("alice", "!help", false)
	if !strings.HasPrefix(got.Msg, "Commands: !about !cmds !help !history !np !ping !quote !remind !seen !stats !tell !top !uptime") ||
		strings.Contains(got.Msg, "!addcmd") || strings.Contains(got.Msg, "!reload") {
		t.Fatalf("alice's help: %q", got.Msg)
	}
	if got = ask("Mod", "!help", true); !got.PM || !strings.Contains(got.Msg, "!addcmd") || !strings.Contains(got.Msg, "!reload") {
		t.Fatalf("a moderator's help by PM: %+v", got)
	}
	if got = ask("alice", "!help remindme", false); got.Msg != "!remind — remind you of something later (units: s m h d w, e.g. 1h30m). Usage: !remind <when> <text> — also !remindme" {
		t.Fatalf("help for an alias: %q", got.Msg)
	}
	if got = ask("alice", "!help !addcmd", false); !strings.Contains(got.Msg, "needs rank 2") {
		t.Fatalf("help for a moderator command: %q", got.Msg)
	}
	if got = ask("alice", "!help nosuch", false); got.Msg != "There is no !nosuch command." {
		t.Fatalf("help for nothing: %q", got.Msg)
	}
}

func TestUptimeAndAbout(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	fake := clock.NewFake(start)
	h := plugintest.Start(t, plugintest.Options{Fake: fake, Deps: func(d *pluginkit.Deps) { d.Version = "1.4.2" }}, plugins.All)
	h.WaitRegistered("uptime", "about")
	h.Join(messages.User{Name: "alice", Rank: 1})
	fake.Advance(3 * time.Hour)
	h.Sys.Publish(&messages.ConnectionState{Channel: plugintest.Channel, State: messages.StateOnline, Username: "dazbot", Rank: 2, At: fake.Now()})
	h.Sync("uptime")
	h.Sync("about")
	fake.Advance(5 * time.Minute)
	h.Chat("alice", "!uptime")
	if got := h.WaitSaid("Up "); got.Msg != "Up 3h 5m, connected to testchan for 5m." {
		t.Fatalf("uptime: %q", got.Msg)
	}
	h.Chat("alice", "!about")
	if got := h.WaitSaid("daz "); got.Msg != "daz 1.4.2, a CyTube bot. Up 3h 5m. Connection: online as dazbot (rank 2)." {
		t.Fatalf("about: %q", got.Msg)
	}
}

// TestUptimeKnowsAConnectionOnlineBeforeItStarted: a plugin that starts (or
// restarts after a panic) while the channel is already online reads the
// state the connection left on the tree instead of waiting for the next
// reconnect.
func TestUptimeKnowsAConnectionOnlineBeforeItStarted(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	fake := clock.NewFake(start)
	h := plugintest.Start(t, plugintest.Options{Fake: fake, Deps: func(d *pluginkit.Deps) {
		conn, err := d.System.Root().SpawnNamed(d.System.Props("connection", func() actor.Actor { return idle{} }), "conn")
		if err != nil {
			t.Fatal(err)
		}
		d.System.Tree().SetState(conn.Id, messages.ConnectionState{Channel: plugintest.Channel,
			State: messages.StateOnline, Username: "dazbot", Rank: 2, At: start.Add(-10 * time.Minute)})
		d.StateNodes = []string{"gone", conn.Id}
	}}, plugins.All)
	h.WaitRegistered("uptime", "about")
	h.Join(messages.User{Name: "alice", Rank: 1})
	h.Chat("alice", "!uptime")
	if got := h.WaitSaid("Up "); got.Msg != "Up 0s, connected to testchan for 10m." {
		t.Fatalf("uptime: %q", got.Msg)
	}
	h.Chat("alice", "!about")
	if got := h.WaitSaid("daz "); !strings.HasSuffix(got.Msg, "Connection: online as dazbot (rank 2).") {
		t.Fatalf("about: %q", got.Msg)
	}
}

// idle is an actor that only holds a place on the tree.
type idle struct{}

func (idle) Receive(actor.Context) {}
