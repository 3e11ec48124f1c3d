package customcmd_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit/actortest"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/plugins/customcmd"
	"github.com/daz-bot/daz/actors/plugins/ping"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

var epoch = time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)

func specs(d pluginkit.Deps) []pluginkit.Spec {
	return []pluginkit.Spec{
		{Name: customcmd.Name, Props: customcmd.Props(d)},
		{Name: ping.Name, Props: ping.Props(d)},
	}
}

type chat struct {
	*plugintest.Harness
	t *testing.T
}

func start(t *testing.T, dbURL string) *chat {
	t.Helper()
	h := plugintest.Start(t, plugintest.Options{DatabaseURL: dbURL, Fake: clock.NewFake(epoch)}, specs)
	h.WaitRegistered("addcmd", "delcmd", "cmds", "ping")
	h.WaitLoaded(customcmd.Name)
	h.Join(messages.User{Name: "alice", Rank: 1}, messages.User{Name: "Mod", Rank: 2})
	return &chat{Harness: h, t: t}
}

// say sends one command after every cooldown has passed and returns the
// bot's answer.
func (c *chat) say(user, text string) plugintest.Said {
	c.t.Helper()
	n := len(c.Said())
	c.Fake.Advance(11 * time.Second)
	c.Chat(user, text)
	return c.WaitCount(n + 1)[n]
}

func TestCustomCommandLifecycle(t *testing.T) {
	t.Parallel()
	c := start(t, "")
	steps := []struct{ user, text, want string }{
		{"Mod", "!addcmd greet Hello {user}, welcome to {channel}! {args}", "Added !greet."},
		{"alice", "!greet nice to be here", "Hello alice, welcome to testchan! nice to be here"},
		{"Mod", "!addcmd !GREET Hi {user}", "Updated !greet."},
		{"alice", "!greet", "Hi alice"},
		{"Mod", "!addcmd rules Be nice.", "Added !rules."},
		{"alice", "!cmds", "Custom commands: !greet !rules"},
		{"Mod", "!addcmd ping not pong", "!ping is a built-in command and cannot be replaced."},
		{"alice", "!ping", "pong"},
		{"Mod", "!addcmd bad/name x", "Command names are 1-32 characters"},
		{"Mod", "!addcmd " + strings.Repeat("x", 5), "Usage: !addcmd <name> <text>"},
		{"Mod", "!delcmd greet", "Deleted !greet."},
		{"Mod", "!delcmd greet", "There is no custom command !greet."},
		{"alice", "!cmds", "Custom commands: !rules"},
	}
	for _, s := range steps {
		got := c.say(s.user, s.text)
		if !strings.HasPrefix(got.Msg, s.want) {
			t.Fatalf("%s: %q answered %q, want %q", s.user, s.text, got.Msg, s.want)
		}
	}
	// The deleted command is no longer routed.
	c.Fake.Advance(11 * time.Second)
	c.Chat("alice", "!greet")
	testutilWaitDecision(t, c, "greet", messages.RouteUnknown)
}

func testutilWaitDecision(t *testing.T, c *chat, cmd string, d messages.RouteDecision) {
	t.Helper()
	var last messages.Route
	actortest.CheckFor(t, plugintest.Wait, "a decision for !"+cmd, func() bool {
		rs := c.Routes()
		if len(rs) == 0 || rs[len(rs)-1].Command != cmd {
			return false
		}
		last = rs[len(rs)-1]
		return true
	})
	if last.Decision != d {
		t.Fatalf("!%s: %s, want %s", cmd, last.Decision, d)
	}
}

func TestOnlyModeratorsEditCommands(t *testing.T) {
	t.Parallel()
	c := start(t, "")
	got := c.say("alice", "!addcmd free stuff")
	if !strings.Contains(got.Msg, "needs rank 2") {
		t.Fatalf("answer %q", got.Msg)
	}
	var n int
	if err := c.Pool.QueryRow(t.Context(), `SELECT count(*) FROM daz_customcmd_commands`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows (%v) after a refused !addcmd", n, err)
	}
}

// TestTemplatesCannotInjectChatCommands: whatever a user passes in {args}
// is text, never a CyTube chat command like /kick.
func TestTemplatesCannotInjectChatCommands(t *testing.T) {
	t.Parallel()
	c := start(t, "")
	c.say("Mod", "!addcmd echo {args}")
	if got := c.say("alice", "!echo /kick Mod"); strings.HasPrefix(got.Msg, "/") || strings.TrimSpace(got.Msg) != "/kick Mod" {
		t.Fatalf("echo answered %q", got.Msg)
	}
	if got := c.say("alice", "!echo {user} {channel}"); got.Msg != "{user} {channel}" {
		t.Fatalf("placeholders in arguments were expanded: %q", got.Msg)
	}
}

