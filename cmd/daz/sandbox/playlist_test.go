package sandbox

import (
	"strings"
	"testing"
	"time"
)

func queueReq(c *testClient, id, typ string, temp bool) {
	c.emit("queue", map[string]any{"id": id, "type": typ, "pos": "end", "temp": temp})
}

func TestPlaylistQueuePlayAdvanceDelete(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := startServer(t, Options{Clock: clock, MediaUpdateInterval: -1})
	owner, alice := dial(t, s), dial(t, s)
	owner.join("sandbox")
	owner.login("owner", "owner")
	alice.join("sandbox")
	alice.login("alice", "alice")

	const first = "http://media.example/v/first.json"
	queueReq(owner, first, "cm", true)
	wantItem := `{"item":{"media":{"id":"` + first + `","title":"first","seconds":180,"duration":"03:00","type":"cm",` +
		`"meta":{}},"uid":0,"temp":true,"queueby":"owner"},"after":"prepend"}`
	for _, c := range []*testClient{owner, alice} {
		if got := string(c.takeEvent("queue")); got != wantItem {
			t.Fatalf("queue\n got %s\nwant %s", got, wantItem)
		}
		if got := string(c.takeEvent("setPlaylistMeta")); got != `{"count":1,"rawTime":180,"time":"03:00"}` {
			t.Fatalf("setPlaylistMeta %s", got)
		}
		if got := string(c.takeEvent("setCurrent")); got != "0" {
			t.Fatalf("setCurrent %s", got)
		}
		if got := string(c.takeEvent("changeMedia")); !strings.Contains(got, `"currentTime":-3,"paused":true`) {
			t.Fatalf("changeMedia %s, want the 3 s lead-in", got)
		}
		c.takeEvent("voteskip")
	}

	// Refusals: a duplicate and an unsupported type answer queueFail; a
	// user below playlistadd (1.5) gets no reply at all.
	queueReq(owner, first, "cm", true)
	if got := string(owner.takeEvent("queueFail")); got != `{"msg":"This item is already on the playlist","link":"`+first+`","id":"`+first+`"}` {
		t.Fatalf("duplicate: %s", got)
	}
	queueReq(owner, "/srv/movie.mp4", "fi", true)
	if got := string(owner.takeEvent("queueFail")); !strings.Contains(got, "Raw file playback is not enabled on this server") {
		t.Fatalf("raw file: %s", got)
	}
	queueReq(alice, "http://media.example/v/alice.json", "cm", true)
	say(alice, "after my queue")
	alice.take("alice's line", func(f string) bool { return strings.Contains(f, "after my queue") })
	for _, f := range alice.frames() {
		if name := eventName(f); name == "queueFail" || (name == "queue" && strings.Contains(f, "alice.json")) {
			t.Fatalf("a rank-1 queue was answered: %s", f)
		}
	}

	const second = "http://media.example/v/second.json"
	queueReq(owner, second, "cm", false)
	if got := string(alice.takeEvent("queue")); !strings.Contains(got, `"uid":1,"temp":false`) || !strings.HasSuffix(got, `"after":0}`) {
		t.Fatalf("second queue %s", got)
	}
	// mediaUpdate reports the playhead on each tick.
	clock.Advance(5 * time.Second)
	s.MediaTick()
	if got := string(alice.takeEvent("mediaUpdate")); got != `{"currentTime":2,"paused":false}` {
		t.Fatalf("mediaUpdate %s", got)
	}

	// A late joiner sees the playlist and what is playing, before userlist.
	late := dial(t, s)
	late.handshake()
	late.emit("joinChannel", map[string]string{"name": "sandbox"})
	var order []string
	late.take("the burst", func(f string) bool {
		switch name := eventName(f); name {
		case "playlist", "setCurrent", "changeMedia", "userlist":
			order = append(order, name)
			return name == "userlist"
		}
		return false
	})
	if strings.Join(order, ",") != "playlist,setCurrent,setCurrent,changeMedia,userlist" {
		t.Fatalf("burst order %v", order)
	}

	// The temp item ends: it is deleted and the next one starts.
	clock.Advance(180 * time.Second)
	s.MediaTick()
	if got := string(alice.takeEvent("delete")); got != `{"uid":0}` {
		t.Fatalf("delete after the temp item ended: %s", got)
	}
	if got := string(alice.takeEvent("setCurrent")); got != "1" {
		t.Fatalf("setCurrent after advance: %s", got)
	}
	// playNext and delete by uid.
	owner.emit("delete", 1)
	if got := string(alice.takeEvent("delete")); got != `{"uid":1}` {
		t.Fatalf("delete 1: %s", got)
	}
	if got := string(alice.takeEvent("setPlaylistMeta")); got != `{"count":0,"rawTime":0,"time":"00:00"}` {
		t.Fatalf("meta after emptying: %s", got)
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for secs, want := range map[int]string{0: "00:00", 418: "06:58", 7410: "02:03:30", 3072474: "853:27:54"} {
		if got := formatDuration(secs); got != want {
			t.Errorf("formatDuration(%d) = %q, want %q", secs, got, want)
		}
	}
}
