package moderation_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

// TestCommandsSendModeration: each command becomes the chat command (or the
// banlist round trip) CyTube expects, and is logged.
func TestCommandsSendModeration(t *testing.T) {
	t.Parallel()
	r := startRig(t, rigOptions{})
	r.standard()

	r.Chat("Mod", "!kick alice being rude")
	r.waitChat("/kick alice being rude", 1)
	r.waitAnswer("Kicked alice.")

	r.Chat("Admin", "!ban bob spamming links")
	r.waitChat("/ban bob spamming links", 1)
	r.waitAnswer("Banned bob.")

	r.Chat("Mod", "!mute alice")
	r.waitChat("/mute alice", 1)
	r.waitAnswer("Muted alice until unmuted.")
	r.Chat("Mod", "!unmute alice")
	r.waitChat("/unmute alice", 1)
	r.waitAnswer("Unmuted alice.")

	r.Chat("Mod", "!tempban alice 1h30m flooding")
	r.waitChat("/ban alice flooding", 1)
	r.waitAnswer("Banned alice for 1h 30m.")

	// !unban looks the id up in the banlist first.
	r.PM("Admin", "!unban bob")
	waitEvent(t, r, "requestBanlist", 1)
	r.Send("banlist", &messages.Banlist{Bans: []messages.BanEntry{
		{ID: 3, IP: "*", Name: "alice", Reason: "flooding", BannedBy: "dazbot"},
		{ID: 7, IP: "*", Name: "bob", Reason: "spamming links", BannedBy: "dazbot"},
	}})
	waitEvent(t, r, "unban", 1)
	if ev := lastEvent(r, "unban"); ev == nil || !sameUnban(ev.Payload, 7, "bob") {
		t.Fatalf("unban payload = %+v, want id 7 bob", ev)
	}
	r.Send("banlistRemove", &messages.BanlistRemove{ID: 7, Name: "bob"})
	r.waitPM("Admin", "Unbanned bob.")

	r.waitLog("alice", "kick/done", "mute/done", "unmute/done", "tempban/done")
	r.waitLog("bob", "ban/done", "unban/done")

	// !modlog answers by PM, newest last.
	r.Chat("Mod", "!modlog alice")
	r.waitPM("Mod", "Mod tempban alice (flooding) until 2026-03-01 13:30 UTC")
	r.waitPM("Mod", "Mod kick alice (being rude)")
}

// TestCommandRefusals: unknown users, ourselves, the server, targets at or
// above the moderator or us, missing rights and bad durations are refused
// with the reason and nothing is sent.
func TestCommandRefusals(t *testing.T) {
	t.Parallel()
	r := startRig(t, rigOptions{})
	r.standard()
	for _, tt := range []struct{ user, line, want string }{
		{"Mod", "!kick nobody", "nobody is not here."},
		{"Mod", "!mute dazbot", "I won't mute myself."},
		{"Mod", "!kick [server]", "I can't kick the server."},
		{"Mod", "!kick Mod2 hi", "You can't kick Mod2: their rank (2) is not below yours (2)."},
		{"Owner", "!kick Mod", "I can't kick Mod: their rank (2) is not below mine (2)."},
		{"Mod", "!tempban alice", "Usage: !tempban <user> <duration> [reason]"},
		{"Mod", "!tempban alice 5x spam", "unknown unit"},
		{"Admin", "!tempban alice 400d spam", "over a year"},
		{"alice", "!kick bob", "needs rank 2"},
	} {
		r.Chat(tt.user, tt.line)
		r.waitAnswer(tt.want)
	}

	// The channel asks rank 3 to ban: we say so instead of sending.
	perms := map[string]float64{"kick": 1.5, "mute": 1.5, "ban": 3}
	r.Send("setPermissions", &messages.SetPermissions{Perms: perms})
	r.Chat("Admin", "!ban alice")
	r.waitAnswer("I need rank 3 to ban here.")
	r.Chat("Admin", "!unban alice")
	actortest.CheckFor(t, plugintest.Wait, "the unban refused too", func() bool {
		n := 0
		for _, s := range r.Said() {
			if s.Msg == "I need rank 3 to ban here." {
				n++
			}
		}
		return n == 2
	})

	r.Sync("moderation")
	for _, l := range r.out.lines() {
		if len(l) > 0 && l[0] == '/' {
			t.Fatalf("a refused command was sent: %q (all: %q)", l, r.out.lines())
		}
	}
	if evs := r.out.sent(); len(evs) != 0 {
		t.Fatalf("events sent for refused commands: %+v", evs)
	}
}

