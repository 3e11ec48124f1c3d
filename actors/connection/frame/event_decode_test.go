package frame

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/daz-bot/daz/cmd/daz/sandbox/transcript"
	"github.com/daz-bot/daz/messages"
)

// Every server event in the recordings must decode to its typed body, and
// the body must agree with what the frame says.
func TestDecodeEveryRecordedEvent(t *testing.T) {
	received := time.Unix(1795718582, 0)
	facts := newRecordedFacts()
	for _, r := range recordedFrames(t, transcript.DirIn) {
		p, err := Parse([]byte(r.frame))
		if err != nil || p.Type != TypeEvent {
			continue
		}
		ev, err := EventFromPacket("testchan", 7, received, &p)
		if err != nil {
			t.Errorf("%s: %s: %v", r, p.Name, err)
			continue
		}
		if ev.Channel != "testchan" || ev.Seq != 7 || !ev.Received.Equal(received) || ev.Name != p.Name {
			t.Errorf("%s: envelope %+v", r, ev)
		}
		if string(ev.Raw) != string(p.Payload()) || ev.Topic() != "cytube.event."+p.Name {
			t.Errorf("%s: raw %q / topic %q", r, ev.Raw, ev.Topic())
		}
		if _, raw := ev.Body.(*messages.RawEvent); raw {
			t.Errorf("%s: %s decoded to a RawEvent", r, p.Name)
			continue
		}
		var generic any
		if len(ev.Raw) > 0 {
			if err := json.Unmarshal(ev.Raw, &generic); err != nil {
				t.Fatalf("%s: %v", r, err)
			}
		}
		checkBodyAgainstJSON(t, r, ev, generic)
		facts.add(ev)
	}
	facts.check(t)
}

