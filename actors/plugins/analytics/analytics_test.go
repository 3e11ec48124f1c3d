package analytics_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/plugins/analytics"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/messages"
)

var epoch = time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)

type chat struct {
	*plugintest.Harness
	t *testing.T
}

func start(t *testing.T) *chat {
	t.Helper()
	h := plugintest.Start(t, plugintest.Options{Fake: clock.NewFake(epoch), LogEvents: true},
		func(d pluginkit.Deps) []pluginkit.Spec {
			return []pluginkit.Spec{{Name: analytics.Name, Props: analytics.Props(d)}}
		})
	h.WaitRegistered("seen", "stats", "top", "quote", "np", "history")
	h.Join(messages.User{Name: "alice", Rank: 1}, messages.User{Name: "bob", Rank: 1})
	return &chat{Harness: h, t: t}
}

// ask sends a command once every cooldown has passed and returns the answer.
func (c *chat) ask(user, text string) string {
	c.t.Helper()
	n := len(c.Said())
	c.Sync(analytics.Name)
	c.Fake.Advance(31 * time.Second)
	c.Chat(user, text)
	return c.WaitCount(n + 1)[n].Msg
}

// logged waits until the SQL writer has stored n chat lines.
func (c *chat) logged(n int) {
	c.t.Helper()
	actortest.CheckFor(c.t, plugintest.Wait, "chat lines in the log", func() bool {
		var got int
		err := c.Pool.QueryRow(c.t.Context(), `SELECT count(*) FROM daz_core_chat_log WHERE event_type = 'chatMsg'`).Scan(&got)
		return err == nil && got >= n
	})
}

func TestChatQuestions(t *testing.T) {
	t.Parallel()
	c := start(t)
	// Two days of history: alice is the chattiest, bob says one thing.
	for i := range 5 {
		c.Chat("alice", "alice line "+string(rune('a'+i)))
	}
	c.Chat("[server]", "alice joined (aliases: alice)")
	c.Fake.Advance(24 * time.Hour)
	c.Chat("bob", "bob was here")
	c.Chat("alice", "alice again")
	c.Fake.Advance(time.Hour)
	c.logged(8)

	tests := []struct {
		user, text, want string
		logged           int // chat lines the writer must have stored first
	}{
		{"carol", "!seen Bob", "bob was last seen 1h ago, saying: bob was here", 8},
		{"carol", "!seen nobody", "I have never seen nobody.", 0},
		{"bob", "!seen bob", "You're right here, bob.", 0},
		{"carol", "!stats alice", "alice: 6 messages, first 2026-06-01 (1d 1h ago), last 1h ", 0},
		{"carol", "!stats dave", "I have no messages from dave.", 0},
		{"carol", "!top", "Top chatters, last 30 days: 1. alice (6), 2. carol (", 13},
	}
	for _, tt := range tests {
		c.logged(tt.logged)
		if got := c.ask(tt.user, tt.text); !strings.HasPrefix(got, tt.want) {
			t.Fatalf("%s: %q answered\n%q, want\n%q", tt.user, tt.text, got, tt.want)
		}
	}
	// The roll-up kept up with lines said after the first count.
	c.Chat("alice", "one more")
	c.logged(15)
	if got := c.ask("carol", "!stats alice"); !strings.HasPrefix(got, "alice: 7 messages") {
		t.Fatalf("stats after one more line: %q", got)
	}
	for range 5 {
		got := c.ask("carol", "!quote alice")
		if !strings.HasPrefix(got, "<alice> alice ") && !strings.HasPrefix(got, "<alice> one more") {
			t.Fatalf("quote %q is not one of alice's lines", got)
		}
	}
	for range 5 {
		got := c.ask("carol", "!quote")
		if strings.Contains(got, "[server]") || strings.Contains(got, "> !") {
			t.Fatalf("quote %q: a server notice or a command", got)
		}
	}
}