// TestServerRefusalIsReported: an errorMsg after a moderation command is
// told to the moderator who asked and logged as refused.
func TestServerRefusalIsReported(t *testing.T) {
	t.Parallel()
	r := startRig(t, rigOptions{})
	r.standard()
	r.Chat("Mod", "!kick alice")
	r.waitChat("/kick alice", 1)
	// An unrelated error is not pinned on the kick.
	r.Send("errorMsg", &messages.ErrorMsg{Msg: "PM failed: carol isn't connected to this channel."})
	r.Send("errorMsg", &messages.ErrorMsg{Msg: "You do not have permission to kick alice"})
	r.waitPM("Mod", "The server refused to kick alice: You do not have permission to kick alice")
	r.waitLog("alice", "kick/refused")
}

// TestMalformedFramesIgnored: a setPermissions or banlist frame of the
// wrong shape is logged and ignored; the plugin keeps the permissions it
// had and still lifts the ban when a good banlist follows.
func TestMalformedFramesIgnored(t *testing.T) {
	t.Parallel()
	r := startRig(t, rigOptions{})
	r.standard()
	for _, bad := range []struct{ name, payload string }{
		{"setPermissions", `{"kick":"x"}`}, {"setPermissions", `[]`}, {"banlist", `[1]`}, {"banlist", `{}`},
	} {
		ev, _ := frame.DecodeEvent(plugintest.Channel, 0, time.Now(), bad.name, json.RawMessage(bad.payload))
		r.Send(bad.name, ev.Body)
	}
	r.Chat("Mod", "!kick alice")
	r.waitChat("/kick alice", 1)

	r.Chat("Admin", "!unban bob")
	waitEvent(t, r, "requestBanlist", 1)
	ev, _ := frame.DecodeEvent(plugintest.Channel, 0, time.Now(), "banlist", json.RawMessage(`[{"id":"x"}]`))
	r.Send("banlist", ev.Body)
	r.Send("banlist", &messages.Banlist{Bans: []messages.BanEntry{{ID: 5, IP: "*", Name: "bob"}}})
	waitEvent(t, r, "unban", 1)
}

// TestRosterOutlivesPluginRestart: after the plugin panics and its
// supervisor restarts it, it still knows who is here and its own rank (the
// server sends the userlist only on join), and the tempban it set is read
// back and lifted.
func TestRosterOutlivesPluginRestart(t *testing.T) {
	t.Parallel()
	r := startRig(t, rigOptions{})
	r.standard()
	r.Chat("Mod", "!tempban bob 1h spam")
	r.waitChat("/ban bob spam", 1)
	r.waitLog("bob", "tempban/done")

	// A body the decoder never produces (a typed nil) makes the plugin
	// panic.
	r.Send("errorMsg", (*messages.ErrorMsg)(nil))
	actortest.CheckFor(t, plugintest.Wait, "the plugin restarted", func() bool {
		info, ok := r.Sys.Tree().Find("plugins/moderation")
		return ok && info.Restarts == 1
	})
	r.waitDetail("the tempban read back", func(d detail) bool { return d.Loaded && d.Active == 1 && d.BotRank == 2 })
	r.Chat("Mod", "!kick alice")
	r.waitChat("/kick alice", 1)
}
