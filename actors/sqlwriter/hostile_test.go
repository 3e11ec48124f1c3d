package sqlwriter

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/daz-bot/daz/actors/internal/testpg"
)

func TestHostileInputsAreStoredAndNeverDropped(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	h := startWriter(t, Config{DatabaseURL: dbURL}, true)

	big := strings.Repeat("0123456789abcdé🙂", 100*1024/20)
	tests := []struct {
		name      string
		event     string
		payload   string // the raw frame payload, bytes exactly as received
		message   string // expected message column ("<NULL>" for none)
		sanitized bool   // the stored text had to be repaired
		stored    string // a text the stored payload must contain, if set
	}{
		{"sql injection", "chatMsg",
			`{"username":"bobby","msg":"'); DROP TABLE daz_core_chat_log; --","meta":{},"time":1}`,
			"'); DROP TABLE daz_core_chat_log; --", false, ""},
		{"sql injection in the name", "chatMsg",
			`{"username":"x'); DELETE FROM daz_core_chat_log; --","msg":"hi","meta":{},"time":2}`, "hi", false, ""},
		{"100 KB payload", "chatMsg",
			`{"username":"alice","msg":"` + big + `","meta":{},"time":3}`, big, false, ""},
		{"emoji", "chatMsg",
			`{"username":"alice","msg":"👨‍👩‍👧 🇯🇵 👍🏽","meta":{},"time":4}`, "👨‍👩‍👧 🇯🇵 👍🏽", false, ""},
		{"RTL and zero-width marks", "chatMsg",
			"{\"username\":\"alice\",\"msg\":\"\u202egnp.exe\u200f\u200b\",\"meta\":{},\"time\":5}", "\u202egnp.exe\u200f\u200b", false, ""},
		{"control characters", "chatMsg",
			`{"username":"alice","msg":"bell\u0007tab\t","meta":{},"time":6}`, "bell\atab\t", false, ""},
		{"escaped emoji surrogate pair", "chatMsg",
			`{"username":"alice","msg":"\ud83d\ude00","meta":{},"time":7}`, "😀", false, ""},
		{"invalid UTF-8", "chatMsg",
			"{\"username\":\"alice\",\"msg\":\"bad \xff\xfe bytes\",\"meta\":{},\"time\":8}", "bad \uFFFD\uFFFD bytes", true, ""},
		{"NUL escape in text", "chatMsg",
			`{"username":"alice","msg":"before\u0000after","meta":{},"time":9}`, "before\uFFFDafter", true, ""},
		{"NUL in a JSON key and value", "chatMsg",
			`{"username":"alice","msg":"meta","meta":{"k\u0000ey":"v\u0000al"},"time":10}`, "meta", true,
			`"meta": {"k�ey": "v�al"}`},
		{"NUL in the user name", "chatMsg",
			`{"username":"ali\u0000ce","msg":"who","meta":{},"time":11}`, "who", true, ""},
		{"lone surrogate", "chatMsg",
			`{"username":"alice","msg":"half \ud800 pair","meta":{},"time":12}`, "half \uFFFD pair", true, ""},
		{"raw NUL byte: not JSON at all", "chatMsg",
			"{\"username\":\"alice\",\"msg\":\"raw\x00nul\",\"time\":13}", "<NULL>", true,
			`"{\"username\":\"alice\",\"msg\":\"raw�nul\",\"time\":13}"`},
		{"hostile unknown event name", "evil\x00name\xff", `{"a":1}`, "<NULL>", true, ""},
		{"kick reason with NUL", "kick", `{"reason":"go\u0000away"}`, "go\uFFFDaway", true, ""},
	}
	for i, tt := range tests {
		h.send(decoded(t, fmt.Sprintf("hostile%02d", i), 1, testStart, tt.event, []byte(tt.payload)))
	}
	h.waitFor("every hostile event stored", 50*time.Millisecond, func() bool { return countRows(t, pool, "") == len(tests) })
	if got := countRows(t, pool, "channel LIKE 'hostile%'"); got != len(tests) {
		t.Fatalf("%d rows, want %d: the table was tampered with", got, len(tests))
	}

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var msg *string
			var meta []byte
			err := pool.QueryRow(context.Background(),
				// The view gives a big payload, stored once apart, back whole.
				`SELECT message, metadata || jsonb_build_object('payload', payload) FROM daz_core_chat_log_full WHERE channel = $1`,
				fmt.Sprintf("hostile%02d", i)).
				Scan(&msg, &meta)
			if err != nil {
				t.Fatalf("read row: %v", err)
			}
			if deref(msg) != tt.message {
				t.Errorf("message = %q, want %q", deref(msg), tt.message)
			}
			var m struct {
				Payload   json.RawMessage   `json:"payload"`
				Sanitized bool              `json:"sanitized"`
				RawB64    string            `json:"raw_b64"`
				Columns   map[string]string `json:"columns_b64"`
			}
			if err := json.Unmarshal(meta, &m); err != nil {
				t.Fatalf("metadata: %v", err)
			}
			if m.Sanitized != tt.sanitized {
				t.Errorf("metadata.sanitized = %v, want %v", m.Sanitized, tt.sanitized)
			}
			if !tt.sanitized {
				// Stored exactly: the payload means the same as what arrived.
				if !sameJSON(t, m.Payload, []byte(tt.payload)) {
					t.Errorf("payload changed:\n got %.200s\nwant %.200s", m.Payload, tt.payload)
				}
				return
			}
			if tt.stored != "" {
				var stored string
				if err := pool.QueryRow(context.Background(),
					`SELECT payload::text FROM daz_core_chat_log_full WHERE channel = $1`,
					fmt.Sprintf("hostile%02d", i)).Scan(&stored); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(stored, tt.stored) {
					t.Errorf("stored payload %s lacks %s", stored, tt.stored)
				}
			}
			if m.RawB64 == "" && len(m.Columns) == 0 {
				t.Fatalf("repaired row keeps no original: %s", meta)
			}
			if m.RawB64 != "" {
				orig, err := base64.StdEncoding.DecodeString(m.RawB64)
				if err != nil || string(orig) != tt.payload {
					t.Errorf("raw_b64 does not give back the payload: %q, %v", orig, err)
				}
			}
		})
	}

	// The writer is still the same instance, and the log still works.
	info, _ := h.sys.Tree().Find(h.id)
	if info.Restarts != 0 {
		t.Fatalf("writer restarted %d times (%s)", info.Restarts, info.LastFailure)
	}
	h.send(decoded(t, "after", 1, testStart, "chatMsg", chatPayload("alice", "still here", 99)))
	h.waitFor("writer still logging", 50*time.Millisecond, func() bool { return countRows(t, pool, "channel = 'after'") == 1 })
	var eventType, nameB64 string
	if err := pool.QueryRow(context.Background(),
		`SELECT event_type, metadata->'columns_b64'->>'event_type' FROM daz_core_chat_log WHERE channel = 'hostile13'`).
		Scan(&eventType, &nameB64); err != nil {
		t.Fatal(err)
	}
	name, err := base64.StdEncoding.DecodeString(nameB64)
	if eventType != "evil\uFFFDname\uFFFD" || err != nil || string(name) != "evil\x00name\xff" {
		t.Errorf("event_type %q, original %q (%v)", eventType, name, err)
	}
}

// sameJSON compares two JSON texts by meaning.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("unmarshal %q: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("unmarshal %q: %v", b, err)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}