func TestCustomCommandsSurviveRestart(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	first := start(t, dbURL)
	first.say("Mod", "!addcmd motd Movie night at 8!")
	first.Stop()

	second := start(t, dbURL)
	second.WaitRegistered("motd")
	if got := second.say("alice", "!motd"); got.Msg != "Movie night at 8!" {
		t.Fatalf("after restart: %q", got.Msg)
	}
}

// TestAddedCommandIsRoutedAtOnce: "Added !x." is only said once the
// EventFilter routes !x, so typing it straight away works.
func TestAddedCommandIsRoutedAtOnce(t *testing.T) {
	t.Parallel()
	c := start(t, "")
	for i := range 5 {
		name := fmt.Sprintf("quick%d", i)
		c.Fake.Advance(2 * time.Second) // !addcmd's cooldown
		c.Chat("Mod", "!addcmd "+name+" answer "+name)
		c.WaitSaid("Added !" + name + ".")
		c.Chat("alice", "!"+name)
		testutilWaitDecision(t, c, name, messages.RouteRouted)
		c.WaitSaid("answer " + name)
	}
}

// gate stands between the plugins and the SQL writer: it holds every
// request until the test opens it, then passes them on, or fails them.
type gate struct {
	writer *actor.PID
	open   bool
	held   []heldSQL
}

type heldSQL struct {
	sender *actor.PID
	req    *messages.SQLRequest
}

// openGate passes held and later requests on; failGate answers the held
// ones with a database error.
type (
	openGate struct{}
	failGate struct{}
)

func (g *gate) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *messages.SQLRequest:
		if g.open {
			ctx.Forward(g.writer)
			return
		}
		g.held = append(g.held, heldSQL{sender: ctx.Sender(), req: m})
	case openGate:
		g.open = true
		for _, h := range g.held {
			ctx.RequestWithCustomSender(g.writer, h.req, h.sender)
		}
		g.held = nil
	case failGate:
		for _, h := range g.held {
			ctx.Send(h.sender, &messages.SQLResponse{ID: h.req.ID, Err: fmt.Errorf("test outage: %w", messages.ErrDatabaseUnavailable)})
		}
		g.held = nil
	}
}

// TestCommandsWaitForLoading: commands that arrive while the stored custom
// commands are still loading are held, not turned away, and answered once
// loading is done; if it fails, each is answered with the reason.
func TestCommandsWaitForLoading(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		release any
		want    []string
	}{
		{"loaded", openGate{}, []string{"Added !early.", "No custom commands yet."}},
		{"loading failed", failGate{}, []string{"Custom commands could not be loaded", "Custom commands could not be loaded"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sqlGate *actor.PID
			h := plugintest.Start(t, plugintest.Options{Fake: clock.NewFake(epoch), Deps: func(d *pluginkit.Deps) {
				g := &gate{writer: d.SQL}
				pid, err := d.System.Root().SpawnNamed(d.System.Props("gate", func() actor.Actor { return g }), "sqlgate")
				if err != nil {
					t.Fatal(err)
				}
				sqlGate, d.SQL = pid, pid
			}}, specs)
			h.WaitRegistered("addcmd", "cmds")
			h.Join(messages.User{Name: "alice", Rank: 1}, messages.User{Name: "Mod", Rank: 2})
			h.Chat("Mod", "!addcmd early here already")
			h.Chat("alice", "!cmds")
			h.WaitRouted("addcmd", 1)
			h.WaitRouted("cmds", 1)
			h.Sync(customcmd.Name)
			if said := h.Said(); len(said) != 0 {
				t.Fatalf("answered before loading was done: %+v", said)
			}
			h.Sys.Send(sqlGate, tt.release)
			said := h.WaitCount(len(tt.want))
			for _, w := range tt.want {
				found := false
				for _, s := range said {
					found = found || strings.HasPrefix(s.Msg, w)
				}
				if !found {
					t.Fatalf("said %+v, want %q among them", said, w)
				}
			}
			if tt.name == "loaded" {
				h.Chat("alice", "!early")
				h.WaitSaid("here already")
			}
		})
	}
}
