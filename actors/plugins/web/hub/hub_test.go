package hub_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/plugins/web/hub"
)

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// A subscriber that stops taking is dropped once it is more than its
// backlog behind; the publisher never waits, and the others keep every
// event in order.
func TestSlowSubscriberIsDroppedNotWaitedFor(t *testing.T) {
	h := hub.New()
	slow := h.Subscribe("c", 2)
	fast := h.Subscribe("c", 100)
	ready := fast.Ready()
	select {
	case <-ready:
		t.Fatal("ready before any event")
	default:
	}
	var got []*hub.Event
	for i := range 50 {
		h.Chat("c", "alice", "line", t0.Add(time.Duration(i)*time.Second), false)
		if i%10 == 9 {
			var ok bool
			if got, ok = fast.Take(got); !ok {
				t.Fatal("fast subscriber dropped")
			}
		}
	}
	select {
	case <-ready:
	default:
		t.Fatal("Ready not closed by an event")
	}
	if evs, ok := slow.Take(nil); ok || len(evs) != 0 {
		t.Fatalf("slow subscriber took %d events, ok %v", len(evs), ok)
	}
	select {
	case <-slow.Dropped():
	default:
		t.Fatal("slow subscriber not dropped")
	}
	if len(got) != 50 {
		t.Fatalf("fast subscriber got %d events, want 50", len(got))
	}
	if h.DroppedTotal() != 1 || h.Subscribers("c") != 1 {
		t.Fatalf("dropped %d, subscribers %d", h.DroppedTotal(), h.Subscribers("c"))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Fatalf("events out of order: %d after %d", got[i].Seq, got[i-1].Seq)
		}
	}
	// The backlog is a ring: a subscriber a whole backlog behind but not
	// more still gets every event.
	edge := h.Subscribe("c", hub.Backlog)
	for range hub.Backlog {
		h.Chat("c", "alice", "line", t0, false)
	}
	if evs, ok := edge.Take(nil); !ok || len(evs) != hub.Backlog || evs[0].Seq+hub.Backlog-1 != evs[len(evs)-1].Seq {
		t.Fatalf("a full backlog: %d events, ok %v", len(evs), ok)
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

// An event is encoded once, as a whole server-sent event, and every
// stream gets the same one.
func TestEventEncodedOnceForAllStreams(t *testing.T) {
	h := hub.New()
	a, b := h.Subscribe("c", 4), h.Subscribe("c", 4)
	h.Chat("c", "alice", `say "hi" <b>`, t0, false)
	ta, _ := a.Take(nil)
	tb, _ := b.Take(nil)
	if len(ta) != 1 || len(tb) != 1 {
		t.Fatalf("took %d and %d events", len(ta), len(tb))
	}
	ea, eb := ta[0], tb[0]
	if ea != eb {
		t.Fatal("each stream got its own copy of the event")
	}
	want := "id: " + strconv.FormatUint(ea.Seq, 10) + "\nevent: chat\ndata: "
	frame := string(ea.Frame)
	if !strings.HasPrefix(frame, want) || !strings.HasSuffix(frame, "\n\n") || strings.Count(frame, "\n") != 4 {
		t.Fatalf("frame %q", frame)
	}
	var back hub.Event
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(frame, want), "\n\n")), &back); err != nil ||
		back.Text != `say "hi" <b>` || back.User != "alice" || back.Seq != ea.Seq {
		t.Fatalf("frame data %q: %+v %v", frame, back, err)
	}
}