func TestMediaQuestions(t *testing.T) {
	t.Parallel()
	c := start(t)
	if got := c.ask("alice", "!np"); got != "Nothing is playing that I know of." {
		t.Fatalf("np before any media: %q", got)
	}
	media := func(id, title string, secs, current float64) {
		c.Send("changeMedia", &messages.ChangeMedia{Media: messages.Media{ID: id, Title: title, Seconds: secs, Type: "yt"}, CurrentTime: current})
	}
	media("abc", "First Song", 200, -3)
	c.Sync(analytics.Name)
	c.Fake.Advance(4 * time.Minute)
	media("def", "Second Song", 3725, -3)
	c.Sync(analytics.Name)
	c.Fake.Advance(time.Minute)
	// A reconnect's burst repeats the current item mid-play: not a new play.
	media("def", "Second Song", 3725, 60)
	if got := c.ask("alice", "!np"); got != "Now playing: Second Song [1:02:05], started 1m 31s ago: https://youtu.be/def" {
		t.Fatalf("np: %q", got)
	}
	actortest.CheckFor(t, plugintest.Wait, "media recorded", func() bool {
		var n int
		return c.Pool.QueryRow(t.Context(), `SELECT count(*) FROM daz_analytics_media`).Scan(&n) == nil && n == 2
	})
	if got := c.ask("alice", "!history"); got != "Recently played: Second Song (2m 2s ago); First Song (6m 2s ago)" {
		t.Fatalf("history: %q", got)
	}
}

// TestRollupCatchesUpWithALongHistory: on a first start over a log longer
// than one roll-up chunk, answers come at once (marked partial) and the
// counts end up exact.
func TestRollupCatchesUpWithALongHistory(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	const rows = 2*analytics.RollupChunk + 10_000
	if _, err := pool.Exec(t.Context(), `INSERT INTO daz_core_chat_log (timestamp, channel, username, message, event_type)
SELECT $1::timestamptz - g * interval '1 second', 'testchan', 'user' || (g % 10), 'line ' || g, 'chatMsg'
FROM generate_series(1, $2::int) g`, epoch, rows); err != nil {
		t.Fatal(err)
	}
	h := plugintest.Start(t, plugintest.Options{Fake: clock.NewFake(epoch), DatabaseURL: dbURL},
		func(d pluginkit.Deps) []pluginkit.Spec {
			return []pluginkit.Spec{{Name: analytics.Name, Props: analytics.Props(d)}}
		})
	h.WaitRegistered("stats")
	h.Join()
	c := &chat{Harness: h, t: t}
	want := fmt.Sprintf("user3: %d messages", rows/10)
	for i := 0; ; i++ {
		got := c.ask(fmt.Sprintf("asker%d", i), "!stats user3")
		if strings.HasPrefix(got, want) && !strings.Contains(got, "still counting") {
			break
		}
		if i == 50 {
			t.Fatalf("after %d tries: %q, want %q", i, got, want)
		}
	}
}

// TestTopForgetsDaysThatLeftTheWindow: when the days go by, !top stops
// counting lines older than 30 days (the plugin moves its window totals).
func TestTopForgetsDaysThatLeftTheWindow(t *testing.T) {
	t.Parallel()
	c := start(t)
	for i := range 3 {
		c.Chat("alice", fmt.Sprintf("alice line %d", i))
	}
	c.Fake.Advance(20 * 24 * time.Hour)
	c.Chat("bob", "bob line 1")
	c.Chat("bob", "bob line 2")
	c.logged(5)
	if got := c.ask("carol", "!top"); !strings.HasPrefix(got, "Top chatters, last 30 days: 1. alice (3), 2. bob (2)") {
		t.Fatalf("top after 20 days: %q", got)
	}
	// Eleven days on, alice's day is 31 days old; carol's !top is still in.
	c.logged(6)
	c.Fake.Advance(11 * 24 * time.Hour)
	got := c.ask("dave", "!top")
	if !strings.HasPrefix(got, "Top chatters, last 30 days: 1. bob (2), 2. carol (1)") || strings.Contains(got, "alice") {
		t.Fatalf("top after 31 days: %q", got)
	}
}
