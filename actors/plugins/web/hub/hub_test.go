package hub_test

import (
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
)

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// A subscriber that stops reading is dropped; the publisher never waits and
// the other subscribers keep every event.
func TestSlowSubscriberIsDroppedNotWaitedFor(t *testing.T) {
	h := hub.New()
	slow := h.Subscribe("c", 2)
	fast := h.Subscribe("c", 100)
	done := make(chan struct{})
	go func() {
		for i := range 50 {
			h.Chat("c", "alice", "line", t0.Add(time.Duration(i)*time.Second), false)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("publishing blocked on a slow subscriber")
	}
	select {
	case <-slow.Dropped():
	default:
		t.Fatal("slow subscriber not dropped")
	}
	if got := len(fast.Events()); got != 50 {
		t.Fatalf("fast subscriber got %d events, want 50", got)
	}
	if h.DroppedTotal() != 1 || h.Subscribers("c") != 1 {
		t.Fatalf("dropped %d, subscribers %d", h.DroppedTotal(), h.Subscribers("c"))
	}
	var last uint64
	for range 50 {
		ev := <-fast.Events()
		if ev.Seq <= last {
			t.Fatalf("events out of order: %d after %d", ev.Seq, last)
		}
		last = ev.Seq
	}
}

func TestRosterFollowsEvents(t *testing.T) {
	h := hub.New()
	h.SetState("c", "online", t0)
	h.SetUsers("c", []hub.Member{{Name: "alice", Rank: 1}, {Name: "Mod", Rank: 2}, {Name: "ghost", Rank: 1, SMuted: true}}, t0)
	h.Join("c", hub.Member{Name: "bob", Rank: 0}, t0)
	h.Leave("c", "alice", t0)
	h.SetRank("c", "bob", 1.5, t0)
	h.Play("c", hub.NowPlaying{Title: "song", Type: "yt", ID: "x", Since: t0})

	pub := h.Snapshot("C", false)
	names := []string{}
	for _, m := range pub.Users {
		names = append(names, m.Name)
	}
	if got, want := names, []string{"Mod", "bob"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("public roster %v, want %v (rank order, shadow-muted hidden)", got, want)
	}
	if mod := h.Snapshot("c", true); len(mod.Users) != 3 {
		t.Fatalf("moderators see %d users, want 3", len(mod.Users))
	}
	if r, ok := h.Rank("c", "BOB"); !ok || r != 1.5 {
		t.Fatalf("rank of bob %v %v", r, ok)
	}
	if pub.NowPlaying == nil || pub.NowPlaying.Title != "song" || pub.State != "online" {
		t.Fatalf("snapshot %+v", pub)
	}
	h.SetState("c", "backing off", t0)
	if s := h.Snapshot("c", true); len(s.Users) != 0 || s.State != "backing off" {
		t.Fatalf("offline channel still lists %v (%s)", s.Users, s.State)
	}
}

func TestSayNeedsAPlugin(t *testing.T) {
	h := hub.New()
	if h.Say("c", "hi", "mod") {
		t.Fatal("say accepted with no plugin attached")
	}
	var got string
	h.SetSayer("c", func(text, by string) bool { got = by + ":" + text; return true })
	if !h.Say("C", "hi", "mod") || got != "mod:hi" {
		t.Fatalf("say not delivered: %q", got)
	}
}