// checkBodyAgainstJSON compares the typed body's key fields with a generic
// decoding of the same payload.
func checkBodyAgainstJSON(t *testing.T, r recorded, ev *messages.Event, g any) {
	t.Helper()
	obj, _ := g.(map[string]any)
	str := func(k string) string { s, _ := obj[k].(string); return s }
	num := func(k string) float64 { n, _ := obj[k].(float64); return n }
	flag := func(k string) bool { b, _ := obj[k].(bool); return b }
	bad := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: %s: "+format, append([]any{r, ev.Name}, args...)...)
	}

	switch b := ev.Body.(type) {
	case *messages.ChatMsg:
		if b.Username == "" || b.Username != str("username") || b.Msg != str("msg") || b.Time <= 0 || float64(b.Time) != num("time") {
			bad("%+v", b)
		}
		if ts, ok := ev.ServerTime(); !ok || ts.UnixMilli() != b.Time {
			bad("server time %v %v", ts, ok)
		}
		if b.Msg != "" && b.Text == "" {
			bad("no plain text for %q", b.Msg)
		}
	case *messages.Pm:
		if b.Username != str("username") || b.To != str("to") || b.To == "" || b.Msg != str("msg") || b.Time <= 0 || b.Text == "" {
			bad("%+v", b)
		}
	case *messages.AddUser:
		if b.Name == "" || b.Name != str("name") || b.Rank != num("rank") {
			bad("%+v", b)
		}
	case *messages.UserLeave:
		if b.Name == "" || b.Name != str("name") {
			bad("%+v", b)
		}
	case *messages.UserList:
		list := g.([]any)
		if len(b.Users) != len(list) {
			bad("%d users, frame has %d", len(b.Users), len(list))
		}
		for i, u := range b.Users {
			m := list[i].(map[string]any)
			meta := m["meta"].(map[string]any)
			if u.Name != m["name"] || u.Rank != m["rank"] || u.Meta.AFK != meta["afk"] || u.Meta.Muted != meta["muted"] {
				bad("user %d = %+v, frame %v", i, u, m)
			}
		}
	case *messages.SetUserRank:
		if b.Name == "" || b.Name != str("name") || b.Rank != num("rank") {
			bad("%+v", b)
		}
	case *messages.Rank:
		if b.Rank != g.(float64) {
			bad("%v", b.Rank)
		}
	case *messages.Login:
		if b.Success != flag("success") || b.Name != str("name") || b.Guest != flag("guest") || b.Error != str("error") ||
			(b.Success && b.Name == "") || (!b.Success && b.Error == "") {
			bad("%+v", b)
		}
	case *messages.Kick:
		if _, ok := obj["reason"]; !ok || b.Reason != str("reason") {
			bad("%+v", b)
		}
	case *messages.Cooldown:
		if float64(b.Millis) != g.(float64) || b.Millis <= 0 {
			bad("%+v", b)
		}
	case *messages.NoFlood:
		if b.Action != str("action") || b.Msg == "" || b.Msg != str("msg") {
			bad("%+v", b)
		}
	case *messages.ErrorMsg:
		if b.Msg == "" || b.Msg != str("msg") {
			bad("%+v", b)
		}
	case *messages.ChangeMedia:
		if b.ID == "" || b.ID != str("id") || b.Title != str("title") || b.Seconds != num("seconds") || b.CurrentTime != num("currentTime") {
			bad("%+v", b)
		}
	case *messages.MediaUpdate:
		if b.CurrentTime <= 0 || b.CurrentTime != num("currentTime") || b.Paused != flag("paused") {
			bad("%+v", b)
		}
	case *messages.Playlist:
		list := g.([]any)
		items, err := b.Items()
		if err != nil || len(items) != len(list) {
			bad("%d items (%v), frame has %d", len(items), err, len(list))
		}
		for i, it := range items {
			m := list[i].(map[string]any)
			media := m["media"].(map[string]any)
			if float64(it.UID) != m["uid"] || it.Media.Title != media["title"] || it.Media.Seconds != media["seconds"] || it.QueueBy != m["queueby"] {
				bad("item %d = %+v", i, it)
			}
		}
	case *messages.SetCurrent:
		if float64(b.UID) != g.(float64) {
			bad("%+v", b)
		}
	case *messages.SetPlaylistMeta:
		if float64(b.Count) != num("count") || b.RawTime != num("rawTime") || b.Time == "" || b.Time != str("time") {
			bad("%+v", b)
		}
	case *messages.SetPlaylistLocked:
		if b.Locked != g.(bool) {
			bad("%+v", b)
		}
	case *messages.ChannelOpts:
		params := obj["chat_antiflood_params"].(map[string]any)
		if b.ChatAntiflood != flag("chat_antiflood") || b.PageTitle != str("pagetitle") || b.ChatAntifloodParams.Burst != params["burst"] ||
			b.ChatAntifloodParams.Sustained != params["sustained"] || len(b.Password) == 0 {
			bad("%+v", b)
		}
	case *messages.SetPermissions:
		if len(b.Perms) != len(obj) || b.Perms["chat"] != num("chat") || b.Perms["kick"] != num("kick") {
			bad("%+v", b)
		}
	case *messages.SetAFK:
		if b.Name == "" || b.Name != str("name") || b.AFK != flag("afk") {
			bad("%+v", b)
		}
	case *messages.SetUserMeta:
		meta := obj["meta"].(map[string]any)
		if b.Name == "" || b.Name != str("name") || b.Meta.AFK != meta["afk"] || b.Meta.Muted != meta["muted"] {
			bad("%+v", b)
		}
	case *messages.UserCount:
		if b.Count <= 0 || float64(b.Count) != g.(float64) {
			bad("%+v", b)
		}
	case *messages.SetMotd:
		if b.HTML != g.(string) {
			bad("%+v", b)
		}
	case *messages.NeedPassword:
		if b.Wrong != g.(bool) {
			bad("%+v", b)
		}
	case *messages.EmoteList:
		if _, ok := g.([]any); !ok || len(b.Emotes) == 0 {
			bad("%+v", b)
		}
	case *messages.DrinkCount:
		if float64(b.Count) != g.(float64) {
			bad("%+v", b)
		}
	case *messages.ChannelCSSJS:
		if b.CSSHash == "" || b.CSSHash != str("cssHash") || b.JSHash != str("jsHash") {
			bad("%+v", b)
		}
	case *messages.ListPlaylists:
		if _, ok := g.([]any); !ok || len(b.Playlists) == 0 {
			bad("%+v", b)
		}
	case *messages.Banlist:
		list := g.([]any)
		if len(b.Bans) != len(list) {
			bad("%+v", b)
		}
		for i, ban := range b.Bans {
			m := list[i].(map[string]any)
			if float64(ban.ID) != m["id"] || ban.Name != m["name"] || ban.Reason != m["reason"] || ban.BannedBy != m["bannedby"] || ban.IP != m["ip"] {
				bad("ban %d = %+v", i, ban)
			}
		}
	case *messages.BanlistRemove:
		if b.ID == 0 || float64(b.ID) != num("id") || b.Name != str("name") {
			bad("%+v", b)
		}
	case *messages.ChannelRanks:
		list := g.([]any)
		if len(b.Ranks) != len(list) {
			bad("%+v", b)
		}
		for i, cr := range b.Ranks {
			m := list[i].(map[string]any)
			if cr.Name != m["name"] || cr.Rank != m["rank"] || cr.Channel != m["channel"] {
				bad("rank %d = %+v", i, cr)
			}
		}
	case *messages.CancelNeedPassword, *messages.ChannelNotRegistered, *messages.ClearVoteskipVote:
		if g != nil {
			bad("payload %v on a payload-less event", g)
		}
	default:
		bad("no check for body %T", ev.Body)
	}
}

