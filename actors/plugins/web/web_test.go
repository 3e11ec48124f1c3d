package web_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/actors/plugins/web"
	"github.com/daz-bot/daz/actors/plugins/web/hub"
	"github.com/daz-bot/daz/messages"
)

func start(t *testing.T) (*plugintest.Harness, *hub.Hub) {
	t.Helper()
	hb := hub.New()
	h := plugintest.Start(t, plugintest.Options{Deps: func(d *pluginkit.Deps) { d.Web = hb }},
		func(d pluginkit.Deps) []pluginkit.Spec {
			return []pluginkit.Spec{{Name: web.Name, Props: web.Props(d)}}
		})
	h.WaitPluginState(web.Name, func(st pluginkit.State) bool { return st.Status == pluginkit.StatusRunning })
	return h, hb
}

// Live events reach the hub; PMs never do; whispers and shadow-muted lines
// are marked hidden; a web say goes out through the outbound queue.
func TestPluginFeedsHub(t *testing.T) {
	h, hb := start(t)
	sub := hb.Subscribe(plugintest.Channel, 100)
	h.Join(messages.User{Name: "alice", Rank: 1}, messages.User{Name: "Mod", Rank: 2})
	actortest.CheckFor(t, 5*time.Second, "roster of three", func() bool { return len(hb.Snapshot(plugintest.Channel, false).Users) == 3 })

	h.AddUser("bob", 0)
	h.PM("alice", "secret pm text")
	h.Chat("alice", "hello <b>world</b>")
	h.Send("chatMsg", &messages.ChatMsg{Username: "[server]", Msg: "alice joined (aliases: alice)", Text: "alice joined (aliases: alice)",
		Meta: json.RawMessage(`{"addClass":"server-whisper","addClassToNameAndTimestamp":true}`), Time: time.Now().UnixMilli()})
	h.Send("chatMsg", &messages.ChatMsg{Username: "ghost", Msg: "boo", Text: "boo", Meta: json.RawMessage(`{"shadow":true}`), Time: time.Now().UnixMilli()})
	h.Send("setUserRank", &messages.SetUserRank{Name: "bob", Rank: 2})
	h.Send("changeMedia", &messages.ChangeMedia{Media: messages.Media{ID: "abc", Title: "A song", Type: "yt", Seconds: 61}})
	h.UserLeave("alice")

	var got []hub.Event
	actortest.CheckFor(t, 5*time.Second, "seven events", func() bool {
		evs, _ := sub.Take(nil)
		for _, ev := range evs {
			got = append(got, *ev)
		}
		return len(got) >= 7
	})
	kinds := ""
	for _, ev := range got {
		kinds += ev.Kind + " "
		if ev.Text == "secret pm text" {
			t.Fatal("a PM reached the hub")
		}
		if ev.Kind == hub.KindChat && (ev.User == "[server]" || ev.User == "ghost") != ev.Hidden {
			t.Errorf("line of %s hidden=%v", ev.User, ev.Hidden)
		}
	}
	if want := "join chat chat chat rank media leave "; kinds != want {
		t.Fatalf("kinds %q, want %q", kinds, want)
	}
	snap := hb.Snapshot(plugintest.Channel, false)
	if snap.NowPlaying == nil || snap.NowPlaying.Title != "A song" {
		t.Fatalf("now playing %+v", snap.NowPlaying)
	}
	if r, ok := hb.Rank(plugintest.Channel, "bob"); !ok || r != 2 {
		t.Fatalf("bob's rank %v %v", r, ok)
	}

	if !hb.Say(plugintest.Channel, "/kick everyone", "Mod") {
		t.Fatal("say refused")
	}
	said := h.WaitCount(1)
	if said[0].PM || said[0].Msg == "/kick everyone" {
		t.Fatalf("web say went out as %+v", said[0])
	}
}

// !web from a moderator is answered by PM with the link the web server
// mints; in public chat the link itself is never said.
func TestWebCommandPMsASignInLink(t *testing.T) {
	h, hb := start(t)
	h.WaitRegistered("web")
	var mu sync.Mutex
	var asked []string
	hb.SetLoginIssuer(func(channel, user string) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, channel+"/"+user)
		return "http://web.test/login?t=secret-" + user, true
	})
	h.Join(messages.User{Name: "Mod", Rank: 2}, messages.User{Name: "Admin", Rank: 3}, messages.User{Name: "alice", Rank: 1})
	h.PM("Mod", "!web")
	said := h.WaitSaid("Your sign-in link (works once, for 5 minutes): http://web.test/login?t=secret-Mod")
	if !said.PM || said.To != "Mod" {
		t.Fatalf("link sent as %+v", said)
	}
	h.Chat("Admin", "!web")
	h.WaitCount(3)
	for _, s := range h.Said() {
		if !s.PM && strings.Contains(s.Msg, "login?t=") {
			t.Fatalf("link said in public: %+v", s)
		}
	}
	h.PM("alice", "!web")
	h.Sync(web.Name)
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 2 {
		t.Fatalf("links minted for %v (a rank-1 user must get none)", asked)
	}
}

// The plugin folds logged chat into the hourly counts every RollupEvery,
// through the SQL writer.
func TestPluginRollsUpHourlyCounts(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC))
	hb := hub.New()
	h := plugintest.Start(t, plugintest.Options{Fake: fake, LogEvents: true, Deps: func(d *pluginkit.Deps) { d.Web = hb }},
		func(d pluginkit.Deps) []pluginkit.Spec {
			return []pluginkit.Spec{{Name: web.Name, Props: web.Props(d)}}
		})
	h.WaitPluginState(web.Name, func(st pluginkit.State) bool { return st.Status == pluginkit.StatusRunning })
	h.Join(messages.User{Name: "alice", Rank: 1})
	h.Chat("alice", "one")
	h.Chat("alice", "two")
	h.Send("chatMsg", &messages.ChatMsg{Username: "[server]", Msg: "x", Text: "x", Time: fake.Now().UnixMilli()})
	count := func(q string) int {
		var n int
		if err := h.Pool.QueryRow(t.Context(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	actortest.CheckFor(t, 10*time.Second, "three logged lines", func() bool {
		return count(`SELECT count(*) FROM daz_core_chat_log WHERE event_type = 'chatMsg'`) == 3
	})
	actortest.CheckFor(t, 10*time.Second, "a roll-up position", func() bool {
		return count(`SELECT count(*) FROM daz_web_rollup_state`) == 1
	})
	actortest.CheckFor(t, 10*time.Second, "the hourly count", func() bool {
		fake.Advance(web.RollupEvery)
		return count(`SELECT coalesce(sum(messages), 0) FROM daz_web_chat_hourly WHERE hour = '2026-12-01 10:00Z'`) == 2
	})
}
