package sandbox

import (
	"strings"
	"testing"
)

// modRoom is a channel with the owner (5), the bot (2) and alice (1), each
// logged in; anything before the returned point is consumed.
func modRoom(t *testing.T) (s *Server, owner, bot, alice *testClient) {
	t.Helper()
	s = startServer(t, Options{})
	owner, bot, alice = dial(t, s), dial(t, s), dial(t, s)
	for _, u := range []struct {
		c    *testClient
		name string
	}{{owner, "owner"}, {bot, "dazbot"}, {alice, "alice"}} {
		u.c.join("sandbox")
		u.c.login(u.name, u.name)
	}
	// Wait for alice's arrival everywhere, so later takes start after it.
	for _, c := range []*testClient{owner, bot} {
		c.take("alice joined", func(f string) bool {
			return eventName(f) == "addUser" && strings.Contains(f, `"name":"alice"`)
		})
	}
	return s, owner, bot, alice
}

func say(c *testClient, text string) {
	c.emit("chatMsg", map[string]any{"msg": text, "meta": map[string]any{}})
}

func isNotice(text string) func(string) bool {
	return func(f string) bool {
		return eventName(f) == "chatMsg" && strings.Contains(f, `"username":"[server]"`) && strings.Contains(f, text)
	}
}

func TestShadowMuteIsSeenByModeratorsOnly(t *testing.T) {
	t.Parallel()
	s, owner, bot, alice := modRoom(t)
	say(owner, "/smute alice")
	bot.take("shadow mute notice", isNotice("owner shadow muted alice"))
	meta := string(owner.takeEvent("setUserMeta"))
	if !strings.Contains(meta, `"muted":true,"smuted":true`) {
		t.Fatalf("moderator's setUserMeta %s", meta)
	}
	say(alice, "can anyone hear me")
	for _, c := range []*testClient{alice, owner, bot} {
		got := c.take("shadow line", func(f string) bool { return strings.Contains(f, "can anyone hear me") })
		if !strings.Contains(got, `"shadow":true`) {
			t.Fatalf("shadow line without the mark: %s", got)
		}
	}
	for _, f := range alice.frames() {
		if eventName(f) == "setUserMeta" {
			t.Fatalf("the shadow-muted user learned of it: %s", f)
		}
	}
	if msgs := s.Messages("sandbox"); len(msgs) != 0 {
		t.Fatalf("a shadow line went into the channel history: %+v", msgs)
	}
	say(owner, "/unmute alice")
	bot.take("unmute notice", isNotice("owner unmuted alice"))
	say(alice, "back for real")
	bot.take("alice's line", func(f string) bool { return strings.Contains(f, "back for real") && !strings.Contains(f, "shadow") })
}

func TestModerationNeedsRankAboveTheTarget(t *testing.T) {
	t.Parallel()
	_, owner, bot, alice := modRoom(t)
	cases := []struct {
		from *testClient
		cmd  string
		want string
	}{
		{bot, "/kick owner", "You do not have permission to kick owner"},
		{bot, "/ban owner rude", "You do not have permission to ban owner"},
		{bot, "/mute owner", "You do not have permission to mute owner"},
	}
	for _, tc := range cases {
		say(tc.from, tc.cmd)
		if got := string(tc.from.takeEvent("errorMsg")); got != `{"msg":"`+tc.want+`"}` {
			t.Errorf("%s: errorMsg %s, want %q", tc.cmd, got, tc.want)
		}
	}
	// Below the ban threshold (2) the command does nothing at all.
	say(alice, "/ban dazbot")
	say(alice, "a plain line")
	alice.take("alice's own line", func(f string) bool { return strings.Contains(f, "a plain line") })
	for _, f := range append(owner.frames(), bot.frames()...) {
		if strings.Contains(f, "namebanned") || eventName(f) == "userLeave" {
			t.Fatalf("a rank-1 /ban had an effect: %s", f)
		}
	}
}

func TestIPBanKeepsTheAddressOut(t *testing.T) {
	t.Parallel()
	s, owner, _, alice := modRoom(t)
	say(owner, "/ipban alice spam")
	if got := string(alice.takeEvent("kick")); got != `{"reason":"You're banned!"}` {
		t.Fatalf("ipban kick %s", got)
	}
	owner.emit("requestBanlist", nil)
	list := string(owner.takeEvent("banlist"))
	if !strings.Contains(list, `"ip":"*","name":"alice","reason":"spam","bannedby":"owner"`) ||
		strings.Count(list, `"name":"alice"`) != 2 {
		t.Fatalf("banlist %s, want a name and an IP entry", list)
	}
	// Every local client shares the address: a newcomer is turned away at
	// join, before any login.
	late := dial(t, s)
	late.handshake()
	late.emit("joinChannel", map[string]string{"name": "sandbox"})
	if got := string(late.takeEvent("kick")); got != `{"reason":"You are banned from this channel."}` {
		t.Fatalf("join from a banned address: kick %s", got)
	}
}

func TestSetPermissionsCarriesFractionalThresholds(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	c := dial(t, s)
	c.handshake()
	c.emit("joinChannel", map[string]string{"name": "sandbox"})
	perms := string(c.takeEvent("setPermissions"))
	for _, want := range []string{`"kick":1.5`, `"mute":1.5`, `"ban":2`, `"playlistadd":1.5`} {
		if !strings.Contains(perms, want) {
			t.Errorf("setPermissions lacks %s: %s", want, perms)
		}
	}
}