// recordedFacts gathers values across all recordings that the README
// documents, so the decoder is checked against the documented protocol and
// not only against itself.
type recordedFacts struct {
	cooldowns   map[int64]bool
	kicks       map[string]bool
	loginErrors map[string]bool
	ranks       map[float64]bool
	guestLogins map[string]bool
	chatTexts   map[string]bool
	playlistLen map[int]bool
	userlistLen map[int]bool
}

func newRecordedFacts() *recordedFacts {
	return &recordedFacts{
		cooldowns: map[int64]bool{}, kicks: map[string]bool{}, loginErrors: map[string]bool{}, ranks: map[float64]bool{},
		guestLogins: map[string]bool{}, chatTexts: map[string]bool{}, playlistLen: map[int]bool{}, userlistLen: map[int]bool{},
	}
}

func (f *recordedFacts) add(ev *messages.Event) {
	switch b := ev.Body.(type) {
	case *messages.Cooldown:
		f.cooldowns[b.Millis] = true
	case *messages.Kick:
		f.kicks[b.Reason] = true
	case *messages.Login:
		if b.Error != "" {
			f.loginErrors[b.Error] = true
		}
		if b.Guest {
			f.guestLogins[b.Name] = true
		}
	case *messages.Rank:
		f.ranks[b.Rank] = true
	case *messages.ChatMsg:
		f.chatTexts[b.Text] = true
	case *messages.Playlist:
		items, _ := b.Items()
		f.playlistLen[len(items)] = true
	case *messages.UserList:
		f.userlistLen[len(b.Users)] = true
	}
}

func (f *recordedFacts) check(t *testing.T) {
	t.Helper()
	wantSet(t, "cooldown millis", f.cooldowns, []int64{100, 1000})
	wantSet(t, "kick reasons", f.kicks, []string{"", "testing kick", "You're banned!", "You are banned from this channel.",
		"Duplicate login", "Invalid channel name"})
	wantSet(t, "login errors", f.loginErrors, []string{
		"Invalid username/password combination",
		"User does not exist",
		"That username is registered.",
		"Invalid username.  Usernames must be 1-20 characters long and consist only of characters a-z, A-Z, 0-9, -, or _.",
		`Invalid username "bad name!"`,
		"That username is reserved.",
		"Guest logins are restricted to one per IP address per 60 seconds.",
	})
	wantSet(t, "ranks", f.ranks, []float64{-1, 0, 1, 2, 5})
	wantSet(t, "guest logins", f.guestLogins, []string{"guest_bob"})
	for _, n := range []int{0, 2000} {
		if !f.playlistLen[n] {
			t.Errorf("no playlist with %d items decoded", n)
		}
	}
	for _, n := range []int{602, 603} {
		if !f.userlistLen[n] {
			t.Errorf("no userlist with %d users decoded", n)
		}
	}
	for _, text := range []string{"alice joined (aliases: alice)", `¯\(ツ)/¯`, "waves at everyone"} {
		if !f.chatTexts[text] {
			t.Errorf("no chat line with text %q", text)
		}
	}
}

func wantSet[K comparable](t *testing.T, what string, got map[K]bool, want []K) {
	t.Helper()
	wantMap := map[K]bool{}
	for _, k := range want {
		wantMap[k] = true
	}
	if !reflect.DeepEqual(got, wantMap) {
		t.Errorf("%s = %v, want %v", what, got, wantMap)
	}
}

// Events documented in the README but absent from the kept recordings.
func TestDecodeDocumentedEvents(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    any
	}{
		{"queue", `{"item":{"media":{"id":"http://x/v.json","title":"T","seconds":90,"duration":"01:30","type":"cm","meta":{}},"uid":5,"temp":true,"queueby":"dazbot"},"after":"prepend"}`,
			&messages.Queue{Item: messages.PlaylistItem{Media: messages.Media{ID: "http://x/v.json", Title: "T", Seconds: 90, Duration: "01:30", Type: "cm", Meta: json.RawMessage(`{}`)},
				UID: 5, Temp: true, QueueBy: "dazbot"}, After: json.RawMessage(`"prepend"`)}},
		{"queueFail", `{"msg":"This item is already on the playlist","link":"http://x/v.json","id":"http://x/v.json"}`,
			&messages.QueueFail{Msg: "This item is already on the playlist", Link: "http://x/v.json", ID: "http://x/v.json"}},
		{"delete", `{"uid":3}`, &messages.Delete{UID: 3}},
		{"delete", `2`, &messages.Delete{UID: 2}},
		{"voteskip", `{"count":0,"need":1}`, &messages.VoteSkip{Count: 0, Need: 1}},
		{"setCurrent", `12`, &messages.SetCurrent{UID: 12}},
		{"playlist", `[]`, &messages.Playlist{Raw: json.RawMessage(`[]`)}},
		{"partitionChange", `{"servers":[]}`, &messages.PartitionChange{Config: json.RawMessage(`{"servers":[]}`)}},
		{"setMotd", `{"motd":"<b>hi</b>"}`, &messages.SetMotd{HTML: "<b>hi</b>"}},
		{"rank", `1.5`, &messages.Rank{Rank: 1.5}},
		{"pm", `{"username":"alice","msg":"a &amp;amp; b","meta":{},"time":5,"to":"dazbot"}`,
			&messages.Pm{Username: "alice", To: "dazbot", Msg: "a &amp;amp; b", Meta: json.RawMessage(`{}`), Time: 5, Text: "a &amp; b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.payload, func(t *testing.T) {
			ev, err := DecodeEvent("c", 1, time.Time{}, tt.name, json.RawMessage(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev.Body, tt.want) {
				t.Fatalf("body = %#v\nwant %#v", ev.Body, tt.want)
			}
		})
	}
}

