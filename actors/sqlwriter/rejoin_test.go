package sqlwriter

import (
	"context"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/messages"
)

// transcriptEvents decodes the server events one connection of a recorded
// transcript received, numbered from 1 as a fresh socket would number them.
func transcriptEvents(t testing.TB, name, conn, channel string, start time.Time) []*messages.Event {
	t.Helper()
	var out []*messages.Event
	for _, l := range transcript.ByConn(transcript.MustLoad(t, name), conn) {
		if l.Dir != transcript.DirIn {
			continue
		}
		p, err := frame.Parse([]byte(l.Frame))
		if err != nil || p.Type != frame.TypeEvent {
			continue
		}
		ev, _ := frame.EventFromPacket(channel, uint64(len(out)+1), start.Add(time.Duration(l.TMs)*time.Millisecond), &p)
		out = append(out, ev)
	}
	if len(out) == 0 {
		t.Fatalf("no events for %s in %s", conn, name)
	}
	return out
}

func TestRejoinDoesNotDuplicateChatButRefillsGaps(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	h := startWriter(t, Config{DatabaseURL: dbURL}, true)

	first := transcriptEvents(t, "chat_and_presence", "bot", "testchan", testStart)
	var chats, others int
	for _, ev := range first {
		if _, ok := ev.Body.(*messages.ChatMsg); ok {
			chats++
		} else {
			others++
		}
	}
	if chats < 10 {
		t.Fatalf("transcript has %d chat lines; the test needs the recorded conversation", chats)
	}
	for _, ev := range first {
		h.send(ev)
	}
	h.waitFor("first join logged", 50*time.Millisecond, func() bool { return countRows(t, pool, "") == len(first) })

	// The reconnect: the same socket history again, every chat line with
	// the same server time. Chat is known already; everything else is a
	// new event and is logged again.
	second := transcriptEvents(t, "chat_and_presence", "bot", "testchan", testStart.Add(time.Minute))
	for _, ev := range second {
		h.send(ev)
	}
	want := chats + 2*others
	h.waitFor("second join logged", 50*time.Millisecond, func() bool { return countRows(t, pool, "") == want })
	if got := countRows(t, pool, "event_type = 'chatMsg'"); got != chats {
		t.Fatalf("%d chat rows after rejoining, want %d (no duplicates)", got, chats)
	}

	// A third join whose backlog holds a line said while daz was away,
	// between two lines it already has, replayed twice.
	var last *messages.ChatMsg
	for _, ev := range first {
		if c, ok := ev.Body.(*messages.ChatMsg); ok {
			last = c
		}
	}
	missed := chatPayload("alice", "said while the bot was offline", last.Time-1)
	for round := 0; round < 2; round++ {
		backlog := []*messages.Event{
			decoded(t, "testchan", 1, testStart.Add(2*time.Minute), "chatMsg", missed),
			decoded(t, "testchan", 2, testStart.Add(2*time.Minute), "chatMsg",
				chatPayload(last.Username, last.Msg, last.Time)),
		}
		for _, ev := range backlog {
			h.send(ev)
		}
	}
	h.waitFor("backlog logged", 50*time.Millisecond, func() bool {
		return countRows(t, pool, "event_type = 'chatMsg'") == chats+1
	})
	h.waitFor("writer idle", 50*time.Millisecond, func() bool { return h.stats().Buffered == 0 })
	if got := countRows(t, pool, "message = 'said while the bot was offline'"); got != 1 {
		t.Fatalf("the line missed while offline is stored %d times, want 1", got)
	}
	if got := countRows(t, pool, ""); got != want+1 {
		t.Fatalf("%d rows in total, want %d", got, want+1)
	}
	var distinct int
	if err := pool.QueryRow(context.Background(),
		`SELECT count(DISTINCT (username, timestamp, metadata->>'msg_html')) FROM daz_core_chat_log WHERE event_type = 'chatMsg'`).
		Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	if distinct != chats+1 {
		t.Fatalf("%d distinct chat lines among %d rows", distinct, chats+1)
	}
}
