package customcmd_test

import (
	"github.com/daz-bot/daz/actors/internal/testutil"
	"strings"
	"testing"
	"time"

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
	testutil.CheckFor(t, plugintest.Wait, "a decision for !"+cmd, func() bool {
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