func TestDecodeUnknownEventIsRaw(t *testing.T) {
	payload := json.RawMessage(`{"title":"poll","options":["a"]}`)
	ev, err := DecodeEvent("c", 3, time.Time{}, "newPoll", payload)
	if err != nil {
		t.Fatalf("unknown event reported an error: %v", err)
	}
	raw, ok := ev.Body.(*messages.RawEvent)
	if !ok || raw.Name != "newPoll" || string(raw.Payload) != string(payload) || string(ev.Raw) != string(payload) {
		t.Fatalf("body %#v raw %q", ev.Body, ev.Raw)
	}
}

// A known name with a payload of the wrong shape keeps every byte as a
// RawEvent and reports a countable error.
func TestDecodeWrongShapeKeepsRawBytes(t *testing.T) {
	tests := []struct{ name, payload string }{
		{"chatMsg", `"just a string"`},
		{"chatMsg", `{"username":"a","msg":12345,"meta":{},"time":1}`},
		{"chatMsg", `null`},
		{"chatMsg", ``},
		{"pm", `[]`},
		{"rank", `"2"`},
		{"rank", `null`},
		{"rank", ``},
		{"cooldown", `1.5`},
		{"cooldown", `{"ms":100}`},
		{"login", `true`},
		{"kick", `{"reason":5}`},
		{"userlist", `{"name":"a"}`},
		{"userlist", `[{"name":1}]`},
		{"playlist", `null`},
		{"setPermissions", `{"chat":"x"}`},
		{"setPlaylistLocked", `1`},
		{"needPassword", `"yes"`},
		{"usercount", `-`},
		{"delete", `"3"`},
		{"delete", `{"uid":"3"}`},
		{"setMotd", `5`},
		{"setMotd", `{"html":"x"}`},
		{"emoteList", `{}`},
		{"partitionChange", `[]`},
		{"banlist", `[1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.payload, func(t *testing.T) {
			var payload json.RawMessage
			if tt.payload != "" {
				payload = json.RawMessage(tt.payload)
			}
			ev, err := DecodeEvent("c", 9, time.Time{}, tt.name, payload)
			var de *DecodeError
			if !errors.As(err, &de) || de.Name != tt.name || !errors.Is(err, ErrPayloadShape) {
				t.Fatalf("err = %v, want a *DecodeError for %s", err, tt.name)
			}
			if ev == nil {
				t.Fatal("no event returned with the decode error")
			}
			raw, ok := ev.Body.(*messages.RawEvent)
			if !ok || raw.Name != tt.name || string(raw.Payload) != tt.payload || string(ev.Raw) != tt.payload || ev.Seq != 9 {
				t.Fatalf("event %#v body %#v", ev, ev.Body)
			}
		})
	}
}

func TestEventFromPacketKeepsExtraArguments(t *testing.T) {
	p, err := Parse([]byte(`42["chatMsg",{"msg":"a"},{"b":1}]`))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := EventFromPacket("c", 1, time.Time{}, &p)
	if !errors.Is(err, ErrPayloadShape) {
		t.Fatalf("err = %v", err)
	}
	if string(ev.Raw) != `[{"msg":"a"},{"b":1}]` {
		t.Fatalf("raw = %s", ev.Raw)
	}
	if _, ok := ev.Body.(*messages.RawEvent); !ok {
		t.Fatalf("body %T", ev.Body)
	}
	ping := Packet{Type: TypePing}
	if _, err := EventFromPacket("c", 1, time.Time{}, &ping); err == nil {
		t.Fatal("EventFromPacket accepted a ping")
	}
}
