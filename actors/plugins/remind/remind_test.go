package remind_test

import (
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/clock"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/plugintest"
	"github.com/daz-bot/daz/actors/plugins/remind"
	"github.com/daz-bot/daz/messages"
)

var epoch = time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)

func specs(d pluginkit.Deps) []pluginkit.Spec {
	return []pluginkit.Spec{{Name: remind.Name, Props: remind.Props(d)}}
}

func start(t *testing.T, dbURL string, fake *clock.Fake) *plugintest.Harness {
	t.Helper()
	h := plugintest.Start(t, plugintest.Options{DatabaseURL: dbURL, Fake: fake}, specs)
	h.WaitRegistered("remind")
	h.Join(messages.User{Name: "alice", Rank: 1})
	return h
}

func TestParseDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"10m", 10 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"2d", 48 * time.Hour, true},
		{"1w1d", 8 * 24 * time.Hour, true},
		{"90s", 90 * time.Second, true},
		{"15", 15 * time.Minute, true},
		{"1H", time.Hour, true},
		{"", 0, false},
		{"m", 0, false},
		{"10", 10 * time.Minute, true},
		{"10x", 0, false},
		{"0m", 0, false},
		{"366d", 0, false},
		{"99999999999h", 0, false},
		{"-5m", 0, false},
	}
	for _, tt := range tests {
		got, err := remind.ParseDelay(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDelay(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestReminderFiresWhenDue(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(epoch)
	h := start(t, "", fake)
	h.Chat("alice", "!remind 10m take the tea out")
	h.WaitSaid("I'll remind you in 10m")
	fake.Advance(time.Minute) // past the command's cooldown
	h.PM("alice", "!remind 19m secret plan")
	h.WaitSaid("I'll remind you in 19m")
	fake.Advance(8 * time.Minute)
	fake.Advance(59 * time.Second)
	h.PM("alice", "!remind 1h marker")
	h.WaitSaid("I'll remind you in 1h")
	if n := len(h.Said()); n != 3 {
		t.Fatalf("something was said before the reminder was due: %+v", h.Said())
	}
	fake.Advance(time.Second)
	got := h.WaitSaid("take the tea out")
	if got.PM || got.Msg != "alice, reminder from 10m ago: take the tea out" {
		t.Fatalf("reminder %+v", got)
	}
	fake.Advance(10 * time.Minute)
	got = h.WaitSaid("secret plan")
	if !got.PM || got.To != "alice" {
		t.Fatalf("PM reminder %+v", got)
	}
}

// TestReminderSurvivesRestart: set by one actor system, due while nothing
// runs, delivered (marked late) by the next system on the same database.
func TestReminderSurvivesRestart(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	first := start(t, dbURL, clock.NewFake(epoch))
	first.Chat("alice", "!remind 10m call mum")
	first.WaitSaid("I'll remind you in 10m")
	first.Stop()

	later := clock.NewFake(epoch.Add(25 * time.Minute))
	second := start(t, dbURL, later)
	got := second.WaitSaid("call mum")
	if !strings.HasPrefix(got.Msg, "alice, reminder from 25m ago: call mum") || !strings.Contains(got.Msg, "late by 15m") {
		t.Fatalf("reminder after restart %q", got.Msg)
	}
	var pending int
	actortest.CheckFor(t, plugintest.Wait, "reminder marked delivered", func() bool {
		err := second.Pool.QueryRow(t.Context(),
			`SELECT count(*) FROM daz_remind_reminders WHERE delivered_at IS NULL`).Scan(&pending)
		return err == nil && pending == 0
	})
}

func TestReminderRejectsBadInput(t *testing.T) {
	t.Parallel()
	h := start(t, "", clock.NewFake(epoch))
	for i, text := range []string{"!remind", "!remind soon do it", "!remind 10m", "!remind 400d later"} {
		h.Fake.Advance(5 * time.Second)
		h.Chat("alice", text)
		h.WaitCount(i + 1)
	}
	said := h.Said()
	for _, s := range said {
		if !strings.HasPrefix(s.Msg, "Usage: !remind") {
			t.Fatalf("answer %q", s.Msg)
		}
	}
}
