package tell_test

import (
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/actors/plugins/tell"
	"github.com/daz-bot/daz/messages"
)

func specs(d pluginkit.Deps) []pluginkit.Spec {
	return []pluginkit.Spec{{Name: tell.Name, Props: tell.Props(d)}}
}

var epoch = time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)

// cooldown is more than !tell's per-user cooldown: tests step the fake
// clock by it before each command so the EventFilter routes them all.
const cooldown = 6 * time.Second

func start(t *testing.T, dbURL string) *plugintest.Harness {
	t.Helper()
	h := plugintest.Start(t, plugintest.Options{DatabaseURL: dbURL, Fake: clock.NewFake(epoch)}, specs)
	h.WaitRegistered("tell")
	h.Join(messages.User{Name: "alice", Rank: 1})
	return h
}

func TestTellIsDeliveredWhenTheRecipientSpeaks(t *testing.T) {
	t.Parallel()
	h := start(t, "")
	h.Chat("alice", "!tell Bob the pizza is here")
	h.WaitSaid("I'll tell Bob")
	h.Chat("carol", "unrelated chatter")
	h.Chat("bob", "hi all")
	got := h.WaitSaid("left you a message")
	if got.PM || !strings.HasPrefix(got.Msg, "bob, alice left you a message") || !strings.HasSuffix(got.Msg, ": the pizza is here") {
		t.Fatalf("delivery %+v", got)
	}
	// Delivered once: speaking again delivers nothing more.
	h.Chat("bob", "thanks")
	h.Fake.Advance(cooldown)
	h.Chat("alice", "!tell carol marker")
	h.WaitSaid("I'll tell carol")
	n := 0
	for _, s := range h.Said() {
		if strings.Contains(s.Msg, "left you a message") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d deliveries, want 1: %+v", n, h.Said())
	}
	var delivered int
	if err := h.Pool.QueryRow(t.Context(),
		`SELECT count(*) FROM daz_tell_messages WHERE to_user = 'Bob' AND delivered_at IS NOT NULL`).Scan(&delivered); err != nil {
		t.Fatal(err)
	}
	if delivered != 1 {
		t.Fatalf("%d rows marked delivered", delivered)
	}
}

func TestTellByPMIsDeliveredByPM(t *testing.T) {
	t.Parallel()
	h := start(t, "")
	h.PM("alice", "!tell bob a secret")
	if got := h.WaitSaid("I'll tell bob"); !got.PM || got.To != "alice" {
		t.Fatalf("confirmation %+v", got)
	}
	h.AddUser("bob", 1)
	got := h.WaitSaid("a secret")
	if !got.PM || got.To != "bob" {
		t.Fatalf("delivery %+v, want a PM to bob", got)
	}
}

func TestTellRejectsBadInput(t *testing.T) {
	t.Parallel()
	h := start(t, "")
	cases := []struct{ text, want string }{
		{"!tell", "Usage: !tell"},
		{"!tell bob", "Usage: !tell"},
		{"!tell b@d hello", "not a valid user name"},
		{"!tell ALICE hello", "tell yourself"},
		{"!tell bob " + strings.Repeat("x", 301), "too long"},
	}
	for i, c := range cases {
		h.Fake.Advance(cooldown)
		h.Chat("alice", c.text)
		if got := h.WaitCount(i + 1)[i]; !strings.Contains(got.Msg, c.want) {
			t.Fatalf("%q answered %q, want %q", c.text, got.Msg, c.want)
		}
	}
	for i := range 3 {
		h.Fake.Advance(cooldown)
		h.Chat("alice", "!tell bob note "+string(rune('a'+i)))
		h.WaitCount(len(cases) + i + 1)
	}
	h.Fake.Advance(cooldown)
	h.Chat("alice", "!tell bob one too many")
	h.WaitSaid("already have 3 messages waiting for bob")
}

// TestTellSurvivesRestart: the message is stored by one actor system and
// delivered by a new one on the same database.
func TestTellSurvivesRestart(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	first := start(t, dbURL)
	first.Chat("alice", "!tell dave see you after the restart")
	first.WaitSaid("I'll tell dave")
	first.Stop()

	second := start(t, dbURL)
	second.AddUser("Dave", 1)
	got := second.WaitSaid("see you after the restart")
	if !strings.HasPrefix(got.Msg, "Dave, alice left you a message") || !strings.Contains(got.Msg, "just now") {
		t.Fatalf("delivery %q", got.Msg)
	}
}
