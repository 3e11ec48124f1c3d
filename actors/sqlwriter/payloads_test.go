package sqlwriter

import (
	"context"
	"testing"

	"github.com/daz-bot/daz/actors/connection/frame"
	"github.com/daz-bot/daz/actors/internal/testpg"
	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/messages"
)

// joinBurst decodes the events the bot of big_channel.jsonl received up to
// the end of its join burst: two 733 KB playlists among them.
func joinBurst(t *testing.T, channel string) []*messages.Event {
	t.Helper()
	var out []*messages.Event
	var seq uint64
	for _, l := range transcript.ByConn(transcript.MustLoad(t, "big_channel"), "bot") {
		if l.Dir != transcript.DirIn {
			continue
		}
		p, err := frame.Parse([]byte(l.Frame))
		if err != nil || p.Type != frame.TypeEvent {
			continue
		}
		seq++
		ev, _ := frame.EventFromPacket(channel, seq, testStart, &p)
		out = append(out, ev)
		if p.Name == "setUserRank" {
			return out
		}
	}
	t.Fatal("no end of the join burst in big_channel")
	return nil
}

// The playlist, sent twice per join and again on the next join, is stored
// once; every row keeps its place, and daz_core_chat_log_full gives each
// its whole payload, identical to what the server sent.
func TestBigPayloadsAreStoredOnceAndReadWhole(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	h := startWriter(t, Config{DatabaseURL: dbURL}, false)
	first, second := joinBurst(t, "join1"), joinBurst(t, "join2")
	playlists, bigRows := 0, 0
	distinct := map[string]bool{}
	for _, ev := range first {
		if ev.Name == "playlist" {
			playlists++
		}
		if len(ev.Raw) >= sharedPayloadBytes {
			bigRows++
			distinct[string(ev.Raw)] = true
		}
		h.send(ev)
	}
	if playlists != 2 || len(distinct) >= bigRows {
		t.Fatalf("the join burst has %d playlists, %d big payloads of which %d distinct; want 2 playlists sent twice",
			playlists, bigRows, len(distinct))
	}
	for _, ev := range second {
		h.send(ev)
	}
	total := len(first) + len(second)
	h.waitFor("both bursts written", 0, func() bool { return countRows(t, pool, "") == total })

	ctx := context.Background()
	var stored int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM daz_core_payload`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != len(distinct) {
		t.Errorf("%d shared payloads stored, want %d (the playlist and the userlist, once each)", stored, len(distinct))
	}
	if n := countRows(t, pool, `metadata ? 'payload_sha256'`); n != 2*bigRows {
		t.Errorf("%d rows name a shared payload, want %d", n, 2*bigRows)
	}
	if n := countRows(t, pool, `event_type = 'playlist' AND metadata ? 'payload'`); n != 0 {
		t.Errorf("%d playlist rows still hold a copy of the payload", n)
	}

	// Every row of the view has exactly the payload the server sent, and
	// the rest of the metadata (seq) of its own row.
	for _, evs := range [][]*messages.Event{first, second} {
		for _, ev := range evs {
			var same, seqOK bool
			err := pool.QueryRow(ctx, `SELECT payload = $3::jsonb, (metadata->>'seq')::bigint = $4
				FROM daz_core_chat_log_full WHERE channel = $1 AND (metadata->>'seq')::bigint = $2`,
				ev.Channel, int64(ev.Seq), []byte(ev.Raw), int64(ev.Seq)).Scan(&same, &seqOK)
			if err != nil {
				t.Fatalf("%s #%d %s: %v", ev.Channel, ev.Seq, ev.Name, err)
			}
			if !same || !seqOK {
				t.Fatalf("%s #%d %s: the view's payload differs from the server's", ev.Channel, ev.Seq, ev.Name)
			}
		}
	}
}

func TestSplitPayloadKeepsSmallAndForeignMetadata(t *testing.T) {
	t.Parallel()
	big := make([]byte, 0, sharedPayloadBytes+16)
	big = append(big, '"')
	for len(big) < sharedPayloadBytes+8 {
		big = append(big, 'x')
	}
	big = append(big, '"')
	for _, tc := range []struct {
		name  string
		meta  string
		split bool
	}{
		{"small payload", `{"payload":{"a":1},"seq":1}`, false},
		{"big payload", `{"payload":` + string(big) + `,"seq":1}`, true},
		{"big but not first", `{"seq":1,"payload":` + string(big) + `}`, false},
		{"big other field", `{"quarantined":true,"record_b64":` + string(big) + `}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, named, ok := splitPayload([]byte(tc.meta))
			if ok != tc.split {
				t.Fatalf("split = %v, want %v", ok, tc.split)
			}
			if ok && (string(p.json) != string(big) || string(named[len(named)-9:]) != `,"seq":1}`) {
				t.Fatalf("split into %d bytes and %q", len(p.json), named)
			}
		})
	}
}
