package sqlwriter

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/daz-bot/daz/messages"
)

func TestRecordColumnsPerEventType(t *testing.T) {
	t.Parallel()
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		event, payload string
		user, message  string // "-" means NULL
		serverTime     bool
		dedup          bool
	}{
		{"chatMsg", `{"username":"alice","msg":"&lt;hi&gt; <a href=\"x\">x</a>","meta":{},"time":1700000000123}`, "alice", "<hi> x", true, true},
		{"chatMsg", `{"username":"alice","msg":"no time","meta":{}}`, "alice", "no time", false, false},
		{"pm", `{"username":"alice","to":"bot","msg":"hey","meta":{},"time":1700000000123}`, "alice", "hey", true, false},
		{"addUser", `{"name":"bob","rank":1,"profile":{"image":"","text":""},"meta":{"afk":false,"muted":false}}`, "bob", "-", false, false},
		{"userLeave", `{"name":"bob"}`, "bob", "-", false, false},
		{"setUserRank", `{"name":"bob","rank":2}`, "bob", "-", false, false},
		{"setAFK", `{"name":"bob","afk":true}`, "bob", "-", false, false},
		{"login", `{"success":true,"name":"dazbot"}`, "dazbot", "-", false, false},
		{"login", `{"success":false,"error":"Invalid username/password combination"}`, "-", "Invalid username/password combination", false, false},
		{"kick", `{"reason":"Duplicate login"}`, "-", "Duplicate login", false, false},
		{"errorMsg", `{"msg":"You can't PM yourself!"}`, "-", "You can't PM yourself!", false, false},
		{"queue", `{"item":{"media":{"id":"x","title":"Song","seconds":1,"duration":"00:01","type":"cm"},"uid":5,"temp":true,"queueby":"owner1"},"after":4}`, "owner1", "Song", false, false},
		{"changeMedia", `{"id":"x","title":"Song","seconds":1,"duration":"00:01","type":"cm","currentTime":-3,"paused":true}`, "-", "Song", false, false},
		{"usercount", `3`, "-", "-", false, false},
		{"somethingNew", `{"x":1}`, "-", "-", false, false},
		{"chatMsg", `"not an object"`, "-", "-", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.event+" "+tt.payload, func(t *testing.T) {
			t.Parallel()
			ev := decoded(t, "chan", 4, received, tt.event, []byte(tt.payload))
			rec, sanitized := newRecord(ev, time.Time{})
			if sanitized {
				t.Errorf("clean event reported as sanitized")
			}
			if got := optString(rec.Username, rec.HasUsername); got != tt.user {
				t.Errorf("username = %q, want %q", got, tt.user)
			}
			if got := optString(rec.Message, rec.HasMessage); got != tt.message {
				t.Errorf("message = %q, want %q", got, tt.message)
			}
			wantTS := received
			if tt.serverTime {
				wantTS = time.UnixMilli(1700000000123)
			}
			if !rec.Timestamp.Equal(wantTS) || !rec.ReceivedAt.Equal(received) || rec.EventType != tt.event || rec.Channel != "chan" {
				t.Errorf("ts %v received %v type %q channel %q", rec.Timestamp, rec.ReceivedAt, rec.EventType, rec.Channel)
			}
			if rec.HasDedupKey != tt.dedup {
				t.Errorf("dedup key present = %v, want %v", rec.HasDedupKey, tt.dedup)
			}
			var meta map[string]any
			if err := json.Unmarshal(rec.Metadata, &meta); err != nil {
				t.Fatalf("metadata %s: %v", rec.Metadata, err)
			}
			if meta["seq"] != 4.0 || meta["received_at"] != "2026-01-02T03:04:05Z" || meta["payload"] == nil {
				t.Errorf("metadata %s", rec.Metadata)
			}
			_, fallback := ev.Body.(*messages.RawEvent)
			if (meta["raw_fallback"] == true) != fallback {
				t.Errorf("raw_fallback %v for body %T", meta["raw_fallback"], ev.Body)
			}
		})
	}
}

func optString(s string, ok bool) string {
	if !ok {
		return "-"
	}
	return s
}

func TestChatDedupKeyIdentifiesALine(t *testing.T) {
	t.Parallel()
	base := messages.ChatMsg{Username: "alice", Msg: "hi", Time: 1700000000123, Text: "hi"}
	key := chatDedupKey(&base)
	same := base
	same.Meta = json.RawMessage(`{"addClass":"x"}`) // meta is not part of the identity
	if chatDedupKey(&same) != key {
		t.Error("same line, different key")
	}
	for name, other := range map[string]messages.ChatMsg{
		"user":    {Username: "bob", Msg: "hi", Time: base.Time},
		"text":    {Username: "alice", Msg: "hi!", Time: base.Time},
		"time":    {Username: "alice", Msg: "hi", Time: base.Time + 1},
		"shifted": {Username: "alicehi", Msg: "", Time: base.Time},
	} {
		if chatDedupKey(&other) == key {
			t.Errorf("different %s, same key", name)
		}
	}
}

func TestNoReceiptTimeFallsBackToNow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 5, 5, 5, 5, 0, time.UTC)
	rec, _ := newRecord(&messages.Event{Channel: "c", Name: "usercount", Raw: json.RawMessage(`1`), Body: &messages.UserCount{Count: 1}}, now)
	if !rec.Timestamp.Equal(now) || !rec.ReceivedAt.Equal(now) {
		t.Fatalf("timestamps %v %v, want %v", rec.Timestamp, rec.ReceivedAt, now)
	}
}
